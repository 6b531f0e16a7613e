using System.Text.Json;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Lockstep;

/// <summary>
/// Steps a trusted implementation (the float64 reference) and a candidate (a production backend) side by side through
/// the same gradients and compares every parameter and every state buffer after every step under the tolerance model,
/// in the manner of PyTorch's TensorTracker: teacher-forced mode re-aligns the candidate to the trusted values after
/// each step, so a failure is local to the step that caused it; free-running mode lets both run and measures drift.
/// </summary>
public static class LockstepRunner
{
    public static CaseResult Run(TrajectoryCase c, IImplementation trusted, IImplementation candidate, bool freeRunning = false, int? maxSteps = null)
    {
        if (!trusted.Supports(c, out var why)) return Unsupported(c, $"{trusted.Name}: {why}");
        if (!candidate.Supports(c, out why)) return Unsupported(c, $"{candidate.Name}: {why}");
        if (!ToleranceModel.Supports(c.Optimizer)) return Unsupported(c, $"the tolerance model has no formula for {c.Optimizer}");

        var budget = new ErrorBudget(Replayer.SideFor(trusted), Replayer.SideFor(candidate));
        var tally = new CaseTally(c, ComparisonMode.Tolerance);
        int steps = Math.Min(c.Steps.Count, maxSteps ?? int.MaxValue);
        var noExtra = new Dictionary<string, JsonElement>();
        try
        {
            using var expected = trusted.Start(c);
            using var actual = candidate.Start(c);
            var carried = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
            for (int t = 0; t < steps; t++)
            {
                var grads = c.Steps[t].Grads;
                if (!freeRunning)
                {
                    var (parameters, state) = (Copy(expected.Params()), Copy(expected.State()));
                    actual.LoadParams(parameters);
                    actual.LoadState(state);
                    carried = BoundState.Exact(parameters, state);
                }
                var bounds = ToleranceModel.Step(c, carried, grads, budget);
                expected.Step(grads);
                actual.Step(grads);
                var record = new RecordedStep(grads, Copy(expected.Params()), Copy(expected.State()), noExtra);
                tally.CompareStep(t, record, actual.Params(), actual.State(), bounds);

                bool resync = freeRunning && bounds.AmbiguousDecisions > 0;
                if (resync)
                {
                    actual.LoadParams(record.ParamsAfter);
                    actual.LoadState(record.State);
                    carried = BoundState.Exact(record.ParamsAfter, record.State);
                    tally.Resyncs++;
                }
                else carried = bounds.After;
                tally.EndStep(t, bounds.AdaptiveFraction, resync);
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

    static List<double[]> Copy(IReadOnlyList<double[]> values) => values.Select(v => (double[])v.Clone()).ToList();

    static Dictionary<int, ParamState> Copy(IReadOnlyDictionary<int, ParamState> state) =>
        state.ToDictionary(kv => kv.Key, kv => new ParamState(kv.Value.ToDictionary(b => b.Key, b => (double[])b.Value.Clone())));
}
