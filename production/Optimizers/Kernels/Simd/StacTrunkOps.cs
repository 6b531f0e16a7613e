using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Optimizers.Kernels.Simd.VectorMath;

namespace Optimizers.Kernels.Simd;

// STAC's trunk formulas, once per width side by side; the scalar Invoke is the ground truth that the scalar
// kernel and every vector tail run, and each vector Invoke repeats it operation by operation.

/// <summary>Dampened momentum in the buffer's compute type: b ← fma(1 − μ, u, b·μ).</summary>
internal static class StacMomentumOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T>(T u, T b, T mu, T oneMinusMu) where T : unmanaged, IFloatingPointIeee754<T>
        => T.FusedMultiplyAdd(oneMinusMu, u, b * mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke<T>(Vector128<T> u, Vector128<T> b, Vector128<T> mu, Vector128<T> oneMinusMu) where T : unmanaged, IFloatingPointIeee754<T>
        => Fma(oneMinusMu, u, b * mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke<T>(Vector256<T> u, Vector256<T> b, Vector256<T> mu, Vector256<T> oneMinusMu) where T : unmanaged, IFloatingPointIeee754<T>
        => Fma(oneMinusMu, u, b * mu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke<T>(Vector512<T> u, Vector512<T> b, Vector512<T> mu, Vector512<T> oneMinusMu) where T : unmanaged, IFloatingPointIeee754<T>
        => Fma(oneMinusMu, u, b * mu);
}

/// <summary>sign as torch.sign: 1, −1, and 0 for ±0 and NaN.</summary>
internal static class StacSignOp
{
    // Two compares turned into 0/1 integers, not a chain of branches: the sign of momentum on real data is close
    // to random, and the branchy form mispredicted about every other element. 1 − 0, 0 − 1 and 0 − 0 convert
    // exactly to 1, −1 and +0, the same values as before (NaN fails both compares and gives +0).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.CreateTruncating((x > T.Zero ? 1 : 0) - (x < T.Zero ? 1 : 0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke<T>(Vector128<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Sign(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Sign(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Sign(x);
}

/// <summary>The parameter update in the parameter type: p ← fma(−η, direction, decay ? p·(1 − ηλ) : p).</summary>
internal static class StacParameterOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T>(T p, T direction, T negLr, T decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return T.FusedMultiplyAdd(negLr, direction, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke<T>(Vector128<T> p, Vector128<T> direction, Vector128<T> negLr, Vector128<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return Fma(negLr, direction, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke<T>(Vector256<T> p, Vector256<T> direction, Vector256<T> negLr, Vector256<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return Fma(negLr, direction, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke<T>(Vector512<T> p, Vector512<T> direction, Vector512<T> negLr, Vector512<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return Fma(negLr, direction, p);
    }
}
