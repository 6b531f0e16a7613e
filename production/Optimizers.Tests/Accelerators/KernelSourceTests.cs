using Optimizers.Accelerators;

namespace Optimizers.Tests.Accelerators;

/// <summary>The single-source scheme itself: one family text, two preludes, nothing a compiler might reject.</summary>
public sealed class KernelSourceTests
{
    [Theory]
    [InlineData(KernelFamily.HomeAdamFamily)]
    [InlineData(KernelFamily.AdamW)]
    [InlineData(KernelFamily.StacTrunk)]
    [InlineData(KernelFamily.GradientCheck)]
    public void BothDialectsCompileTheSameFamilyText(KernelFamily family)
    {
        string openCl = KernelSource.Compose(KernelDialect.OpenCl, family);
        string cuda = KernelSource.Compose(KernelDialect.Cuda, family);
        string shared = openCl[openCl.IndexOf("// Shared by every kernel family", StringComparison.Ordinal)..];
        Assert.EndsWith(shared, cuda);
        Assert.Contains("#pragma OPENCL FP_CONTRACT OFF", openCl);
        Assert.DoesNotContain("#pragma OPENCL", cuda);
        foreach (var entry in KernelSource.EntryPoints(family))
            Assert.Contains($"KERNEL void {entry}(", shared);
    }

    [Theory]
    [InlineData(KernelDialect.OpenCl)]
    [InlineData(KernelDialect.Cuda)]
    public void SourcesArePlainAscii(KernelDialect dialect)
    {
        // Some OpenCL front ends reject non-ASCII bytes even in comments.
        foreach (var family in Enum.GetValues<KernelFamily>())
        {
            string text = KernelSource.Compose(dialect, family);
            int bad = text.ToList().FindIndex(c => c > 0x7F);
            Assert.True(bad < 0, $"{family} ({dialect}) has a non-ASCII character at {bad}.");
        }
    }

    [Fact]
    public void DtypesBecomeMacroDefinitions()
    {
        Assert.Equal(["-DPARAM_KIND=1", "-DSTATE_KIND=3"], KernelSource.Defines(DType.Float64, DType.BFloat16));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelSource.Defines(DType.Float16, DType.Float32));
        Assert.Equal(20, Enum.GetValues<KernelFamily>().Sum(f => KernelSource.Variants(f).Count()));
    }
}
