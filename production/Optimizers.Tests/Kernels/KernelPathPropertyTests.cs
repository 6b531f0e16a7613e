using FsCheck;
using FsCheck.Fluent;
using Optimizers.KernelCheck;
using Optimizers.Kernels;

namespace Optimizers.Tests.Kernels;

/// <summary>
/// Random cases, lengths, segment offsets, seeds, special-value rates and paths: every vector path still gives the
/// scalar kernel's bits (the matrix tests fix offsets and seeds; this varies everything at once).
/// </summary>
public class KernelPathPropertyTests
{
    [Fact]
    public void Any_case_length_offset_and_path_matches_the_scalar_kernel()
    {
        KernelCase[] cases = [.. KernelCase.All()];
        var draws =
            from caseIndex in Gen.Choose(0, cases.Length - 1)
            from length in Gen.Choose(0, 5000)
            from paramOffset in Gen.Choose(0, 100)
            from stateOffset in Gen.Choose(0, 100)
            from seed in Gen.Choose(0, 1_000_000)
            from specialPercent in Gen.Choose(0, 50)
            from path in Gen.Elements(KernelPath.Simd, KernelPath.Threads, KernelPath.Auto)
            select (Case: cases[caseIndex], Length: length, ParamOffset: paramOffset, StateOffset: stateOffset, Seed: seed, SpecialRate: specialPercent / 100.0, Path: path);
        var property = Prop.ForAll(draws.ToArbitrary(), draw =>
            KernelPathEquivalenceTests.AssertSameAsScalar(draw.Case, draw.Length, draw.Seed, [draw.Path], draw.ParamOffset, draw.StateOffset, draw.SpecialRate));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
