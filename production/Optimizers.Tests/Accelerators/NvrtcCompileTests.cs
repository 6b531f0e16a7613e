using System.Text.RegularExpressions;
using Optimizers.Accelerators;
using Optimizers.Accelerators.Cuda;

namespace Optimizers.Tests.Accelerators;

/// <summary>
/// Every CUDA kernel compiles with NVRTC for Volta, Ampere and Hopper, without a GPU. CUBIN builds report
/// ptxas's resources, so spills and stack frames (local memory) are checked on the real instruction sets.
/// </summary>
public sealed class NvrtcCompileTests
{
    public static IEnumerable<object[]> Builds()
        => from family in Enum.GetValues<KernelFamily>()
           from variant in KernelSource.Variants(family)
           from arch in new[] { 70, 80, 90 }
           select new object[] { family, variant.Param, variant.State, arch };

    [NvrtcTheory]
    [MemberData(nameof(Builds))]
    public void CompilesToPtxWithoutLocalMemory(KernelFamily family, DType param, DType state, int arch)
    {
        var output = Nvrtc.CompileKernels(family, param, state, $"compute_{arch}");
        string ptx = output.Ptx;
        Assert.Contains($".target sm_{arch}", ptx);
        foreach (var entry in KernelSource.EntryPoints(family))
            Assert.Matches(new Regex($@"\.visible \.entry {entry}\("), ptx);
        // Per-thread local memory (register spills, stack arrays) is declared with .local in PTX.
        Assert.DoesNotContain(".local", ptx);
        // --fmad=false: floating-point a*b+c is never contracted into mad; the explicit FMA calls appear as fma.rn.
        Assert.DoesNotMatch(new Regex(@"\bmad(\.[a-z]+)*\.f(32|64)\b"), ptx);
    }

    [NvrtcTheory]
    [MemberData(nameof(Builds))]
    public void CompilesToCubinWithoutSpillsOrStack(KernelFamily family, DType param, DType state, int arch)
    {
        var output = Nvrtc.CompileKernels(family, param, state, $"sm_{arch}", ptxasVerbose: true);
        Assert.True(output.IsCubin);
        Assert.NotEmpty(output.Image);
        var reports = Regex.Matches(output.Log, @"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads");
        Assert.Equal(KernelSource.EntryPoints(family).Count, reports.Count);
        foreach (Match report in reports)
        {
            Assert.True(report.Groups[1].Value == "0" && report.Groups[2].Value == "0" && report.Groups[3].Value == "0",
                $"sm_{arch} {family} {param}/{state}: {report.Value}\n{output.Log}");
        }
    }

    [NvrtcFact]
    public void ExplicitFmaIsTheOnlyFusion()
    {
        // adamw.cl.h calls FMA twice; with contraction off the PTX has exactly those fused operations.
        string ptx = Nvrtc.CompileKernels(KernelFamily.AdamW, DType.Float32, DType.Float32, "compute_80").Ptx;
        Assert.Equal(2, Regex.Matches(ptx, @"\bfma\.rn\.f32\b").Count);
        Assert.Matches(new Regex(@"\bdiv\.rn\.f32\b"), ptx);
        Assert.Matches(new Regex(@"\bsqrt\.rn\.f32\b"), ptx);
    }

    [NvrtcFact]
    public void CompilationErrorsCarryTheStatusNameAndLog()
    {
        var error = Assert.Throws<NvrtcException>(() => Nvrtc.Compile("extern \"C\" __global__ void broken( { }", "broken.cu", ["--gpu-architecture=compute_80"]));
        Assert.Equal("NVRTC_ERROR_COMPILATION", error.StatusName);
        Assert.Contains("broken.cu", error.Log);
    }
}
