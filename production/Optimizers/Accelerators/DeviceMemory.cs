using System.Runtime.InteropServices;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Accelerators;

/// <summary>A block of device memory owned by (or, for external pointers, lent to) one backend.</summary>
public abstract class DeviceMemory : IDisposable
{
    /// <summary>Creates the handle.</summary>
    protected DeviceMemory(AcceleratorKernelBackend owner, long byteLength)
    {
        Owner = owner;
        ByteLength = byteLength;
    }

    /// <summary>The backend whose kernels can use this memory.</summary>
    public AcceleratorKernelBackend Owner { get; }

    /// <summary>Usable size in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Whether <see cref="Dispose()"/> has run.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Frees the memory (a no-op for memory the backend does not own).</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the native allocation.</summary>
    protected abstract void Release();
}

/// <summary>
/// A device-resident arena: the device counterpart of <see cref="TensorBuffer"/>, with a dtype and a
/// length in elements. Kernels address tensors inside it by offset, as the CPU kernels do.
/// </summary>
public sealed class DeviceBuffer : IDisposable
{
    internal DeviceBuffer(DeviceMemory memory, DType dtype, int length)
    {
        Memory = memory;
        DType = dtype;
        Length = length;
    }

    /// <summary>The memory behind the arena.</summary>
    public DeviceMemory Memory { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The backend this buffer lives on.</summary>
    public AcceleratorKernelBackend Owner => Memory.Owner;

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Float16 => 2,
        DType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "dtype must be Float32, Float64, Float16 or BFloat16."),
    };

    /// <summary>Frees the device memory (unless it was lent by the caller).</summary>
    public void Dispose() => Memory.Dispose();

    internal static Span<byte> Bytes(TensorBuffer buffer) => buffer.DType switch
    {
        DType.Float32 => MemoryMarshal.AsBytes(buffer.Span<float>()),
        DType.Float64 => MemoryMarshal.AsBytes(buffer.Span<double>()),
        DType.Float16 => MemoryMarshal.AsBytes(buffer.Span<Half>()),
        DType.BFloat16 => MemoryMarshal.AsBytes(buffer.Span<BFloat16>()),
        _ => throw new ArgumentOutOfRangeException(nameof(buffer)),
    };
}
