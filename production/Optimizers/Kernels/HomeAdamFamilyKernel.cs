using System.Numerics;
using Optimizers.Kernels.Simd;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Kernels;

/// <summary>
/// AdamSRF, HomeAdam and HomeAdamEW (paper-notes/homeadam.md, Algorithms 1–3) with upstream's rounding
/// sequence (paper-notes/operation-sequences.md). The scalar loops here are the ground truth.
/// </summary>
public static class HomeAdamFamilyKernel
{
    /// <summary>
    /// One fused pass over one tensor segment: moments, then the parameter update under <paramref name="rule"/>.
    /// Returns how many elements took the adaptive branch.
    /// </summary>
    public static long Step(TensorBuffer param, TensorBuffer grad, int paramOffset, TensorBuffer m, TensorBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, BranchRule rule, KernelPath path = KernelPath.Auto)
    {
        Check(param, grad, paramOffset, m, v, stateOffset, length);
        if (path != KernelPath.Scalar) return HomeAdamFamilySimd.Step(param, grad, paramOffset, m, v, stateOffset, length, s, rule, path);
        return (param.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => Fused<float, F32, float, F32, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.Float64) => Fused<float, F32, double, F64, double>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.Float16) => Fused<float, F32, Half, F16, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.BFloat16) => Fused<float, F32, BFloat16, BF16, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float32) => Fused<double, F64, float, F32, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float64) => Fused<double, F64, double, F64, double>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float16) => Fused<double, F64, Half, F16, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.BFloat16) => Fused<double, F64, BFloat16, BF16, float>(param, grad, paramOffset, m, v, stateOffset, length, s, rule),
            _ => throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, state {m.DType}.", nameof(param)),
        };
    }

    /// <summary>
    /// HomeAdam's first pass over one segment: the moment update only. Returns the minimum stored second
    /// moment of the segment (NaN if any element is NaN; +∞ for an empty segment).
    /// </summary>
    public static double UpdateMoments(TensorBuffer grad, int paramOffset, TensorBuffer m, TensorBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, KernelPath path = KernelPath.Auto)
    {
        CheckSegment(grad, nameof(grad), paramOffset, length);
        CheckState(m, v, stateOffset, length);
        if (path != KernelPath.Scalar) return HomeAdamFamilySimd.UpdateMoments(grad, paramOffset, m, v, stateOffset, length, s, path);
        return (grad.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => Moments<float, F32, float, F32, float>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float32, DType.Float64) => Moments<float, F32, double, F64, double>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float32, DType.Float16) => Moments<float, F32, Half, F16, float>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float32, DType.BFloat16) => Moments<float, F32, BFloat16, BF16, float>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float64, DType.Float32) => Moments<double, F64, float, F32, float>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float64, DType.Float64) => Moments<double, F64, double, F64, double>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float64, DType.Float16) => Moments<double, F64, Half, F16, float>(grad, paramOffset, m, v, stateOffset, length, s),
            (DType.Float64, DType.BFloat16) => Moments<double, F64, BFloat16, BF16, float>(grad, paramOffset, m, v, stateOffset, length, s),
            _ => throw new ArgumentException($"Unsupported dtypes: gradient {grad.DType}, state {m.DType}.", nameof(grad)),
        };
    }

    /// <summary>HomeAdam's second pass over one segment: the parameter update from already-updated moments.</summary>
    public static long Apply(TensorBuffer param, int paramOffset, TensorBuffer m, TensorBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, BranchRule rule, KernelPath path = KernelPath.Auto)
    {
        CheckSegment(param, nameof(param), paramOffset, length);
        CheckState(m, v, stateOffset, length);
        if (path != KernelPath.Scalar) return HomeAdamFamilySimd.Apply(param, paramOffset, m, v, stateOffset, length, s, rule, path);
        return (param.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => ApplyCore<float, F32, float, F32, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.Float64) => ApplyCore<float, F32, double, F64, double>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.Float16) => ApplyCore<float, F32, Half, F16, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float32, DType.BFloat16) => ApplyCore<float, F32, BFloat16, BF16, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float32) => ApplyCore<double, F64, float, F32, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float64) => ApplyCore<double, F64, double, F64, double>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.Float16) => ApplyCore<double, F64, Half, F16, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            (DType.Float64, DType.BFloat16) => ApplyCore<double, F64, BFloat16, BF16, float>(param, paramOffset, m, v, stateOffset, length, s, rule),
            _ => throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, state {m.DType}.", nameof(param)),
        };
    }

    // Every public entry point checks once, before any span is taken, so a mismatch names its argument instead of
    // surfacing as TensorBuffer's dtype error halfway through a segment.
    static void Check(TensorBuffer param, TensorBuffer grad, int paramOffset, TensorBuffer m, TensorBuffer v, int stateOffset, int length)
    {
        CheckSegment(param, nameof(param), paramOffset, length);
        if (grad.DType != param.DType) throw new ArgumentException($"Gradient dtype {grad.DType} differs from parameter dtype {param.DType}.", nameof(grad));
        if (length > grad.Length - paramOffset)
            throw new ArgumentOutOfRangeException(nameof(length), $"Segment [{paramOffset}, {paramOffset + length}) is outside the gradient arena of {grad.Length} elements.");
        CheckState(m, v, stateOffset, length);
    }

    static void CheckSegment(TensorBuffer values, string name, int offset, int length)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"Invalid {name} dtype: {values.DType} (expected Float32 or Float64).", name);
        if ((uint)offset > (uint)values.Length || (uint)length > (uint)(values.Length - offset))
            throw new ArgumentOutOfRangeException(nameof(length), $"Segment [{offset}, {offset + length}) is outside the {name} arena of {values.Length} elements (expected 0 ≤ offset ≤ offset + length ≤ {values.Length}).");
    }

    static void CheckState(TensorBuffer m, TensorBuffer v, int stateOffset, int length)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(v);
        if (v.DType != m.DType) throw new ArgumentException($"exp_avg_sq dtype {v.DType} differs from exp_avg dtype {m.DType}.", nameof(v));
        if (!Enum.IsDefined(m.DType)) throw new ArgumentException($"Invalid state dtype: {(int)m.DType} (expected Float32, Float64, BFloat16 or Float16).", nameof(m));
        if ((uint)stateOffset > (uint)m.Length || (uint)length > (uint)(m.Length - stateOffset) || length > v.Length - stateOffset)
            throw new ArgumentOutOfRangeException(nameof(length), $"Segment [{stateOffset}, {stateOffset + length}) is outside the state arena of {m.Length} elements (expected 0 ≤ offset ≤ offset + length ≤ {Math.Min(m.Length, v.Length)}).");
    }

    // ---- the formula, scalar: the ground truth -------------------------------------------------

    // The element formulas live in Simd/HomeAdamFamilyOps.cs, next to their vector forms; the loops below are
    // the ground truth, and the SIMD path runs them on whatever its whole blocks leave over.

    static long Fused<TP, TPE, TS, TSE, TC>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        Moments<TP, TPE, TS, TSE, TC>(grad, po, m, v, so, n, s);
        return ApplyCore<TP, TPE, TS, TSE, TC>(param, po, m, v, so, n, s, rule);
    }

    internal static double Moments<TP, TPE, TS, TSE, TC>(TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var g = grad.Span<TP>(po, n);
        var ms = m.Span<TS>(so, n);
        var vs = v.Span<TS>(so, n);
        var c = new HomeAdamScalarsOf<TC>(s);
        TC min = TC.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            // grad.to(state_dtype): stored-type rounding, then widened to the compute type.
            TC gi = TSE.Load(TSE.Store(TC.CreateTruncating(g[i])));
            TC mi = TSE.Load(ms[i]), vi = TSE.Load(vs[i]);
            HomeAdamMomentsOp.Invoke(gi, ref mi, ref vi, c.LerpWeight, c.OneMinusLerpWeight, c.LowWeight, c.Beta2, c.OneMinusBeta2);
            ms[i] = TSE.Store(mi);
            vs[i] = TSE.Store(vi);
            TC stored = TSE.Load(vs[i]);
            min = TC.IsNaN(stored) || TC.IsNaN(min) ? TC.NaN : TC.Min(min, stored);
        }
        return double.CreateTruncating(min);
    }

    internal static long ApplyCore<TP, TPE, TS, TSE, TC>(TensorBuffer param, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var p = param.Span<TP>(po, n);
        var ms = m.Span<TS>(so, n);
        var vs = v.Span<TS>(so, n);
        var c = new HomeAdamScalarsOf<TC>(s);
        TP decay = TPE.Scalar(s.DecayFactor);
        long adaptiveCount = 0;
        for (int i = 0; i < n; i++)
        {
            TC step = HomeAdamDirectionOp.Invoke(TSE.Load(ms[i]), TSE.Load(vs[i]), c.BiasCorrection2, c.StepSize, c.Eps, c.Tau, rule, out bool adaptive);
            if (adaptive) adaptiveCount++;
            TP delta = TP.CreateTruncating(step);
            p[i] = HomeAdamParameterOp.Invoke(p[i], delta, decay, s.HasDecay);
        }
        return adaptiveCount;
    }
}
