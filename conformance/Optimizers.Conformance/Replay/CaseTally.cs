using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Replay;

/// <summary>Accumulates the comparisons of one case: maxima, the first failure, the worst elements, per-step summaries.</summary>
internal sealed class CaseTally(TrajectoryCase c, ComparisonMode mode)
{
    readonly List<StepSummary> perStep = new();
    readonly List<ElementReport> worst = new();
    ElementReport? firstFailure;
    double maxUlp, maxRelative;
    int ambiguous, unbounded;
    double stepUlp, stepRelative, stepSeverity;
    int stepAmbiguous;

    public int Resyncs { get; set; }

    public void CompareStep(int step, RecordedStep record, IReadOnlyList<double[]> actualParams,
        IReadOnlyDictionary<int, ParamState> actualState, StepBounds? bounds)
    {
        stepUlp = stepRelative = stepSeverity = 0;
        stepAmbiguous = 0;
        for (int p = 0; p < record.ParamsAfter.Count; p++)
        {
            var buffer = $"params[{p}]";
            if (p >= actualParams.Count) { Missing(step, buffer, record.ParamsAfter[p], "parameter missing"); continue; }
            var bound = bounds?.After.Params.ElementAtOrDefault(p);
            CompareBuffer(step, buffer, p, record.ParamsAfter[p], actualParams[p], bound, c.ParamDType, bounds, alternativesApply: true);
        }

        foreach (var (index, buffers) in record.State)
        {
            actualState.TryGetValue(index, out var actualBuffers);
            foreach (var (name, expected) in buffers)
            {
                var buffer = $"state[{index}].{name}";
                if (actualBuffers is null || !actualBuffers.TryGetValue(name, out var actual))
                {
                    Missing(step, buffer, expected, "state buffer missing");
                    continue;
                }
                Approx[]? bound = null;
                if (bounds is not null && bounds.After.State.TryGetValue(index, out var modelBuffers)) modelBuffers.TryGetValue(name, out bound);
                var dtype = bounds is not null && bounds.StateDTypes.TryGetValue((index, name), out var d) ? d : c.ParamDType;
                CompareBuffer(step, buffer, index, expected, actual, bound, dtype, bounds, alternativesApply: false);
            }
        }
        foreach (var index in actualState.Keys.Where(i => !record.State.ContainsKey(i)))
            Fail(new ElementReport(step, $"state[{index}]", 0, double.NaN, double.NaN, double.PositiveInfinity, 1, 0, double.PositiveInfinity,
                "state exists here for a parameter upstream keeps no state for"));
    }

    void CompareBuffer(int step, string buffer, int param, double[] expected, double[] actual, Approx[]? bound, RecordedDType dtype,
        StepBounds? bounds, bool alternativesApply)
    {
        if (expected.Length != actual.Length)
        {
            Fail(new ElementReport(step, buffer, 0, expected.Length, actual.Length, double.PositiveInfinity, 1, 0, double.PositiveInfinity,
                $"{actual.Length} elements where upstream has {expected.Length}"));
            return;
        }
        for (int i = 0; i < expected.Length; i++)
        {
            // Without a model value for this buffer, the expected value with no slack: an exact comparison.
            Approx b = bound is not null && i < bound.Length ? bound[i] : Approx.Exact(expected[i]);
            List<Approx>? alternatives = null;
            if (alternativesApply && bounds is not null) bounds.Alternatives.TryGetValue((param, i), out alternatives);
            var v = ElementComparison.Compare(expected[i], actual[i], b, alternatives, dtype, mode);
            if (v.Ambiguous) { ambiguous++; stepAmbiguous++; }
            if (v.Unbounded) unbounded++;
            if (double.IsFinite(v.Ulps)) { maxUlp = Math.Max(maxUlp, v.Ulps); stepUlp = Math.Max(stepUlp, v.Ulps); }
            else if (!v.Pass) { maxUlp = double.PositiveInfinity; stepUlp = double.PositiveInfinity; }
            maxRelative = Math.Max(maxRelative, v.Relative);
            stepRelative = Math.Max(stepRelative, v.Relative);
            stepSeverity = Math.Max(stepSeverity, v.Severity);
            var report = new ElementReport(step, buffer, i, expected[i], actual[i], v.Ulps, v.Relative, v.Allowed, v.Severity,
                v.Unbounded ? "unbounded: only the class checked" : v.Ambiguous ? "inside an ambiguity zone" : null);
            if (!v.Pass) Fail(report);
            else if (v.Severity > 0) KeepWorst(report);
        }
    }

    void Missing(int step, string buffer, double[] expected, string note) =>
        Fail(new ElementReport(step, buffer, 0, expected.FirstOrDefault(double.NaN), double.NaN, double.PositiveInfinity, 1, 0,
            double.PositiveInfinity, note));

    void Fail(ElementReport report)
    {
        firstFailure ??= report;
        maxUlp = Math.Max(maxUlp, report.Ulps);
        KeepWorst(report);
    }

    void KeepWorst(ElementReport report)
    {
        if (worst.Count == Replayer.WorstKept && !(Rank(report) > Rank(worst[^1]))) return;
        worst.Add(report);
        worst.Sort((a, b) => Rank(b).CompareTo(Rank(a)));
        if (worst.Count > Replayer.WorstKept) worst.RemoveAt(worst.Count - 1);
    }

    static double Rank(ElementReport r) => double.IsNaN(r.Severity) ? double.PositiveInfinity : r.Severity;

    public void EndStep(int step, double? adaptiveFraction, bool resynced) =>
        perStep.Add(new StepSummary(step, stepUlp, stepRelative, stepSeverity, stepAmbiguous, adaptiveFraction, resynced));

    public CaseResult Result(int steps, string? error)
    {
        var verdict = error is null && firstFailure is null ? Verdict.Pass : Verdict.Fail;
        return new CaseResult(c.Id, c.Optimizer, verdict, steps, maxUlp, maxRelative, ambiguous, Resyncs, firstFailure,
            worst.ToList(), perStep.ToList(), error) { Unbounded = unbounded };
    }
}
