using System.Runtime.InteropServices;
using Optimizers.Accelerators;
using Optimizers.Accelerators.OpenCl;

namespace Optimizers.Tests.Accelerators;

// xunit 2 has no dynamic skip; a test that returned early would pass without testing anything. These
// attributes decide at discovery whether the machine has the runtime, and skip with the reason. CI sets
// CI_REQUIRE_OPENCL / CI_REQUIRE_NVRTC: there a missing runtime must not skip, so the test runs and fails on it
// (the CI machine always has PoCL and NVRTC; a skip there would hide a broken install behind a green run).

/// <summary>A fact that needs an OpenCL device.</summary>
public sealed class OpenClFactAttribute : FactAttribute
{
    public OpenClFactAttribute()
    {
        AcceleratorEnvironment.Configure();
        if (!OpenClDevices.Availability.IsAvailable && !CiRequirement.OpenCl) Skip = OpenClDevices.Availability.Reason;
    }
}

/// <summary>A theory that needs an OpenCL device.</summary>
public sealed class OpenClTheoryAttribute : TheoryAttribute
{
    public OpenClTheoryAttribute()
    {
        AcceleratorEnvironment.Configure();
        if (!OpenClDevices.Availability.IsAvailable && !CiRequirement.OpenCl) Skip = OpenClDevices.Availability.Reason;
    }
}

/// <summary>A fact that needs NVRTC (libnvrtc), not a GPU.</summary>
public sealed class NvrtcFactAttribute : FactAttribute
{
    public NvrtcFactAttribute()
    {
        if (!Optimizers.Accelerators.Cuda.Nvrtc.Availability.IsAvailable && !CiRequirement.Nvrtc) Skip = Optimizers.Accelerators.Cuda.Nvrtc.Availability.Reason;
    }
}

/// <summary>A theory that needs NVRTC (libnvrtc), not a GPU.</summary>
public sealed class NvrtcTheoryAttribute : TheoryAttribute
{
    public NvrtcTheoryAttribute()
    {
        if (!Optimizers.Accelerators.Cuda.Nvrtc.Availability.IsAvailable && !CiRequirement.Nvrtc) Skip = Optimizers.Accelerators.Cuda.Nvrtc.Availability.Reason;
    }
}

/// <summary>A fact that needs a CUDA driver and device as well as NVRTC.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        var availability = Optimizers.Accelerators.Cuda.CudaKernelBackend.Availability;
        if (!availability.IsAvailable) Skip = availability.Reason;
    }
}

/// <summary>Which runtimes the CI run demands (environment variable set to 1), so their tests cannot skip.</summary>
public static class CiRequirement
{
    public static bool OpenCl => Environment.GetEnvironmentVariable("CI_REQUIRE_OPENCL") == "1";
    public static bool Nvrtc => Environment.GetEnvironmentVariable("CI_REQUIRE_NVRTC") == "1";
}

/// <summary>Process-wide settings the native runtimes read from the C environment.</summary>
public static class AcceleratorEnvironment
{
    static readonly object Gate = new();
    static bool _configured;

    /// <summary>
    /// Points PoCL's kernel cache at a writable temp folder unless the caller chose one: an unwritable
    /// cache makes PoCL report no device. .NET's Environment does not reach native getenv, hence setenv.
    /// </summary>
    public static void Configure()
    {
        lock (Gate)
        {
            if (_configured) return;
            _configured = true;
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CACHE_DIR"))) return;
            string directory = Path.Combine(Path.GetTempPath(), "optimizers-tests-pocl-cache");
            Directory.CreateDirectory(directory);
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) SetEnv("POCL_CACHE_DIR", directory, 0);
            Environment.SetEnvironmentVariable("POCL_CACHE_DIR", directory);
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}

/// <summary>One OpenCL backend per test class (builds are cached inside it).</summary>
public sealed class OpenClBackendFixture : IDisposable
{
    readonly Lazy<OpenClKernelBackend> _backend = new(() =>
    {
        AcceleratorEnvironment.Configure();
        return OpenClKernelBackend.CreateDefault();
    });

    readonly Lazy<OpenClKernelBackend> _halfViaBits = new(() =>
    {
        AcceleratorEnvironment.Configure();
        return OpenClKernelBackend.CreateDefault(halfViaBits: true);
    });

    public OpenClKernelBackend Backend => _backend.Value;

    /// <summary>The backend built with CUDA's bit-level float16 conversions.</summary>
    public OpenClKernelBackend HalfViaBits => _halfViaBits.Value;

    public void Dispose()
    {
        if (_backend.IsValueCreated) _backend.Value.Dispose();
        if (_halfViaBits.IsValueCreated) _halfViaBits.Value.Dispose();
    }
}
