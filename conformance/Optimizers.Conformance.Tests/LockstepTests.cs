using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Tolerance;
using Xunit.Abstractions;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// The case registry through the lockstep runner. Until the F# reference is registered, the tolerance model's own
/// float64 evaluation is the trusted side; the candidates are the plain float64 implementation and its mutants.
/// </summary>
public sealed class LockstepTests(ITestOutputHelper output)
{
    public static TheoryData<string> RegistryIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in CaseRegistry.All) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(RegistryIds))]
    public void A_correct_float64_implementation_passes_every_registry_case_teacher_forced(string id)
    {
        var c = CaseRegistry.Get(id).Build();
        var result = LockstepRunner.Run(c, new ToleranceModelImplementation(), new PlainFloat64Optimizers());
        output.WriteLine($"{id}: {result.Verdict}, {result.Steps} steps, max severity {result.PerStep.Select(s => s.MaxSeverity).DefaultIfEmpty(0).Max():G3}, ambiguous {result.Ambiguous}");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
    }

    [Theory]
    [MemberData(nameof(RegistryIds))]
    public void A_correct_float64_implementation_passes_every_registry_case_free_running(string id)
    {
        var c = CaseRegistry.Get(id).Build();
        var result = LockstepRunner.Run(c, new ToleranceModelImplementation(), new PlainFloat64Optimizers(), freeRunning: true);
        output.WriteLine($"{id}: {result.Verdict}, resyncs {result.Resyncs}");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
    }

    [Fact]
    public void Strict_greater_at_tau_is_caught_where_vhat_is_exactly_tau()
    {
        foreach (var id in new[] { "homeadam_min_vhat_exactly_on_tau_dyadic", "homeadamew_vhat_exactly_on_tau_dyadic" })
        {
            var c = CaseRegistry.Get(id).Build();
            var result = LockstepRunner.Run(c, new ToleranceModelImplementation(), new PlainFloat64Optimizers(Mutation.StrictGreaterAtTau));
            output.WriteLine($"{id}: {result.Verdict} {result.FirstFailure}");
            Assert.Equal(Verdict.Fail, result.Verdict);
            Assert.Equal(0, result.FirstFailure!.Step);
        }
    }

    [Theory]
    [InlineData(Mutation.EpsInsideBiasCorrection)]
    [InlineData(Mutation.BiasCorrectionFromWrongStep)]
    [InlineData(Mutation.DecisionPerTensor)]
    [InlineData(Mutation.SignOfZeroIsOne)]
    [InlineData(Mutation.DecayAfterUpdate)]
    [InlineData(Mutation.TrunkLrScaledWithoutCap)]
    [InlineData(Mutation.StrictGreaterAtTau)]
    public void Every_mutant_is_caught_by_the_registry(Mutation mutation)
    {
        var caught = CaseRegistry.All.Where(spec => spec.Elements < 100_000)
            .Select(spec => LockstepRunner.Run(spec.Build(), new ToleranceModelImplementation(), new PlainFloat64Optimizers(mutation)))
            .Where(r => r.Verdict == Verdict.Fail).Select(r => r.Id).ToList();
        output.WriteLine($"{mutation}: {string.Join(", ", caught)}");
        Assert.NotEmpty(caught);
    }

    [Fact]
    public void Registry_covers_what_issue_4_asks_for()
    {
        var all = CaseRegistry.All;
        Assert.Equal(all.Count, all.Select(c => c.Id).Distinct().Count());
        Assert.All(all, c => Assert.False(string.IsNullOrWhiteSpace(c.Why)));
        Assert.All(all.Where(c => c.ToleranceOverrideReason is not null), c => Assert.False(string.IsNullOrWhiteSpace(c.ToleranceOverrideReason)));
        foreach (var optimizer in new[] { "AdamW", "AdamSRF", "HomeAdam", "HomeAdamEW", "STAC" })
            Assert.Contains(all, c => c.Optimizer == optimizer);
        Assert.Contains(all, c => c.Shapes.Any(s => s.Length == 0));
        Assert.Contains(all, c => c.Elements >= 1_000_000);
        Assert.Contains(all, c => c.Groups.Count > 1 && c.Optimizer != "STAC");
        Assert.Contains(all, c => c.Gradients.NoGradient is { Count: > 0 });
        Assert.Contains(all, c => c.Gradients.Injections?.Any(i => double.IsNaN(i.Value)) == true);
        Assert.Contains(all, c => c.Gradients.Injections?.Any(i => double.IsInfinity(i.Value)) == true);
        Assert.Contains(all, c => c.Gradients.SignFlipEvery > 0);
        Assert.Contains(all, c => c.Id.Contains("exactly_on_tau"));
        var trees = all.Where(c => c.Model is not null).ToList();
        Assert.Contains(trees, c => c.Model!.Any(m => m.Params.Any(p => !p.RequiresGrad)));
        Assert.Contains(trees, c => c.Model!.Any(m => m.Params.Any(p => p.AliasOf is not null)));
        Assert.Contains(trees, c => c.Partition!.TrunkLayerNames.FirstOrDefault() == "<root>");
        Assert.Contains(trees, c => c.Partition!.CapLayerNames.Count == 0);
        Assert.Contains(trees, c => c.Partition!.TrunkLayerNames.Count == 0);
        var built = CaseRegistry.Get("adamw_f32_decades").Build();
        var magnitudes = built.Steps.SelectMany(s => s.Grads).SelectMany(g => g!).Where(x => x != 0).Select(x => Math.Log10(Math.Abs(x))).ToList();
        Assert.True(magnitudes.Max() - magnitudes.Min() > 5, "gradients should span many decades");
        Assert.Contains(0.0, built.Steps.SelectMany(s => s.Grads).SelectMany(g => g!));
    }

    [Fact]
    public void Exact_threshold_cases_really_sit_on_tau_with_a_zero_bound()
    {
        var c = CaseRegistry.Get("homeadamew_vhat_exactly_on_tau_dyadic").Build();
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, Trajectories.ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        Assert.Equal(0, bounds.AmbiguousDecisions);
        var v = bounds.After.State[0]["exp_avg_sq"];
        Assert.True(v[0].IsExact && v[1].IsExact);
    }
}
