using Optimizers.Accelerators;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Kernels;
using static Optimizers.Tests.Accelerators.KernelConformance;

namespace Optimizers.Tests.Accelerators;

/// <summary>The OpenCL kernels against the scalar C# kernels, bit for bit (on PoCL in CI).</summary>
public sealed class OpenClKernelTests(OpenClBackendFixture fixture) : IClassFixture<OpenClBackendFixture>
{
    public static IEnumerable<object[]> Pairs() => DTypePairs();

    public static IEnumerable<object[]> PairsAndRules()
        => from pair in DTypePairs()
           from rule in new[] { BranchRule.Adaptive, BranchRule.Sgdm, BranchRule.ElementWise }
           select new object[] { pair[0], pair[1], rule };

    [OpenClTheory]
    [MemberData(nameof(PairsAndRules))]
    public void HomeAdamStepIsBitIdentical(DType param, DType state, BranchRule rule)
    {
        foreach (var values in new[] { Values.Finite, Values.Special })
        {
            HomeAdamStep(fixture.Backend, param, state, rule, values, beta1: 0.9, weightDecay: 0.01);
            HomeAdamStep(fixture.Backend, param, state, rule, values, beta1: 0.3, weightDecay: 0.0);
        }
    }

    [OpenClTheory]
    [MemberData(nameof(Pairs))]
    public void HomeAdamGroupDecisionOnDeviceIsBitIdentical(DType param, DType state)
    {
        foreach (bool capturable in new[] { false, true })
        {
            // Finite values: a tiny tau lets the group go adaptive, a large one forces SGDM.
            HomeAdamGroup(fixture.Backend, param, state, Values.Finite, tau: 1e-30, capturable);
            HomeAdamGroup(fixture.Backend, param, state, Values.Finite, tau: 1e30, capturable);
            // Special values put NaN into the minimum: the two rules disagree there.
            HomeAdamGroup(fixture.Backend, param, state, Values.Special, tau: 1e-6, capturable);
        }
    }

    [OpenClTheory]
    [MemberData(nameof(Pairs))]
    public void HomeAdamStepsStayOnTheDevice(DType param, DType state)
    {
        HomeAdamResidentSteps(fixture.Backend, param, state, capturable: false, steps: 6);
        HomeAdamResidentSteps(fixture.Backend, param, state, capturable: true, steps: 6);
    }

    [OpenClTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void MixedStateDtypesDecideInTheWiderType(bool capturable) => HomeAdamMixedGroup(fixture.Backend, capturable);

    [OpenClTheory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void AdamWStepIsBitIdentical(DType type)
    {
        foreach (bool amsgrad in new[] { false, true })
            foreach (bool maximize in new[] { false, true })
                foreach (var values in new[] { Values.Finite, Values.Special })
                    AdamW(fixture.Backend, type, amsgrad, maximize, values);
    }

    [OpenClTheory]
    [MemberData(nameof(Pairs))]
    public void StacTrunkStepIsBitIdentical(DType param, DType buffer)
    {
        foreach (var values in new[] { Values.Finite, Values.Special })
        {
            StacTrunk(fixture.Backend, param, buffer, momentum: 0.9, weightDecay: 0.01, maximize: false, values);
            StacTrunk(fixture.Backend, param, buffer, momentum: 0.5, weightDecay: 0.0, maximize: true, values);
            StacTrunk(fixture.Backend, param, buffer, momentum: 0.0, weightDecay: 0.1, maximize: false, values);
        }
    }

    /// <summary>CUDA stores float16 through common.h's bit operations; running them here proves them on the CPU.</summary>
    [OpenClTheory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void BitLevelHalfConversionsMatchSystemHalf(DType param)
    {
        foreach (var values in new[] { Values.Finite, Values.Special })
        {
            HomeAdamStep(fixture.HalfViaBits, param, DType.Float16, BranchRule.ElementWise, values, beta1: 0.9, weightDecay: 0.01);
            StacTrunk(fixture.HalfViaBits, param, DType.Float16, momentum: 0.9, weightDecay: 0.01, maximize: false, values);
        }
        HomeAdamGroup(fixture.HalfViaBits, param, DType.Float16, Values.Special, tau: 1e-6, capturable: true);
    }
}
