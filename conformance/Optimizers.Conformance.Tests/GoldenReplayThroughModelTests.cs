using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Xunit.Abstractions;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// The tolerance model against upstream itself: its own float64 evaluation of every formula must land within its own
/// bound of every recorded value. A bound that is too tight, or a formula in the wrong order, fails here.
/// </summary>
public sealed class GoldenReplayThroughModelTests(ITestOutputHelper output)
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(RepositoryLayout.PublicGolden()));

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value.Cases) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Teacher_forced_model_lies_within_its_bound_of_upstream(string id)
    {
        var c = Golden.Value.Cases.Single(x => x.Id == id);
        var result = Replayer.ReplayCase(c, new ToleranceModelImplementation(), new ReplayOptions());
        output.WriteLine($"{id}: {result.Verdict} max {result.MaxUlp:G3} ulp, rel {result.MaxRelative:G3}, ambiguous {result.Ambiguous}");
        foreach (var w in result.Worst) output.WriteLine($"  {w}");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} first failure: {result.FirstFailure}");
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Free_running_model_stays_within_its_growing_bound(string id)
    {
        var c = Golden.Value.Cases.Single(x => x.Id == id);
        var result = Replayer.ReplayCase(c, new ToleranceModelImplementation(), new ReplayOptions(FreeRunning: true));
        output.WriteLine($"{id}: {result.Verdict} max {result.MaxUlp:G3} ulp, resyncs {result.Resyncs}");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} first failure: {result.FirstFailure}");
    }
}
