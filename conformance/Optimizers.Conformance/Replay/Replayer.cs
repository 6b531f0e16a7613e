using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Replay;

/// <summary>
/// Replays recorded trajectories through an implementation and holds every parameter and every recorded state buffer
/// against the record: under the tolerance model, or bit for bit for production.
/// </summary>
/// <remarks>
/// Teacher forcing (the default) loads the recorded parameters and state before each step, so a discrepancy stays in
/// the step that caused it and the model's bounds start from exact inputs. Free running starts from the initial values
/// only; the model carries its bounds across steps (they keep growing), and after a decision taken inside an ambiguity
/// zone both the implementation and the model are re-synchronised from the record, since the trajectories may
/// legitimately part there.
/// </remarks>
public static class Replayer
{
    public const int WorstKept = 10;

    public static ComparisonMode ModeFor(IImplementation implementation) =>
        implementation.Name.StartsWith("production", StringComparison.Ordinal) ? ComparisonMode.BitExact : ComparisonMode.Tolerance;

    /// <summary>
    /// The dtypes an implementation computes in, for its side of the error budget: as declared; else production follows
    /// upstream's dtypes; anything else (the reference) is float64 throughout.
    /// </summary>
    public static ArithmeticSide SideFor(IImplementation implementation) =>
        implementation is IDeclaresArithmetic declared ? declared.Arithmetic
        : implementation.Name.StartsWith("production", StringComparison.Ordinal) ? ArithmeticSide.AsRecorded
        : ArithmeticSide.Float64;

    public static ReplayReport ReplayFile(TrajectoryFile file, IImplementation implementation, ReplayOptions options,
        string source = "", Func<TrajectoryCase, bool>? filter = null, Action<string>? progress = null)
    {
        var mode = options.Mode ?? ModeFor(implementation);
        var cases = new List<CaseResult>();
        foreach (var c in file.Cases.Where(c => filter?.Invoke(c) ?? true))
        {
            cases.Add(ReplayCase(c, implementation, options));
            progress?.Invoke(c.Id);
        }
        var errors = file.Errors.Select(e => ReplayError(e, implementation)).ToList();
        return new ReplayReport(source, implementation.Name, mode == ComparisonMode.BitExact ? "bit-exact" : "tolerance",
            options.FreeRunning, cases, errors);
    }

    public static CaseResult ReplayCase(TrajectoryCase c, IImplementation implementation, ReplayOptions options)
    {
        var mode = options.Mode ?? ModeFor(implementation);
        int steps = Math.Min(c.Steps.Count, options.MaxSteps ?? int.MaxValue);
        if (!implementation.Supports(c, out var reason))
            return Unsupported(c, reason ?? "the implementation gave no reason");
        bool modelKnows = ToleranceModel.Supports(c.Optimizer);
        if (mode == ComparisonMode.Tolerance && !modelKnows)
            return Unsupported(c, $"the tolerance model has no formula for {c.Optimizer}");

        var budget = new ErrorBudget(ArithmeticSide.AsRecorded, SideFor(implementation));
        var tally = new CaseTally(c, mode);
        var emptyState = new Dictionary<int, ParamState>();
        try
        {
            using var session = implementation.Start(c);
            var carried = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), emptyState);
            for (int t = 0; t < steps; t++)
            {
                var record = c.Steps[t];
                if (!options.FreeRunning)
                {
                    var parameters = t == 0 ? c.Params.Select(p => p.Init).ToList() : c.Steps[t - 1].ParamsAfter.ToList();
                    var state = t == 0 ? emptyState : c.Steps[t - 1].State;
                    session.LoadParams(parameters);
                    session.LoadState(state);
                    carried = BoundState.Exact(parameters, state);
                }

                var bounds = modelKnows ? ToleranceModel.Step(c, carried, record.Grads, budget) : null;
                session.Step(record.Grads);
                tally.CompareStep(t, record, session.Params(), session.State(), bounds);

                bool resync = options.FreeRunning && mode == ComparisonMode.Tolerance && bounds is { AmbiguousDecisions: > 0 };
                if (resync)
                {
                    session.LoadParams(record.ParamsAfter);
                    session.LoadState(record.State);
                    carried = BoundState.Exact(record.ParamsAfter, record.State);
                    tally.Resyncs++;
                }
                else if (bounds is not null) carried = bounds.After;
                tally.EndStep(t, bounds?.AdaptiveFraction, resync);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return tally.Result(steps, $"{e.GetType().Name}: {e.Message}");
        }
        return tally.Result(steps, null);
    }

    static CaseResult Unsupported(TrajectoryCase c, string reason) =>
        new(c.Id, c.Optimizer, Verdict.Unsupported, 0, 0, 0, 0, 0, null, [], [], reason);

    public static ErrorRecordResult ReplayError(ErrorRecord record, IImplementation implementation)
    {
        string? expectedArgument = UpstreamMessages.ArgumentOf(record);
        ErrorOutcome outcome;
        try
        {
            outcome = implementation.Replay(record);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new ErrorRecordResult(record.Id, record.Optimizer, record.Stage, Verdict.Fail, record.Exception, expectedArgument,
                e.GetType().Name, null, $"the adapter itself threw: {e.Message}");
        }
        if (outcome.Unsupported is { } why)
            return new ErrorRecordResult(record.Id, record.Optimizer, record.Stage, Verdict.Unsupported, record.Exception, expectedArgument,
                null, null, why);

        string? actualArgument = outcome.Argument is { } a ? UpstreamMessages.Canonical(a) : UpstreamMessages.ArgumentOf(outcome.Message);
        bool kindMatches = string.Equals(record.Exception, outcome.Kind, StringComparison.OrdinalIgnoreCase);
        bool argumentMatches = record.Exception is null || expectedArgument is null || expectedArgument == actualArgument;
        string? detail = (kindMatches, argumentMatches) switch
        {
            (true, true) => null,
            (false, _) => $"expected {record.Exception ?? "acceptance"}, got {outcome.Kind ?? "acceptance"}" + (outcome.Message is { } msg ? $" ({msg})" : ""),
            _ => $"{record.Exception} names '{expectedArgument}' upstream but '{actualArgument ?? "nothing"}' here ({outcome.Message})",
        };
        return new ErrorRecordResult(record.Id, record.Optimizer, record.Stage, detail is null ? Verdict.Pass : Verdict.Fail,
            record.Exception, expectedArgument, outcome.Kind, actualArgument, detail);
    }
}
