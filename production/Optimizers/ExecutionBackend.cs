using Optimizers.Accelerators;
using Optimizers.Accelerators.Cuda;
using Optimizers.Accelerators.OpenCl;

namespace Optimizers;

/// <summary>Where an optimizer's arenas live and its kernels run.</summary>
public enum ExecutionBackendKind
{
    /// <summary>Host memory and the C# kernels (the <c>KernelPath</c> argument picks scalar, SIMD or threads).</summary>
    Cpu,
    /// <summary>An OpenCL device (<see cref="OpenClDevices"/>), through <see cref="OpenClKernelBackend"/>.</summary>
    OpenCl,
    /// <summary>A CUDA device, through <see cref="CudaKernelBackend"/> (NVRTC and the driver API).</summary>
    Cuda,
}

/// <summary>
/// The backend an optimizer is built on, chosen once at construction. On an accelerator every group's parameters,
/// gradients and state are device-resident <see cref="DeviceBuffer"/>s and a step launches the same per-segment kernels
/// with the same host scalars as the CPU, so the results are the same bits (paper-notes/backends.md, "Optimizers on a
/// device", says when data crosses between host and device).
/// </summary>
public sealed class ExecutionBackend
{
    readonly Func<AcceleratorKernelBackend>? _open;
    readonly AcceleratorKernelBackend? _shared;

    ExecutionBackend(ExecutionBackendKind kind, string description, Func<AcceleratorKernelBackend>? open, AcceleratorKernelBackend? shared)
    {
        Kind = kind;
        Description = description;
        _open = open;
        _shared = shared;
    }

    /// <summary>The CPU (the default when no backend is given).</summary>
    public static ExecutionBackend Cpu { get; } = new(ExecutionBackendKind.Cpu, "CPU", null, null);

    /// <summary>
    /// An OpenCL device the optimizer opens (one context and queue) when it is built and closes in <c>Dispose()</c>.
    /// <paramref name="device"/> <c>null</c> means the first device of <see cref="OpenClDevices.All"/>.
    /// </summary>
    public static ExecutionBackend OpenCl(OpenClDevice? device = null)
        => new(ExecutionBackendKind.OpenCl, device?.ToString() ?? "OpenCL (first device)", () =>
        {
            if (device is not null) return new OpenClKernelBackend(device);
            return OpenClKernelBackend.CreateDefault();
        }, null);

    /// <summary>CUDA device <paramref name="ordinal"/>, opened when the optimizer is built and released in <c>Dispose()</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ordinal"/> is negative.</exception>
    public static ExecutionBackend Cuda(int ordinal = 0)
    {
        if (ordinal < 0) throw new ArgumentOutOfRangeException(nameof(ordinal), $"Invalid ordinal: {ordinal} (expected ordinal ≥ 0).");
        return new(ExecutionBackendKind.Cuda, $"CUDA device {ordinal}", () => new CudaKernelBackend(ordinal), null);
    }

    /// <summary>
    /// An accelerator backend the caller already opened and keeps owning (several optimizers may share it, and its
    /// program cache; it is not thread-safe, so they must step from one thread). The optimizer never disposes it.
    /// </summary>
    public static ExecutionBackend On(AcceleratorKernelBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var kind = backend.Dialect == KernelDialect.Cuda ? ExecutionBackendKind.Cuda : ExecutionBackendKind.OpenCl;
        return new(kind, backend.DeviceName, null, backend);
    }

    /// <summary>Which kind of backend this is.</summary>
    public ExecutionBackendKind Kind { get; }

    /// <summary>The device, as far as it is known before opening it.</summary>
    public string Description { get; }

    /// <summary>Whether this backend can run here, and if not, why (OpenCL platforms, CUDA driver).</summary>
    public BackendAvailability Availability => Kind switch
    {
        ExecutionBackendKind.Cpu => new BackendAvailability(true, "CPU"),
        _ when _shared is not null => new BackendAvailability(true, _shared.DeviceName),
        ExecutionBackendKind.OpenCl => OpenClDevices.Availability,
        _ => CudaKernelBackend.Availability,
    };

    /// <summary>Opens the accelerator (null for the CPU); <paramref name="owned"/> says whether the optimizer must dispose it.</summary>
    internal AcceleratorKernelBackend? Open(out bool owned)
    {
        owned = _open is not null;
        if (Kind == ExecutionBackendKind.Cpu) return null;
        if (_shared is not null) return _shared;
        var availability = Availability;
        if (!availability.IsAvailable) throw new PlatformNotSupportedException($"{Kind} backend unavailable: {availability.Reason}");
        return _open!();
    }

    /// <inheritdoc/>
    public override string ToString() => Description;
}
