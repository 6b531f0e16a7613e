using Xunit.Abstractions;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// Replays conformance/golden/upstream-public.json through the F# reference under the project's one tolerance model
/// (paper-notes/numerics.md): teacher-forced (the recorded parameters and state are loaded before every step, so a
/// difference stays local to the step that made it) and free-running from the initial values. Float64 cases with
/// float64 state are held to the model's float64 bound, a few ulps of the magnitudes of the terms.
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

    public static TheoryData<string, bool> CaseIds()
    {
        var data = new TheoryData<string, bool>();
        foreach (var c in Golden.Value.Cases) { data.Add(c.Id, false); data.Add(c.Id, true); }
        return data;
    }

    public static TheoryData<string> ErrorIds() => new(Golden.Value.Errors.Select(e => e.Id));

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Case_replays_within_the_tolerance_model(string id, bool freeRunning)
    {
        var c = Golden.Value.Cases.Single(x => x.Id == id);
        var result = Replayer.ReplayCase(c, Reference, new ReplayOptions(FreeRunning: freeRunning));
        output.WriteLine($"{id}: {result.Verdict}, max {result.MaxUlp:G3} ulp, max rel {result.MaxRelative:G3}, ambiguous {result.Ambiguous}, resyncs {result.Resyncs}");
        Assert.True(result.Verdict == Verdict.Pass,
            $"{id}: {result.Verdict} {result.Reason}\n" + string.Join("\n", result.Worst.Take(10).Select(w => w.ToString())));
    }

    // The records the reference may decline, each a scenario a pure float64 reference has no counterpart for; pinned so
    // that a new or broken path cannot pass by declining with any non-blank reason.
    static readonly HashSet<string> DeclinedByReference = new(StringComparer.Ordinal)
    {
        "HomeAdam_closure_returns_loss",          // the reference's step is a pure function; no loss closure
        "STAC_params_iterable_instead_of_model",  // a Python type error; the reference's signature takes modules
        "STAC_add_param_group",                   // the reference's STAC has no add_param_group: groups come from the partition
    };

    [Theory]
    [MemberData(nameof(ErrorIds))]
    public void Error_record_raises_the_same_kind_for_the_same_argument(string id)
    {
        var record = Golden.Value.Errors.Single(e => e.Id == id);
        var outcome = Reference.Replay(record);
        output.WriteLine($"{id}: upstream {record.Exception ?? "accepted"} -> reference {outcome.Kind ?? (outcome.Unsupported is null ? "accepted" : "not expressible")} " +
                         $"argument {outcome.Argument ?? "-"}; {outcome.Unsupported ?? outcome.Message}");
        if (DeclinedByReference.Contains(id))
        {
            // Only records whose scenario has no counterpart in a pure .NET reference may be declined, and never silently.
            Assert.False(string.IsNullOrWhiteSpace(outcome.Unsupported), $"{id}: expected the reference to decline it with a reason");
            return;
        }
        Assert.True(outcome.Unsupported is null, $"{id}: the reference declined a record it must express: {outcome.Unsupported}");
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
