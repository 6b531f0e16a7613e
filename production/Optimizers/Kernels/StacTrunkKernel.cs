using System.Numerics;
using Optimizers.Kernels.Simd;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Kernels;

/// <summary>
/// STAC's trunk: decoupled decay, then a step of −η·sign(b) where b is the dampened momentum buffer
/// (or the gradient itself when μ = 0). sign(0) = sign(NaN) = 0, as in torch. The scalar loop is the ground truth.
/// </summary>
public static class StacTrunkKernel
{
    /// <summary>One fused pass over one segment. <paramref name="buffer"/> is required when <see cref="StacTrunkScalars.HasMomentum"/> is set.</summary>
    public static void Step(TensorBuffer param, TensorBuffer grad, int paramOffset, TensorBuffer? buffer, int stateOffset, int length,
        in StacTrunkScalars s, KernelPath path = KernelPath.Auto)
    {
        if (grad.DType != param.DType) throw new ArgumentException($"Gradient dtype {grad.DType} differs from parameter dtype {param.DType}.", nameof(grad));
        if (s.HasMomentum && buffer is null) throw new ArgumentNullException(nameof(buffer), "A non-zero trunk momentum needs its buffer.");
        if ((uint)paramOffset > (uint)param.Length || (uint)length > (uint)(param.Length - paramOffset) || length > grad.Length - paramOffset)
            throw new ArgumentOutOfRangeException(nameof(length), "Segment is outside the parameter arena.");
        if (path != KernelPath.Scalar)
        {
            StacTrunkSimd.Step(param, grad, paramOffset, buffer, stateOffset, length, s, path);
            return;
        }
        if (!s.HasMomentum)
        {
            switch (param.DType)
            {
                case DType.Float32: Core<float, F32, float, F32, float>(param, grad, paramOffset, null, 0, length, s); return;
                case DType.Float64: Core<double, F64, double, F64, double>(param, grad, paramOffset, null, 0, length, s); return;
            }
        }
        else
        {
            if ((uint)stateOffset > (uint)buffer!.Length || (uint)length > (uint)(buffer.Length - stateOffset))
                throw new ArgumentOutOfRangeException(nameof(length), "Segment is outside the momentum arena.");
            switch (param.DType, buffer.DType)
            {
                case (DType.Float32, DType.Float32): Core<float, F32, float, F32, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float32, DType.Float64): Core<float, F32, double, F64, double>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float32, DType.Float16): Core<float, F32, Half, F16, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float32, DType.BFloat16): Core<float, F32, BFloat16, BF16, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float64, DType.Float32): Core<double, F64, float, F32, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float64, DType.Float64): Core<double, F64, double, F64, double>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float64, DType.Float16): Core<double, F64, Half, F16, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
                case (DType.Float64, DType.BFloat16): Core<double, F64, BFloat16, BF16, float>(param, grad, paramOffset, buffer, stateOffset, length, s); return;
            }
        }
        throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, buffer {buffer?.DType}.", nameof(param));
    }

    // The element formulas live in Simd/StacTrunkOps.cs next to their vector forms; this loop is the ground
    // truth, and the SIMD path runs it on whatever its whole blocks leave over.
    internal static void Core<TP, TPE, TS, TSE, TC>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer? buffer, int so, int n, in StacTrunkScalars s)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var p = param.Span<TP>(po, n);
        var g = grad.Span<TP>(po, n);
        var b = s.HasMomentum ? buffer!.Span<TS>(so, n) : default;
        TP decay = TPE.Scalar(s.DecayFactor), negLr = TPE.Scalar(s.NegLr);
        TC mu = TSE.Scalar(s.Momentum), oneMinusMu = TSE.Scalar(s.OneMinusMomentum);
        for (int i = 0; i < n; i++)
        {
            TP ui = s.Maximize ? -g[i] : g[i];
            TP direction;
            if (s.HasMomentum)
            {
                TC bi = StacMomentumOp.Invoke(TSE.Load(TSE.Store(TC.CreateTruncating(ui))), TSE.Load(b[i]), mu, oneMinusMu);
                b[i] = TSE.Store(bi);
                direction = TP.CreateTruncating(StacSignOp.Invoke(TSE.Load(b[i])));
            }
            else direction = StacSignOp.Invoke(ui);
            p[i] = StacParameterOp.Invoke(p[i], direction, negLr, decay, s.HasDecay);
        }
    }
}
