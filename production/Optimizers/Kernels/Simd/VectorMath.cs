using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// The element operations the kernel formulas need beyond the vector operators, generic over float and
/// double, one overload per width side by side. Each one rounds exactly like its scalar counterpart.
/// </summary>
internal static class VectorMath
{
    // Only where the scalar formula calls FusedMultiplyAdd: RyuJIT never contracts a*b+c on its own,
    // so everywhere else a multiply and an add stay two roundings in both the scalar and vector code.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Fma<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float)
            ? Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>()
            : Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();

    // Scalar negation flips the sign bit (also of 0 and NaN); a subtraction from zero would not.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Negate<T>(Vector128<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => x ^ Vector128.Create(T.NegativeZero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Negate<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => x ^ Vector256.Create(T.NegativeZero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Negate<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => x ^ Vector512.Create(T.NegativeZero);

    // sign(x) as torch.sign: 1, −1, and 0 for ±0 and NaN (both comparisons are false for NaN).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Sign<T>(Vector128<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), Vector128<T>.One,
           Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<T>.Zero), -Vector128<T>.One, Vector128<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sign<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One,
           Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -Vector256<T>.One, Vector256<T>.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sign<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), Vector512<T>.One,
           Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -Vector512<T>.One, Vector512<T>.Zero));

    // The scalar formula returns the canonical NaN when either side is NaN and Max (with +0 > −0) otherwise;
    // the vector Max would keep the NaN operand's own payload, so the NaN lanes are replaced explicitly.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MaxOrNaN<T>(Vector128<T> a, Vector128<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.ConditionalSelect(Vector128.IsNaN(a) | Vector128.IsNaN(b), Vector128.Create(T.NaN), Vector128.Max(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MaxOrNaN<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.IsNaN(a) | Vector256.IsNaN(b), Vector256.Create(T.NaN), Vector256.Max(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MaxOrNaN<T>(Vector512<T> a, Vector512<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.IsNaN(a) | Vector512.IsNaN(b), Vector512.Create(T.NaN), Vector512.Max(a, b));

    /// <summary>Lane-wise running minimum that keeps NaN (IEEE 754-2019 minimum, −0 below +0), as .NET 9+ Vector*.Min does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MinPropagatingNaN<T>(Vector128<T> a, Vector128<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.ConditionalSelect(Vector128.IsNaN(b), b, Vector128.Min(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MinPropagatingNaN<T>(Vector256<T> a, Vector256<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.IsNaN(b), b, Vector256.Min(a, b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MinPropagatingNaN<T>(Vector512<T> a, Vector512<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.IsNaN(b), b, Vector512.Min(a, b));

    /// <summary>Folds the lanes of a running minimum into a scalar one with the scalar kernel's rule.</summary>
    public static TC FoldMin<TC>(TC min, Vector128<TC> lanes) where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        for (int i = 0; i < Vector128<TC>.Count; i++) min = CombineMin(min, lanes.GetElement(i));
        return min;
    }
    public static TC FoldMin<TC>(TC min, Vector256<TC> lanes) where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        for (int i = 0; i < Vector256<TC>.Count; i++) min = CombineMin(min, lanes.GetElement(i));
        return min;
    }
    public static TC FoldMin<TC>(TC min, Vector512<TC> lanes) where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        for (int i = 0; i < Vector512<TC>.Count; i++) min = CombineMin(min, lanes.GetElement(i));
        return min;
    }

    /// <summary>The scalar kernel's minimum: NaN as soon as either side is NaN, otherwise Min (−0 below +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TC CombineMin<TC>(TC min, TC x) where TC : unmanaged, IFloatingPointIeee754<TC>
        => TC.IsNaN(x) || TC.IsNaN(min) ? TC.NaN : TC.Min(min, x);

}
