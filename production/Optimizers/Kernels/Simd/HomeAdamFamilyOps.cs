using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Optimizers.Kernels.Simd.VectorMath;

namespace Optimizers.Kernels.Simd;

// The HomeAdam-family formulas, once per width, side by side; the scalar Invoke is the ground truth that the
// scalar kernel and every vector tail run. Each vector Invoke repeats the scalar one operation by operation
// (same names, same order, FusedMultiplyAdd exactly where the scalar one has it), so a change to the
// scalar formula is one matching line per width.

/// <summary>Moment update in the compute type: m ← lerp(m, g, w) as torch 1.13 rounds it, v ← fma((1−β2)·g, g, v·β2).</summary>
internal static class HomeAdamMomentsOp
{
    // torch's lerp is one fused multiply-add whose form depends on whether the weight is below one half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(T g, ref T m, ref T v, T w, T oneMinusW, bool lowWeight, T beta2, T oneMinusBeta2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        m = lowWeight ? T.FusedMultiplyAdd(w, g - m, m) : T.FusedMultiplyAdd(-(g - m), oneMinusW, g);
        v = T.FusedMultiplyAdd(oneMinusBeta2 * g, g, v * beta2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(Vector128<T> g, ref Vector128<T> m, ref Vector128<T> v, Vector128<T> w, Vector128<T> oneMinusW, bool lowWeight, Vector128<T> beta2, Vector128<T> oneMinusBeta2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        m = lowWeight ? Fma(w, g - m, m) : Fma(Negate(g - m), oneMinusW, g);
        v = Fma(oneMinusBeta2 * g, g, v * beta2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(Vector256<T> g, ref Vector256<T> m, ref Vector256<T> v, Vector256<T> w, Vector256<T> oneMinusW, bool lowWeight, Vector256<T> beta2, Vector256<T> oneMinusBeta2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        m = lowWeight ? Fma(w, g - m, m) : Fma(Negate(g - m), oneMinusW, g);
        v = Fma(oneMinusBeta2 * g, g, v * beta2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(Vector512<T> g, ref Vector512<T> m, ref Vector512<T> v, Vector512<T> w, Vector512<T> oneMinusW, bool lowWeight, Vector512<T> beta2, Vector512<T> oneMinusBeta2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        m = lowWeight ? Fma(w, g - m, m) : Fma(Negate(g - m), oneMinusW, g);
        v = Fma(oneMinusBeta2 * g, g, v * beta2);
    }
}

/// <summary>
/// The step direction in the compute type: v̂ = v / bc2; adaptive ⇔ the rule (element-wise: v̂ ≥ τ, false for NaN);
/// u = adaptive ? m / (v̂ + ε) : m; returns u · s. The vector forms return the adaptive lanes as a mask.
/// </summary>
internal static class HomeAdamDirectionOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T>(T m, T v, T bc2, T stepSize, T eps, T tau, BranchRule rule, out bool adaptive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T vHat = v / bc2;
        adaptive = rule switch
        {
            BranchRule.Adaptive => true,
            BranchRule.Sgdm => false,
            _ => vHat >= tau,
        };
        T u = adaptive ? m / (vHat + eps) : m;
        return u * stepSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke<T>(Vector128<T> m, Vector128<T> v, Vector128<T> bc2, Vector128<T> stepSize, Vector128<T> eps, Vector128<T> tau, BranchRule rule, out Vector128<T> adaptive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector128<T> vHat = v / bc2;
        adaptive = rule switch
        {
            BranchRule.Adaptive => Vector128<T>.AllBitsSet,
            BranchRule.Sgdm => Vector128<T>.Zero,
            _ => Vector128.GreaterThanOrEqual(vHat, tau),
        };
        Vector128<T> u = Vector128.ConditionalSelect(adaptive, m / (vHat + eps), m);
        return u * stepSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke<T>(Vector256<T> m, Vector256<T> v, Vector256<T> bc2, Vector256<T> stepSize, Vector256<T> eps, Vector256<T> tau, BranchRule rule, out Vector256<T> adaptive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector256<T> vHat = v / bc2;
        adaptive = rule switch
        {
            BranchRule.Adaptive => Vector256<T>.AllBitsSet,
            BranchRule.Sgdm => Vector256<T>.Zero,
            _ => Vector256.GreaterThanOrEqual(vHat, tau),
        };
        Vector256<T> u = Vector256.ConditionalSelect(adaptive, m / (vHat + eps), m);
        return u * stepSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke<T>(Vector512<T> m, Vector512<T> v, Vector512<T> bc2, Vector512<T> stepSize, Vector512<T> eps, Vector512<T> tau, BranchRule rule, out Vector512<T> adaptive)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> vHat = v / bc2;
        adaptive = rule switch
        {
            BranchRule.Adaptive => Vector512<T>.AllBitsSet,
            BranchRule.Sgdm => Vector512<T>.Zero,
            _ => Vector512.GreaterThanOrEqual(vHat, tau),
        };
        Vector512<T> u = Vector512.ConditionalSelect(adaptive, m / (vHat + eps), m);
        return u * stepSize;
    }
}

/// <summary>The parameter update in the parameter type: p ← (decay ? p·(1 − ηλ) : p) − δ, δ the direction already in the parameter type.</summary>
internal static class HomeAdamParameterOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T>(T p, T delta, T decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return p - delta;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke<T>(Vector128<T> p, Vector128<T> delta, Vector128<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return p - delta;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke<T>(Vector256<T> p, Vector256<T> delta, Vector256<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return p - delta;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke<T>(Vector512<T> p, Vector512<T> delta, Vector512<T> decay, bool hasDecay) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (hasDecay) p *= decay;
        return p - delta;
    }
}
