using System.Runtime.InteropServices;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Conformance.Implementations;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// <c>production:opencl</c> replays conformance/golden/upstream-public.json bit for bit, teacher-forced and free-running:
/// the optimizers with parameters, gradients and state on the OpenCL device (PoCL on machines without a GPU). Skipped,
/// with the reason, where no OpenCL platform exists.
/// </summary>
public class OpenClReplayTests
{
    static readonly ProductionImplementation OpenCl = ProductionImplementation.FromName("production:opencl")!;

    [OpenClReplayTheory]
    [MemberData(nameof(ProductionReplayTests.CaseIds), MemberType = typeof(ProductionReplayTests))]
    public void Teacher_forced_replay_on_opencl_is_bit_exact(string id)
        => ProductionReplayTests.Replay(ProductionReplayTests.Case(id), teacherForced: true, OpenCl);

    [OpenClReplayTheory]
    [MemberData(nameof(ProductionReplayTests.CaseIds), MemberType = typeof(ProductionReplayTests))]
    public void Free_running_replay_on_opencl_is_bit_exact(string id)
        => ProductionReplayTests.Replay(ProductionReplayTests.Case(id), teacherForced: false, OpenCl);

    [Fact]
    public void The_names_select_the_accelerator_backends()
    {
        Assert.Equal(ExecutionBackendKind.OpenCl, OpenCl.Backend);
        Assert.Equal("production:opencl", OpenCl.Name);
        var cuda = ProductionImplementation.FromName("production:cuda")!;
        Assert.Equal("production:cuda", cuda.Name);
        var c = ProductionReplayTests.Case("adamw_wd_f32");
        // Without a device the case is unsupported, with the backend's own reason; with one it runs.
        bool supported = cuda.Supports(c, out var reason);
        Assert.Equal(Optimizers.Accelerators.Cuda.CudaKernelBackend.Availability.IsAvailable, supported);
        if (!supported) Assert.Equal(Optimizers.Accelerators.Cuda.CudaKernelBackend.Availability.Reason, reason);
    }
}

/// <summary>
/// A theory that needs an OpenCL device; skipped at discovery with the loader's reason otherwise. PoCL reports no device
/// when its kernel cache is not writable, so the cache is pointed at a temp folder first (native getenv, hence setenv).
/// </summary>
public sealed class OpenClReplayTheoryAttribute : TheoryAttribute
{
    public OpenClReplayTheoryAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CACHE_DIR")) && OperatingSystem.IsLinux())
        {
            string directory = Path.Combine(Path.GetTempPath(), "optimizers-conformance-pocl-cache");
            Directory.CreateDirectory(directory);
            SetEnv("POCL_CACHE_DIR", directory, 0);
            Environment.SetEnvironmentVariable("POCL_CACHE_DIR", directory);
        }
        if (!OpenClDevices.Availability.IsAvailable) Skip = OpenClDevices.Availability.Reason;
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
