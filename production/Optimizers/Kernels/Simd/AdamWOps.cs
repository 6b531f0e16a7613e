using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Optimizers.Kernels.Simd.VectorMath;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// torch 1.13 AdamW on one element, in the parameter type, once per width side by side; the scalar Invoke is the
/// ground truth the scalar kernel and every vector tail run. Each vector Invoke repeats it operation by operation:
/// p' = p·(1−ηλ) + (−s)·m / (√v̂max / √bc2 + ε), m = fma(1−β1, g, m·β1), v = fma((1−β2)·g, g, v·β2).
/// </summary>
internal static class AdamWOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(ref T p, T g, ref T m, ref T v, ref T vmax, T beta1, T oneMinusBeta1, T beta2, T oneMinusBeta2,
        T negStepSize, T bc2Sqrt, T eps, T decay, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T gi = maximize ? -g : g;
        T pi = p * decay;
        T mi = T.FusedMultiplyAdd(oneMinusBeta1, gi, m * beta1);
        T vi = T.FusedMultiplyAdd(oneMinusBeta2 * gi, gi, v * beta2);
        m = mi;
        v = vi;
        T source = vi;
        if (amsgrad)
        {
            // torch.maximum propagates NaN.
            source = T.IsNaN(vmax) || T.IsNaN(vi) ? T.NaN : T.Max(vmax, vi);
            vmax = source;
        }
        T denom = T.Sqrt(source) / bc2Sqrt + eps;
        p = pi + negStepSize * mi / denom;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(ref Vector128<T> p, Vector128<T> g, ref Vector128<T> m, ref Vector128<T> v, ref Vector128<T> vmax, Vector128<T> beta1, Vector128<T> oneMinusBeta1, Vector128<T> beta2, Vector128<T> oneMinusBeta2,
        Vector128<T> negStepSize, Vector128<T> bc2Sqrt, Vector128<T> eps, Vector128<T> decay, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector128<T> gi = maximize ? Negate(g) : g;
        Vector128<T> pi = p * decay;
        Vector128<T> mi = Fma(oneMinusBeta1, gi, m * beta1);
        Vector128<T> vi = Fma(oneMinusBeta2 * gi, gi, v * beta2);
        m = mi;
        v = vi;
        Vector128<T> source = vi;
        if (amsgrad)
        {
            source = MaxOrNaN(vmax, vi);
            vmax = source;
        }
        Vector128<T> denom = Vector128.Sqrt(source) / bc2Sqrt + eps;
        p = pi + negStepSize * mi / denom;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(ref Vector256<T> p, Vector256<T> g, ref Vector256<T> m, ref Vector256<T> v, ref Vector256<T> vmax, Vector256<T> beta1, Vector256<T> oneMinusBeta1, Vector256<T> beta2, Vector256<T> oneMinusBeta2,
        Vector256<T> negStepSize, Vector256<T> bc2Sqrt, Vector256<T> eps, Vector256<T> decay, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector256<T> gi = maximize ? Negate(g) : g;
        Vector256<T> pi = p * decay;
        Vector256<T> mi = Fma(oneMinusBeta1, gi, m * beta1);
        Vector256<T> vi = Fma(oneMinusBeta2 * gi, gi, v * beta2);
        m = mi;
        v = vi;
        Vector256<T> source = vi;
        if (amsgrad)
        {
            source = MaxOrNaN(vmax, vi);
            vmax = source;
        }
        Vector256<T> denom = Vector256.Sqrt(source) / bc2Sqrt + eps;
        p = pi + negStepSize * mi / denom;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Invoke<T>(ref Vector512<T> p, Vector512<T> g, ref Vector512<T> m, ref Vector512<T> v, ref Vector512<T> vmax, Vector512<T> beta1, Vector512<T> oneMinusBeta1, Vector512<T> beta2, Vector512<T> oneMinusBeta2,
        Vector512<T> negStepSize, Vector512<T> bc2Sqrt, Vector512<T> eps, Vector512<T> decay, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> gi = maximize ? Negate(g) : g;
        Vector512<T> pi = p * decay;
        Vector512<T> mi = Fma(oneMinusBeta1, gi, m * beta1);
        Vector512<T> vi = Fma(oneMinusBeta2 * gi, gi, v * beta2);
        m = mi;
        v = vi;
        Vector512<T> source = vi;
        if (amsgrad)
        {
            source = MaxOrNaN(vmax, vi);
            vmax = source;
        }
        Vector512<T> denom = Vector512.Sqrt(source) / bc2Sqrt + eps;
        p = pi + negStepSize * mi / denom;
    }
}
