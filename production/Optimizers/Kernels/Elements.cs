using System.Numerics;
using System.Runtime.CompilerServices;
using Optimizers.Numerics;

namespace Optimizers.Kernels;

/// <summary>
/// How a stored element type widens to the type its arithmetic runs in, and how a result is stored back.
/// float32, bfloat16 and float16 compute in float32; float64 computes in float64.
/// </summary>
internal interface IElement<TStored, TCompute>
    where TStored : unmanaged
    where TCompute : unmanaged, IFloatingPointIeee754<TCompute>
{
    static abstract TCompute Load(TStored x);
    static abstract TStored Store(TCompute x);
    /// <summary>A double that holds an already-rounded scalar, as the compute type.</summary>
    static abstract TCompute Scalar(double x);
}

internal readonly struct F32 : IElement<float, float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Store(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(double x) => (float)x;
}

internal readonly struct F64 : IElement<double, double>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Load(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Store(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Scalar(double x) => x;
}

internal readonly struct F16 : IElement<Half, float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(Half x) => (float)x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Half Store(float x) => (Half)x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(double x) => (float)x;
}

internal readonly struct BF16 : IElement<BFloat16, float>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(BFloat16 x) => (float)x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static BFloat16 Store(float x) => (BFloat16)x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Scalar(double x) => (float)x;
}

/// <summary>Rounding of host-side scalars to a dtype, the way torch casts a Python float to a tensor's dtype.</summary>
public static class Rounding
{
    /// <summary>Rounds <paramref name="x"/> to <paramref name="dtype"/> and returns it widened back to double.</summary>
    public static double To(DType dtype, double x) => dtype switch
    {
        DType.Float64 => x,
        DType.Float32 => (float)x,
        // Half and bfloat16 scalars take part in float32 arithmetic: torch's opmath for reduced types.
        DType.Float16 => (float)x,
        DType.BFloat16 => (float)x,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Rounds a value to what a tensor of <paramref name="dtype"/> stores (half types keep only their own precision).</summary>
    public static double Stored(DType dtype, double x) => dtype switch
    {
        DType.Float64 => x,
        DType.Float32 => (float)x,
        DType.Float16 => (float)(Half)(float)x,
        DType.BFloat16 => (float)(BFloat16)(float)x,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>
    /// torch's promotion of two floating dtypes (float64 over float32 over the 16-bit types): HomeAdam's group minimum
    /// over 0-d tensors of several state dtypes, and the τ comparison after it, happen in the wider one.
    /// </summary>
    public static DType Wider(DType a, DType b)
        => a == DType.Float64 || b == DType.Float64 ? DType.Float64 : a == DType.Float32 || b == DType.Float32 ? DType.Float32 : a;

    /// <summary>The compute type's product of two values already in it: fl(a·b).</summary>
    public static double Mul(DType dtype, double a, double b) => To(dtype, To(dtype, a) * To(dtype, b));
}
