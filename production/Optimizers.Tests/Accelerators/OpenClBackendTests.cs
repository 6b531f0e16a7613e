using Optimizers.Accelerators;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Tests.Accelerators;

/// <summary>The OpenCL backend's plumbing: discovery, the build cache, errors, validation before anything runs.</summary>
public sealed class OpenClBackendTests(OpenClBackendFixture fixture) : IClassFixture<OpenClBackendFixture>
{
    [OpenClFact]
    public void DiscoveryNamesTheDevice()
    {
        Assert.True(OpenClDevices.Availability.IsAvailable);
        Assert.NotEmpty(OpenClDevices.All);
        Assert.Contains(OpenClDevices.All[0].DeviceName, fixture.Backend.DeviceName);
    }

    [OpenClFact]
    public void ProgramsAreBuiltOncePerSourceAndOptions()
    {
        using var backend = OpenClKernelBackend.CreateDefault();
        backend.Warm(KernelFamily.AdamW, DType.Float32, DType.Float32);
        backend.Warm(KernelFamily.AdamW, DType.Float32, DType.Float32);
        Assert.Equal(1, backend.BuiltProgramCount);
        backend.Warm(KernelFamily.AdamW, DType.Float64, DType.Float64);
        Assert.Equal(2, backend.BuiltProgramCount);
    }

    [OpenClFact]
    public void BuildFailuresCarryTheStatusNameAndTheLog()
    {
        var error = Assert.Throws<OpenClException>(() => fixture.Backend.BuildProgram("__kernel void broken(__global float* p) { p[0] = undeclared; }", ""));
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", error.StatusName);
        Assert.Contains("undeclared", error.BuildLog);
        Assert.Contains("CL_BUILD_PROGRAM_FAILURE", error.Message);
    }

    [OpenClFact]
    public void BadSegmentsAreRejectedBeforeAnythingRuns()
    {
        var backend = fixture.Backend;
        var hostParam = new TensorBuffer(DType.Float32, 10);
        for (int i = 0; i < 10; i++) hostParam.Set(i, i);
        using var param = backend.Upload(hostParam);
        using var grad = backend.Allocate(DType.Float32, 10);
        using var m = backend.Allocate(DType.Float32, 10);
        using var v = backend.Allocate(DType.Float32, 8);
        using var halfV = backend.Allocate(DType.Float16, 10);
        var s = KernelConformance.HomeAdamScalarsFor(DType.Float32, DType.Float32, 0.9, 0.01, 1e-6);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => backend.HomeAdamStep(param, grad, 0, m, v, 0, 10, s, BranchRule.Adaptive));
        Assert.Equal("length", error.ParamName);
        Assert.Throws<ArgumentException>(() => backend.HomeAdamStep(param, grad, 0, m, halfV, 0, 10, s, BranchRule.Adaptive));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.HomeAdamStep(param, grad, 0, m, m, 0, 10, s, (BranchRule)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.StacTrunkStep(param, grad, 5, null, 0, 6,
            StepScalars.StacTrunk(DType.Float32, DType.Float32, 1e-3, 0.0, 0.0, false)));
        Assert.Throws<ArgumentNullException>(() => backend.AdamWStep(param, grad, 0, m, m, null, 0, 10,
            StepScalars.AdamW(DType.Float32, 1e-3, 0.9, 0.999, 1e-8, 0, 1, amsgrad: true, maximize: false)));
        var after = new TensorBuffer(DType.Float32, 10);
        backend.Download(param, after);
        KernelConformance.AssertSameBits(hostParam, after, "parameters after rejected calls");
    }

    [OpenClFact]
    public void ClearZeroesWholeArenasBeyondOneHostBlock()
    {
        // 3 MB of float64: zeroed in 1 MB host blocks, the last one partial.
        var ones = new TensorBuffer(DType.Float64, 393_217);
        ones.Span<double>().Fill(-1.0);
        using var arena = fixture.Backend.Upload(ones);
        fixture.Backend.Clear(arena);
        var host = KernelConformance.Download(fixture.Backend, arena);
        Assert.Equal(-1, host.Span<double>().IndexOfAnyExcept(0.0));
        Assert.All(host.Span<double>().ToArray(), x => Assert.Equal(0L, BitConverter.DoubleToInt64Bits(x)));
    }

    [OpenClFact]
    public void BuffersOfAnotherBackendAreRejected()
    {
        using var other = OpenClKernelBackend.CreateDefault();
        using var foreign = other.Allocate(DType.Float32, 4);
        using var local = fixture.Backend.Allocate(DType.Float32, 4);
        var s = StepScalars.StacTrunk(DType.Float32, DType.Float32, 1e-3, 0.0, 0.0, false);
        Assert.Throws<ArgumentException>(() => fixture.Backend.StacTrunkStep(foreign, local, 0, null, 0, 4, s));
    }
}
