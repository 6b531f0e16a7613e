using System.Numerics;
using System.Runtime.InteropServices;
using Optimizers.Kernels.Threading;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Kernels.Simd;

/// <summary>A step's HomeAdam-family scalars in the compute type, derived once per call for the scalar and vector code alike.</summary>
internal readonly struct HomeAdamScalarsOf<TC> where TC : unmanaged, IFloatingPointIeee754<TC>
{
    public readonly TC LerpWeight, OneMinusLerpWeight, Beta2, OneMinusBeta2, BiasCorrection2, StepSize, Eps, Tau;
    public readonly bool LowWeight;

    public HomeAdamScalarsOf(in HomeAdamScalars s)
    {
        LerpWeight = TC.CreateTruncating(s.LerpWeight);
        OneMinusLerpWeight = TC.One - LerpWeight;
        LowWeight = LerpWeight < TC.CreateTruncating(0.5);
        Beta2 = TC.CreateTruncating(s.Beta2);
        OneMinusBeta2 = TC.CreateTruncating(s.OneMinusBeta2);
        BiasCorrection2 = TC.CreateTruncating(s.BiasCorrection2);
        StepSize = TC.CreateTruncating(s.StepSize);
        Eps = TC.CreateTruncating(s.Eps);
        Tau = TC.CreateTruncating(s.Tau);
    }
}

/// <summary>
/// The SIMD and threaded paths of <see cref="HomeAdamFamilyKernel"/>: the widest accelerated width over the whole
/// blocks of a segment, then the scalar kernel itself over the rest; threads split the segment into chunks.
/// </summary>
internal static class HomeAdamFamilySimd
{
    public static long Step(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n,
        in HomeAdamScalars s, BranchRule rule, KernelPath path)
    {
        int chunks = ChunkPlan.ChunkCount(n, path);
        if (chunks <= 1) return StepRange(param, grad, po, m, v, so, n, s, rule);
        return HomeAdamStepJob.Run(param, grad, po, m, v, so, n, s, rule, chunks);
    }

    public static double UpdateMoments(TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, KernelPath path)
    {
        int chunks = ChunkPlan.ChunkCount(n, path);
        if (chunks <= 1) return MomentsRange(grad, po, m, v, so, n, s);
        // A bad segment must fail before any chunk writes.
        ChunkPlan.RequireSegment(grad, po, n, nameof(grad));
        ChunkPlan.RequireSegment(m, so, n, nameof(m));
        ChunkPlan.RequireSegment(v, so, n, nameof(v));
        return HomeAdamMomentsJob.Run(grad, po, m, v, so, n, s, chunks);
    }

    public static long Apply(TensorBuffer param, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule, KernelPath path)
    {
        int chunks = ChunkPlan.ChunkCount(n, path);
        if (chunks <= 1) return ApplyRange(param, po, m, v, so, n, s, rule);
        ChunkPlan.RequireSegment(param, po, n, nameof(param));
        ChunkPlan.RequireSegment(m, so, n, nameof(m));
        ChunkPlan.RequireSegment(v, so, n, nameof(v));
        return HomeAdamApplyJob.Run(param, po, m, v, so, n, s, rule, chunks);
    }

    // ---- one range on the calling thread, dispatched on the dtype pair -----------------------------------

    public static long StepRange(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        => (param.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => Step<float, F32, float, F32, float>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float32, DType.Float64) => Step<float, F32, double, F64, double>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float32, DType.Float16) => Step<float, F32, Half, F16, float>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float32, DType.BFloat16) => Step<float, F32, BFloat16, BF16, float>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float32) => Step<double, F64, float, F32, float>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float64) => Step<double, F64, double, F64, double>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float16) => Step<double, F64, Half, F16, float>(param, grad, po, m, v, so, n, s, rule),
            (DType.Float64, DType.BFloat16) => Step<double, F64, BFloat16, BF16, float>(param, grad, po, m, v, so, n, s, rule),
            _ => throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, state {m.DType}.", nameof(param)),
        };

    public static double MomentsRange(TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s)
        => (grad.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => Moments<float, F32, float, F32, float>(grad, po, m, v, so, n, s),
            (DType.Float32, DType.Float64) => Moments<float, F32, double, F64, double>(grad, po, m, v, so, n, s),
            (DType.Float32, DType.Float16) => Moments<float, F32, Half, F16, float>(grad, po, m, v, so, n, s),
            (DType.Float32, DType.BFloat16) => Moments<float, F32, BFloat16, BF16, float>(grad, po, m, v, so, n, s),
            (DType.Float64, DType.Float32) => Moments<double, F64, float, F32, float>(grad, po, m, v, so, n, s),
            (DType.Float64, DType.Float64) => Moments<double, F64, double, F64, double>(grad, po, m, v, so, n, s),
            (DType.Float64, DType.Float16) => Moments<double, F64, Half, F16, float>(grad, po, m, v, so, n, s),
            (DType.Float64, DType.BFloat16) => Moments<double, F64, BFloat16, BF16, float>(grad, po, m, v, so, n, s),
            _ => throw new ArgumentException($"Unsupported dtypes: gradient {grad.DType}, state {m.DType}.", nameof(grad)),
        };

    public static long ApplyRange(TensorBuffer param, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        => (param.DType, m.DType) switch
        {
            (DType.Float32, DType.Float32) => Apply<float, F32, float, F32, float>(param, po, m, v, so, n, s, rule),
            (DType.Float32, DType.Float64) => Apply<float, F32, double, F64, double>(param, po, m, v, so, n, s, rule),
            (DType.Float32, DType.Float16) => Apply<float, F32, Half, F16, float>(param, po, m, v, so, n, s, rule),
            (DType.Float32, DType.BFloat16) => Apply<float, F32, BFloat16, BF16, float>(param, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float32) => Apply<double, F64, float, F32, float>(param, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float64) => Apply<double, F64, double, F64, double>(param, po, m, v, so, n, s, rule),
            (DType.Float64, DType.Float16) => Apply<double, F64, Half, F16, float>(param, po, m, v, so, n, s, rule),
            (DType.Float64, DType.BFloat16) => Apply<double, F64, BFloat16, BF16, float>(param, po, m, v, so, n, s, rule),
            _ => throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, state {m.DType}.", nameof(param)),
        };

    static long Step<TP, TPE, TS, TSE, TC>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ref TP p = ref MemoryMarshal.GetReference(param.Span<TP>(po, n));
        ref TP g = ref MemoryMarshal.GetReference(grad.Span<TP>(po, n));
        ref TS ms = ref MemoryMarshal.GetReference(m.Span<TS>(so, n));
        ref TS vs = ref MemoryMarshal.GetReference(v.Span<TS>(so, n));
        var c = new HomeAdamScalarsOf<TC>(s);
        TP decay = TPE.Scalar(s.DecayFactor);
        long adaptive = 0;
        int done = KernelDriver512.IsAccelerated ? KernelDriver512.HomeAdamStep<TP, TS, TC>(ref p, ref g, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : KernelDriver256.IsAccelerated ? KernelDriver256.HomeAdamStep<TP, TS, TC>(ref p, ref g, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : KernelDriver128.IsAccelerated ? KernelDriver128.HomeAdamStep<TP, TS, TC>(ref p, ref g, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : 0;
        // The tail is the scalar kernel itself (its two passes): the same formula, by construction.
        HomeAdamFamilyKernel.Moments<TP, TPE, TS, TSE, TC>(grad, po + done, m, v, so + done, n - done, s);
        return adaptive + HomeAdamFamilyKernel.ApplyCore<TP, TPE, TS, TSE, TC>(param, po + done, m, v, so + done, n - done, s, rule);
    }

    static double Moments<TP, TPE, TS, TSE, TC>(TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ref TP g = ref MemoryMarshal.GetReference(grad.Span<TP>(po, n));
        ref TS ms = ref MemoryMarshal.GetReference(m.Span<TS>(so, n));
        ref TS vs = ref MemoryMarshal.GetReference(v.Span<TS>(so, n));
        var c = new HomeAdamScalarsOf<TC>(s);
        TC min = TC.PositiveInfinity;
        int done = KernelDriver512.IsAccelerated ? KernelDriver512.HomeAdamMoments<TP, TS, TC>(ref g, ref ms, ref vs, n, c, ref min)
            : KernelDriver256.IsAccelerated ? KernelDriver256.HomeAdamMoments<TP, TS, TC>(ref g, ref ms, ref vs, n, c, ref min)
            : KernelDriver128.IsAccelerated ? KernelDriver128.HomeAdamMoments<TP, TS, TC>(ref g, ref ms, ref vs, n, c, ref min)
            : 0;
        // The tail is the scalar kernel itself: the same formula, by construction.
        double tailMin = HomeAdamFamilyKernel.Moments<TP, TPE, TS, TSE, TC>(grad, po + done, m, v, so + done, n - done, s);
        return double.CreateTruncating(VectorMath.CombineMin(min, TC.CreateTruncating(tailMin)));
    }

    static long Apply<TP, TPE, TS, TSE, TC>(TensorBuffer param, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ref TP p = ref MemoryMarshal.GetReference(param.Span<TP>(po, n));
        ref TS ms = ref MemoryMarshal.GetReference(m.Span<TS>(so, n));
        ref TS vs = ref MemoryMarshal.GetReference(v.Span<TS>(so, n));
        var c = new HomeAdamScalarsOf<TC>(s);
        TP decay = TPE.Scalar(s.DecayFactor);
        long adaptive = 0;
        int done = KernelDriver512.IsAccelerated ? KernelDriver512.HomeAdamApply<TP, TS, TC>(ref p, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : KernelDriver256.IsAccelerated ? KernelDriver256.HomeAdamApply<TP, TS, TC>(ref p, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : KernelDriver128.IsAccelerated ? KernelDriver128.HomeAdamApply<TP, TS, TC>(ref p, ref ms, ref vs, n, c, decay, s.HasDecay, rule, ref adaptive)
            : 0;
        return adaptive + HomeAdamFamilyKernel.ApplyCore<TP, TPE, TS, TSE, TC>(param, po + done, m, v, so + done, n - done, s, rule);
    }
}
