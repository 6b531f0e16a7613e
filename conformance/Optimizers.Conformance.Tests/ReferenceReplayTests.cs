using System.Text;
using Xunit.Abstractions;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// Replays conformance/golden/upstream-public.json through the F# reference, teacher-forced: before every step the
/// recorded parameters and state are loaded, so a difference stays local to the step that made it.
/// The closeness bound here is provisional and self-contained (the conformance tolerance model will replace it):
/// |expected − actual| ≤ 8·u·(sum of the magnitudes of the terms that produce the value), with u = 2^-53 when the
/// case runs float64 parameters with float64 state, and the unit roundoff of the narrowest dtype involved
/// otherwise (2^-24 for float32).
/// </summary>
public sealed class ReferenceReplayTests(ITestOutputHelper output)
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(GoldenPath()));
    static readonly ReferenceImplementation Reference = new();

    static string GoldenPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Optimizers.sln")))
                return Path.Combine(dir.FullName, "conformance", "golden", "upstream-public.json");
        throw new FileNotFoundException("no folder above the test binaries holds Optimizers.sln");
    }

    public static TheoryData<string> CaseIds() => new(Golden.Value.Cases.Select(c => c.Id));

    public static TheoryData<string> ErrorIds() => new(Golden.Value.Errors.Select(e => e.Id));

    // Unit roundoff of the narrowest dtype the case stores anything in (parameters or any group's state).
    static double UnitRoundoff(TrajectoryCase c)
    {
        static double Of(RecordedDType d) => d switch
        {
            RecordedDType.Float64 => Math.Pow(2, -53),
            RecordedDType.Float32 => Math.Pow(2, -24),
            RecordedDType.Float16 => Math.Pow(2, -11),
            _ => Math.Pow(2, -8),
        };
        var dtypes = new List<RecordedDType> { c.ParamDType };
        foreach (var g in c.Groups)
            foreach (var key in new[] { "state_dtype", "trunk_state_dtype" })
                if (g.Has(key) && g.DType(key) is { } d) dtypes.Add(d);
        return dtypes.Max(Of);
    }

    // The magnitudes of the terms that produce one element of a buffer, from the values going into the step.
    static double Terms(string buffer, double previous, double gradient, double expected) => buffer switch
    {
        "exp_avg" or "trunk_momentum_buffer" => Math.Abs(previous) + Math.Abs(gradient),
        "exp_avg_sq" or "max_exp_avg_sq" => Math.Abs(previous) + gradient * gradient,
        "beta1_power" or "beta2_power" => Math.Abs(previous),
        "step" => 0.0,
        _ => Math.Abs(previous) + Math.Abs(expected),
    };

    static bool Close(double expected, double actual, double bound) =>
        double.IsNaN(expected) ? double.IsNaN(actual)
        : double.IsInfinity(expected) ? expected == actual
        : Math.Abs(expected - actual) <= bound;

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Case_replays_teacher_forced_within_the_provisional_bound(string id)
    {
        var c = Golden.Value.Cases.Single(x => x.Id == id);
        Assert.True(Reference.Supports(c, out var reason), reason);
        double u = UnitRoundoff(c);
        // In float64 the reference multiplies the same loaded P by the same β as upstream, so 1 − P carries no extra
        // error and the float64 bound stays a few ulps of the terms; the condition weight is for narrower state only.
        bool float64Throughout = u == Math.Pow(2, -53);
        using var session = Reference.Start(c);
        var failures = new StringBuilder();
        IReadOnlyList<double[]> paramsBefore = c.Params.Select(p => p.Init).ToList();
        IReadOnlyDictionary<int, ParamState> stateBefore = new Dictionary<int, ParamState>();
        for (int step = 0; step < c.Steps.Count; step++)
        {
            var recorded = c.Steps[step];
            session.LoadParams(paramsBefore);
            session.LoadState(stateBefore);
            session.Step(recorded.Grads);

            var actualParams = session.Params();
            for (int p = 0; p < recorded.ParamsAfter.Count; p++)
                Compare(failures, step, $"param {p}", "param", paramsBefore[p], recorded.Grads[p], recorded.ParamsAfter[p], actualParams[p], u,
                    float64Throughout ? 0.0 : BiasCorrectionCondition(recorded.State.GetValueOrDefault(p)));

            var actualState = session.State();
            foreach (var (index, expectedState) in recorded.State)
            {
                if (!actualState.TryGetValue(index, out var mine)) { failures.AppendLine($"step {step}: parameter {index} has recorded state, the reference has none"); continue; }
                foreach (var (buffer, expected) in expectedState)
                {
                    if (!mine.TryGetValue(buffer, out var actual)) { failures.AppendLine($"step {step}: parameter {index} lacks '{buffer}'"); continue; }
                    double[]? previous = stateBefore.TryGetValue(index, out var sb) && sb.TryGetValue(buffer, out var pb) ? pb : null;
                    previous ??= buffer is "beta1_power" or "beta2_power" ? [1.0] : new double[expected.Length];
                    Compare(failures, step, $"state[{index}].{buffer}", buffer, previous, recorded.Grads[index], expected, actual, u);
                }
            }
            foreach (var index in actualState.Keys.Except(recorded.State.Keys))
                failures.AppendLine($"step {step}: the reference created state for parameter {index}, upstream has none");

            paramsBefore = recorded.ParamsAfter;
            stateBefore = recorded.State;
        }
        Assert.True(failures.Length == 0, $"{id}:\n{failures}");
    }

    // The HomeAdam family divides by 1 − P1 and 1 − P2, running products kept in the state dtype; an error of u in P
    // becomes an error of u·(1 + P)/(1 − P) relative in the update (P = 0.99 after one step: a factor of 199). So the
    // update's term is weighted by that condition number; AdamW's corrections come from β^t in double and need none.
    static double BiasCorrectionCondition(ParamState? stateAfter)
    {
        if (stateAfter is null || !stateAfter.TryGetValue("beta1_power", out var p1) || !stateAfter.TryGetValue("beta2_power", out var p2)) return 0.0;
        return (1 + p1[0]) / (1 - p1[0]) + (1 + p2[0]) / (1 - p2[0]);
    }

    static void Compare(StringBuilder failures, int step, string what, string buffer, double[] previous, double[]? grad, double[] expected, double[] actual, double u,
        double updateCondition = 0.0)
    {
        if (expected.Length != actual.Length) { failures.AppendLine($"step {step}: {what} has {actual.Length} elements, expected {expected.Length}"); return; }
        int reported = 0;
        for (int j = 0; j < expected.Length; j++)
        {
            double g = grad is null ? 0.0 : grad[j];
            double before = previous.Length == expected.Length ? previous[j] : previous[0];
            double bound = 8 * u * (Terms(buffer, before, g, expected[j]) + updateCondition * Math.Abs(expected[j] - before));
            if (!Close(expected[j], actual[j], bound) && reported++ < 3)
                failures.AppendLine($"step {step}: {what}[{j}] expected {expected[j]:R} actual {actual[j]:R} |diff| {Math.Abs(expected[j] - actual[j]):E3} bound {bound:E3}");
        }
    }

    [Theory]
    [MemberData(nameof(ErrorIds))]
    public void Error_record_raises_the_same_kind_for_the_same_argument(string id)
    {
        var record = Golden.Value.Errors.Single(e => e.Id == id);
        var outcome = Reference.Replay(record);
        output.WriteLine($"{id}: upstream {record.Exception ?? "accepted"} -> reference {outcome.Kind ?? (outcome.Unsupported is null ? "accepted" : "not expressible")} " +
                         $"argument {outcome.Argument ?? "-"}; {outcome.Unsupported ?? outcome.Message}");
        if (outcome.Unsupported is not null)
        {
            // Only records whose scenario has no counterpart in a pure .NET reference may be declined, and never silently.
            Assert.False(string.IsNullOrWhiteSpace(outcome.Unsupported));
            return;
        }
        Assert.True(record.Exception == outcome.Kind, $"{id}: upstream raised {record.Exception ?? "nothing"} ({record.Message}); the reference gave {outcome.Kind ?? "nothing"} ({outcome.Message})");
        if (record.Stage == "constructor" && record.Exception is not null)
            Assert.Equal(UpstreamKwargs.ArgumentNamedBy(record.Message), outcome.Argument);
    }
}

/// <summary>How the reference adapter orders errors that upstream raises at different points of STAC's constructor.</summary>
public sealed class ReferenceStacConstructorOrderTests
{
    static ErrorOutcome Replay(string argsJson)
    {
        var args = new Dictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal);
        foreach (var p in System.Text.Json.JsonDocument.Parse(argsJson).RootElement.EnumerateObject()) args[p.Name] = p.Value.Clone();
        return new ReferenceImplementation().Replay(new ErrorRecord("synthetic", "STAC", "constructor", args, null, null, null, null));
    }

    [Theory]
    [InlineData("{\"last_n_layers\": 1.5}", "TypeError", "last_n_layers")]
    [InlineData("{\"last_n_layers\": 1.5, \"lr\": -1.0}", "ValueError", "lr")]
    [InlineData("{\"last_n_layers\": 1.5, \"trunk_state_dtype\": \"int8\"}", "ValueError", "trunk_state_dtype")]
    [InlineData("{\"last_n_layers\": 1.5, \"model\": \"Linear(2,2) all frozen\"}", "ValueError", "model")]
    [InlineData("{\"last_n_layers\": 1.5, \"trunk_lr\": -1.0}", "TypeError", "last_n_layers")]
    [InlineData("{\"last_n_layers\": -1, \"trunk_lr\": -1.0}", "ValueError", "last_n_layers")]
    [InlineData("{\"trunk_momentum\": 1.0, \"trunk_state_dtype\": \"int8\"}", "ValueError", "trunk_momentum")]
    public void A_non_integral_last_n_layers_fails_where_upstream_slices(string args, string kind, string argument)
    {
        var outcome = Replay(args);
        Assert.Equal((kind, argument), (outcome.Kind, outcome.Argument));
    }
}
