using Optimizers.Numerics;

namespace Optimizers.Storage;

/// <summary>
/// A flat, typed block of memory: the backing store of an arena (parameters, gradients or one kind of
/// state for a whole parameter group). Tensors are segments of it.
/// </summary>
public sealed class TensorBuffer
{
    readonly float[]? _f32;
    readonly double[]? _f64;
    readonly Half[]? _f16;
    readonly BFloat16[]? _bf16;

    /// <summary>Allocates a zero-filled buffer.</summary>
    public TensorBuffer(DType dtype, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        DType = dtype;
        Length = length;
        switch (dtype)
        {
            case DType.Float32: _f32 = GC.AllocateArray<float>(length, pinned: true); break;
            case DType.Float64: _f64 = GC.AllocateArray<double>(length, pinned: true); break;
            case DType.Float16: _f16 = GC.AllocateArray<Half>(length, pinned: true); break;
            case DType.BFloat16: _bf16 = GC.AllocateArray<BFloat16>(length, pinned: true); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "dtype must be Float32, Float64, Float16 or BFloat16.");
        }
    }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    /// <summary>The elements as <typeparamref name="T"/>, which must match <see cref="DType"/>.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        object? array = typeof(T) == typeof(float) ? _f32
            : typeof(T) == typeof(double) ? _f64
            : typeof(T) == typeof(Half) ? _f16
            : typeof(T) == typeof(BFloat16) ? _bf16
            : null;
        if (array is not T[] typed)
            throw new InvalidOperationException($"Buffer holds {DType}, not {typeof(T).Name}.");
        return typed;
    }

    /// <summary>A segment of the elements as <typeparamref name="T"/>.</summary>
    public Span<T> Span<T>(int offset, int length) where T : unmanaged => Span<T>().Slice(offset, length);

    /// <summary>Reads element <paramref name="index"/> widened to double.</summary>
    public double Get(int index) => DType switch
    {
        DType.Float32 => _f32![index],
        DType.Float64 => _f64![index],
        DType.Float16 => (double)_f16![index],
        _ => (float)_bf16![index],
    };

    /// <summary>Stores <paramref name="value"/> at <paramref name="index"/>, rounded to nearest even in this buffer's dtype.</summary>
    public void Set(int index, double value)
    {
        switch (DType)
        {
            case DType.Float32: _f32![index] = (float)value; break;
            case DType.Float64: _f64![index] = value; break;
            // Through float32 first, as torch converts double to a half type.
            case DType.Float16: _f16![index] = (Half)(float)value; break;
            default: _bf16![index] = (BFloat16)(float)value; break;
        }
    }

    /// <summary>Zero-fills a segment.</summary>
    public void Clear(int offset, int length)
    {
        switch (DType)
        {
            case DType.Float32: Array.Clear(_f32!, offset, length); break;
            case DType.Float64: Array.Clear(_f64!, offset, length); break;
            case DType.Float16: Array.Clear(_f16!, offset, length); break;
            default: Array.Clear(_bf16!, offset, length); break;
        }
    }
}
