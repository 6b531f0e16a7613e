namespace Optimizers.Conformance.Replay;

public enum Verdict { Pass, Fail, Unsupported }

/// <summary>One compared element that failed, or one of the worst elements of a case.</summary>
/// <param name="Buffer"><c>params[i]</c> or <c>state[i].name</c> (upstream's buffer name, parameter index <c>i</c>).</param>
/// <param name="Index">Flat, row-major element index.</param>
/// <param name="Allowed">The error the tolerance model allowed (0 in bit-exact mode).</param>
/// <param name="Severity">Error over allowed error (tolerance) or ulps (bit-exact); above 1 fails.</param>
public sealed record ElementReport(int Step, string Buffer, int Index, double Expected, double Actual, double Ulps, double Relative,
    double Allowed, double Severity, string? Note = null);

/// <summary>Per step of one case: what the charts plot.</summary>
/// <param name="AdaptiveFraction">HomeAdam family: fraction of stepped elements on the adaptive branch (the model's decision).</param>
public sealed record StepSummary(int Step, double MaxUlp, double MaxRelative, double MaxSeverity, int Ambiguous, double? AdaptiveFraction, bool Resynced);

public sealed record CaseResult(
    string Id,
    string Optimizer,
    Verdict Verdict,
    int Steps,
    double MaxUlp,
    double MaxRelative,
    int Ambiguous,
    int Resyncs,
    ElementReport? FirstFailure,
    IReadOnlyList<ElementReport> Worst,
    IReadOnlyList<StepSummary> PerStep,
    string? Reason)
{
    /// <summary>Elements (of <see cref="Ambiguous"/>) whose model bound was infinite, so only their class was checked.</summary>
    public int Unbounded { get; init; }
}

/// <summary>A recorded bad-input record replayed: the same kind of error for the same argument, or acceptance.</summary>
public sealed record ErrorRecordResult(
    string Id,
    string Optimizer,
    string Stage,
    Verdict Verdict,
    string? ExpectedKind,
    string? ExpectedArgument,
    string? ActualKind,
    string? ActualArgument,
    string? Detail);

public sealed record ReplayReport(
    string Source,
    string Implementation,
    string Mode,
    bool FreeRunning,
    IReadOnlyList<CaseResult> Cases,
    IReadOnlyList<ErrorRecordResult> Errors)
{
    /// <summary>Every case and every error record passed or was unsupported with a reason.</summary>
    public bool Passed =>
        Cases.All(c => c.Verdict == Verdict.Pass || (c.Verdict == Verdict.Unsupported && !string.IsNullOrWhiteSpace(c.Reason)))
        && Errors.All(e => e.Verdict == Verdict.Pass || (e.Verdict == Verdict.Unsupported && !string.IsNullOrWhiteSpace(e.Detail)));

    /// <summary>
    /// No case ran (a backend this machine lacks): the row must say unsupported, with the reason, not pass, since it
    /// proved nothing about stepping.
    /// </summary>
    public bool CheckedNoCase => Cases.Count > 0 && Cases.All(c => c.Verdict == Verdict.Unsupported);

    /// <summary>"pass", "fail", or "unsupported" when <see cref="CheckedNoCase"/>.</summary>
    public string Outcome => !Passed ? "fail" : CheckedNoCase ? "unsupported" : "pass";

    /// <summary>The distinct reasons the unsupported cases give, for the line under the results table.</summary>
    public IReadOnlyList<string> UnsupportedReasons =>
        Cases.Where(c => c.Verdict == Verdict.Unsupported).Select(c => c.Reason ?? "no reason given").Distinct().ToList();
}

/// <summary>How to replay.</summary>
/// <param name="FreeRunning">From the initial values only, carrying bounds across steps; re-synced after an ambiguous decision.</param>
/// <param name="Mode">Forces a comparison mode; by default names starting with <c>production</c> compare bit-exactly.</param>
/// <param name="MaxSteps">Replays only the first steps of each case.</param>
public sealed record ReplayOptions(bool FreeRunning = false, Tolerance.ComparisonMode? Mode = null, int? MaxSteps = null);

/// <summary>Optional: an implementation that says in which dtypes it computes, for its side of the error budget.</summary>
public interface IDeclaresArithmetic
{
    Tolerance.ArithmeticSide Arithmetic { get; }
}

/// <summary>Optional: one adapter type that offers several named implementations (e.g. production's kernel paths).</summary>
public interface IImplementationFamily
{
    IEnumerable<IImplementation> Members();
}
