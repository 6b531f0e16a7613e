using System.Numerics;
using Optimizers.Kernels.Simd;
using Optimizers.Storage;

namespace Optimizers.Kernels;

/// <summary>
/// torch 1.13's AdamW (single-tensor and foreach round identically on the CPU), which is also STAC's cap.
/// State has the parameter's dtype. The scalar loop here is the ground truth.
/// </summary>
public static class AdamWKernel
{
    /// <summary>One fused pass over one tensor segment. <paramref name="maxExpAvgSq"/> is required when <see cref="AdamWScalars.Amsgrad"/> is set.</summary>
    public static void Step(TensorBuffer param, TensorBuffer grad, int paramOffset, TensorBuffer m, TensorBuffer v, TensorBuffer? maxExpAvgSq, int stateOffset, int length,
        in AdamWScalars s, KernelPath path = KernelPath.Auto)
    {
        if (grad.DType != param.DType || m.DType != param.DType || v.DType != param.DType || (maxExpAvgSq is not null && maxExpAvgSq.DType != param.DType))
            throw new ArgumentException($"AdamW keeps its state in the parameter dtype {param.DType}; every buffer must match it.", nameof(m));
        if (s.Amsgrad && maxExpAvgSq is null)
            throw new ArgumentNullException(nameof(maxExpAvgSq), "AMSGrad needs the max_exp_avg_sq buffer.");
        if ((uint)paramOffset > (uint)param.Length || (uint)length > (uint)(param.Length - paramOffset) || length > grad.Length - paramOffset
            || (uint)stateOffset > (uint)m.Length || (uint)length > (uint)(m.Length - stateOffset) || length > v.Length - stateOffset)
            throw new ArgumentOutOfRangeException(nameof(length), "Segment is outside its arena.");
        if (path != KernelPath.Scalar)
        {
            AdamWSimd.Step(param, grad, paramOffset, m, v, maxExpAvgSq, stateOffset, length, s, path);
            return;
        }
        switch (param.DType)
        {
            case DType.Float32: Core<float>(param, grad, paramOffset, m, v, maxExpAvgSq, stateOffset, length, s); break;
            case DType.Float64: Core<double>(param, grad, paramOffset, m, v, maxExpAvgSq, stateOffset, length, s); break;
            default: throw new ArgumentException($"AdamW parameters must be Float32 or Float64, not {param.DType}.", nameof(param));
        }
    }

    // The element formula lives in Simd/AdamWOps.cs next to its vector forms; this loop is the ground truth,
    // and the SIMD path runs it on whatever its whole blocks leave over.
    internal static void Core<T>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, TensorBuffer? vmax, int so, int n, in AdamWScalars s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = param.Span<T>(po, n);
        var g = grad.Span<T>(po, n);
        var ms = m.Span<T>(so, n);
        var vs = v.Span<T>(so, n);
        var vmaxs = s.Amsgrad ? vmax!.Span<T>(so, n) : default;
        T beta1 = T.CreateTruncating(s.Beta1), oneMinusBeta1 = T.CreateTruncating(s.OneMinusBeta1);
        T beta2 = T.CreateTruncating(s.Beta2), oneMinusBeta2 = T.CreateTruncating(s.OneMinusBeta2);
        T negStepSize = T.CreateTruncating(s.NegStepSize), bc2Sqrt = T.CreateTruncating(s.BiasCorrection2Sqrt);
        T eps = T.CreateTruncating(s.Eps), decay = T.CreateTruncating(s.DecayFactor);
        for (int i = 0; i < n; i++)
        {
            T pi = p[i], mi = ms[i], vi = vs[i];
            T vmaxi = s.Amsgrad ? vmaxs[i] : T.Zero;
            AdamWOp.Invoke(ref pi, g[i], ref mi, ref vi, ref vmaxi, beta1, oneMinusBeta1, beta2, oneMinusBeta2, negStepSize, bc2Sqrt, eps, decay, s.Amsgrad, s.Maximize);
            ms[i] = mi;
            vs[i] = vi;
            if (s.Amsgrad) vmaxs[i] = vmaxi;
            p[i] = pi;
        }
    }
}
