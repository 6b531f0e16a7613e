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
    /// <summary>Ends the name of a free-running lockstep row, telling it from the teacher-forced row of the same pair.</summary>
    public const string DriftSuffix = ", drift";

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
                if (!freeRunning) carried = Align(expected, actual, expected.Params(), expected.State());
                var bounds = ToleranceModel.Step(c, carried, grads, budget);
                expected.Step(grads);
                actual.Step(grads);
                var record = new RecordedStep(grads, Copy(expected.Params()), Copy(expected.State()), noExtra);
                tally.CompareStep(t, record, actual.Params(), actual.State(), bounds);

                bool resync = freeRunning && bounds.AmbiguousDecisions > 0;
                if (resync)
                {
                    carried = Align(expected, actual, record.ParamsAfter, record.State);
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

    /// <summary>
    /// Steps a ground-truth production path (the scalar C# kernel) and another production path (SIMD, threads, an
    /// accelerator) side by side from the same initial values, free-running over every step of the case, and requires
    /// equal bits in every parameter and state buffer after every step. No tolerance: the numerics contract makes every
    /// backend bit-identical to the scalar kernel. NaN matches NaN whatever its sign and payload (paper-notes/backends.md:
    /// IEEE 754 leaves open which operand's NaN an operation returns); every other value, ±0 included, must match bit
    /// for bit. Free-running because a difference then has every later step to grow into a visible one.
    /// </summary>
    public static CaseResult RunBitExact(TrajectoryCase c, IImplementation groundTruth, IImplementation candidate, int? maxSteps = null)
    {
        if (!groundTruth.Supports(c, out var why)) return Unsupported(c, $"{groundTruth.Name}: {why}");
        if (!candidate.Supports(c, out why)) return Unsupported(c, $"{candidate.Name}: {why}");

        var tally = new CaseTally(c, ComparisonMode.BitExact);
        int steps = Math.Min(c.Steps.Count, maxSteps ?? int.MaxValue);
        var noExtra = new Dictionary<string, JsonElement>();
        try
        {
            using var expected = groundTruth.Start(c);
            using var actual = candidate.Start(c);
            for (int t = 0; t < steps; t++)
            {
                var grads = c.Steps[t].Grads;
                expected.Step(grads);
                actual.Step(grads);
                var record = new RecordedStep(grads, Copy(expected.Params()), Copy(expected.State()), noExtra);
                tally.CompareStep(t, record, actual.Params(), actual.State(), bounds: null);
                tally.EndStep(t, adaptiveFraction: null, resynced: false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return tally.Result(steps, $"{e.GetType().Name}: {e.Message}");
        }
        return tally.Result(steps, null);
    }

    /// <summary>
    /// Loads the trusted values into the candidate, then loads the trusted side with what the candidate actually holds.
    /// A float32 candidate rounds float64 values on the way in; were the trusted side left on the unrounded values, the
    /// two would start the step from different inputs that the model, which prices only the step, knows nothing of
    /// (a parameter without a gradient would then "change" by up to half an ulp with an allowed error of zero). Golden
    /// replay never meets this because recorded values are already in the recorded dtypes.
    /// </summary>
    static BoundState Align(IReplaySession trusted, IReplaySession candidate,
        IReadOnlyList<double[]> parameters, IReadOnlyDictionary<int, ParamState> state)
    {
        candidate.LoadParams(Copy(parameters));
        candidate.LoadState(Copy(state));
        var (held, heldState) = (Copy(candidate.Params()), Copy(candidate.State()));
        trusted.LoadParams(Copy(held));
        trusted.LoadState(Copy(heldState));
        return BoundState.Exact(held, heldState);
    }

    static CaseResult Unsupported(TrajectoryCase c, string reason) =>
        new(c.Id, c.Optimizer, Verdict.Unsupported, 0, 0, 0, 0, 0, null, [], [], reason);

    static List<double[]> Copy(IReadOnlyList<double[]> values) => values.Select(v => (double[])v.Clone()).ToList();

    static Dictionary<int, ParamState> Copy(IReadOnlyDictionary<int, ParamState> state) =>
        state.ToDictionary(kv => kv.Key, kv => new ParamState(kv.Value.ToDictionary(b => b.Key, b => (double[])b.Value.Clone())));
}
