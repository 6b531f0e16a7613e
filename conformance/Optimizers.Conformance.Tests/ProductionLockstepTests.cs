using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;
using Optimizers.Kernels;
using Xunit.Abstractions;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// What <c>run</c> does over the case registry, as theories fed by the same registry: production held against the F#
/// reference in lockstep under the tolerance model, teacher-forced and free-running.
/// </summary>
public sealed class ProductionLockstepTests(ITestOutputHelper output)
{
    public static TheoryData<string> RegistryIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in CaseRegistry.All) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(RegistryIds))]
    public void Production_agrees_with_the_reference_teacher_forced(string id) => AssertPasses(id, freeRunning: false);

    [Theory]
    [MemberData(nameof(RegistryIds))]
    public void Production_agrees_with_the_reference_free_running(string id) => AssertPasses(id, freeRunning: true);

    // The float32 candidate rounds the reference's float64 values when it is re-aligned; a parameter without a gradient
    // keeps the rounded value, so the two sides differed by up to half an ulp where the model (rightly) allows nothing.
    [Fact]
    public void A_parameter_without_a_gradient_keeps_exactly_the_value_both_sides_started_from()
    {
        var spec = CaseRegistry.Get("homeadam_no_gradient_steps");
        Assert.Contains((3, 0), spec.Gradients.NoGradient!);
        var result = LockstepRunner.Run(spec.Build(), new ReferenceImplementation(), new ProductionImplementation(KernelPath.Scalar));
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
    }

    // Registry cases with a module tree must be what a golden STAC case is: parameters named by their qualified names,
    // one entry per tensor, in registration order. Both adapters then build the same tree from them.
    [Fact]
    public void Registry_module_trees_name_parameters_as_the_golden_format_does()
    {
        foreach (var spec in CaseRegistry.All.Where(s => s.Model is not null))
        {
            var c = spec.Build();
            var owned = spec.Model!.SelectMany(m => m.Params).Where(p => p.AliasOf is null).Select(p => p.Qualified);
            Assert.Equal(owned, c.Params.Select(p => p.Name));
            var names = c.Params.Select(p => p.Name).ToHashSet();
            Assert.All(c.Groups, g => Assert.All(g.Options["param_names"].EnumerateArray(), n => Assert.Contains(n.GetString()!, names)));
            Assert.All(c.Groups, g => Assert.Equal(g.ParamIndices.Select(i => c.Params[i].Name), g.Options["param_names"].EnumerateArray().Select(n => n.GetString())));
        }
    }

    void AssertPasses(string id, bool freeRunning)
    {
        var spec = CaseRegistry.Get(id);
        // Free running goes over the drift horizon, as the drift rows of `run` do.
        var trajectory = freeRunning ? spec.Build(spec.DriftStepCount) : spec.Build();
        var result = LockstepRunner.Run(trajectory, new ReferenceImplementation(), new ProductionImplementation(KernelPath.Scalar), freeRunning);
        output.WriteLine($"{id}: {result.Verdict}, {result.Steps} steps, max {result.MaxUlp:G3} ulp, ambiguous {result.Ambiguous}, resyncs {result.Resyncs}");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
    }
}
