// Generated from KernelDriver512.cs by generate-widths.sh: edit that file, not this one.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Optimizers.Kernels.Simd.VectorConvert128;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// The block loops at width 128: each walks the whole blocks of a segment (Vector128&lt;float&gt;.Count elements
/// each), calls the formula's Vector128 Invoke on every vector of the block, and returns how many elements
/// it covered; the caller runs the scalar formula on the rest. When the compute or parameter type is double,
/// a block holds two double vectors and the formula runs on each.
/// </summary>
internal static class KernelDriver128
{
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;

    // ---- HomeAdam family ---------------------------------------------------------------------------

    /// <summary>The HomeAdam-family scalars broadcast once per call.</summary>
    internal readonly struct HomeAdamVectors<TP, TC>(in HomeAdamScalarsOf<TC> c, TP decayFactor)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        public readonly Vector128<TC> LerpWeight = Vector128.Create(c.LerpWeight), OneMinusLerpWeight = Vector128.Create(c.OneMinusLerpWeight);
        public readonly Vector128<TC> Beta2 = Vector128.Create(c.Beta2), OneMinusBeta2 = Vector128.Create(c.OneMinusBeta2);
        public readonly Vector128<TC> BiasCorrection2 = Vector128.Create(c.BiasCorrection2), StepSize = Vector128.Create(c.StepSize);
        public readonly Vector128<TC> Eps = Vector128.Create(c.Eps), Tau = Vector128.Create(c.Tau);
        public readonly Vector128<TP> Decay = Vector128.Create(decayFactor);
        public readonly bool LowWeight = c.LowWeight;
    }

    public static int HomeAdamMoments<TP, TS, TC>(ref TP grad, ref TS m, ref TS v, int length, in HomeAdamScalarsOf<TC> c, ref TC min)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TS : unmanaged where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var k = new HomeAdamVectors<TP, TC>(c, TP.One);
        Vector128<TC> lanesMin = Vector128.Create(TC.PositiveInfinity);
        int block = BlockLength, i = 0;
        for (; i <= length - block; i += block)
            lanesMin = MomentsBlock(ref grad, ref m, ref v, (nuint)i, k, lanesMin, trackMinimum: true, out _, out _, out _, out _);
        min = VectorMath.FoldMin(min, lanesMin);
        return i;
    }

    public static int HomeAdamApply<TP, TS, TC>(ref TP param, ref TS m, ref TS v, int length, in HomeAdamScalarsOf<TC> c, TP decayFactor, bool hasDecay,
        BranchRule rule, ref long adaptiveCount)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TS : unmanaged where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var k = new HomeAdamVectors<TP, TC>(c, decayFactor);
        long adaptive = 0;
        int block = BlockLength, i = 0;
        for (; i <= length - block; i += block)
        {
            Load<TS, TC>(ref m, (nuint)i, out Vector128<TC> m0, out Vector128<TC> m1);
            Load<TS, TC>(ref v, (nuint)i, out Vector128<TC> v0, out Vector128<TC> v1);
            adaptive += ApplyBlock(ref param, m0, m1, v0, v1, (nuint)i, k, hasDecay, rule);
        }
        adaptiveCount += adaptive;
        return i;
    }

    /// <summary>Moments then update, block by block: one pass over memory, the same bits as the two passes of the scalar kernel.</summary>
    public static int HomeAdamStep<TP, TS, TC>(ref TP param, ref TP grad, ref TS m, ref TS v, int length, in HomeAdamScalarsOf<TC> c, TP decayFactor, bool hasDecay,
        BranchRule rule, ref long adaptiveCount)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TS : unmanaged where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        var k = new HomeAdamVectors<TP, TC>(c, decayFactor);
        long adaptive = 0;
        int block = BlockLength, i = 0;
        for (; i <= length - block; i += block)
        {
            // The update takes the moments as stored (rounded to the state type) from registers, not from memory:
            // a reload right after the store stalls on store forwarding in a loop that is otherwise streaming.
            MomentsBlock(ref grad, ref m, ref v, (nuint)i, k, default, trackMinimum: false, out Vector128<TC> m0, out Vector128<TC> m1, out Vector128<TC> v0, out Vector128<TC> v1);
            adaptive += ApplyBlock(ref param, m0, m1, v0, v1, (nuint)i, k, hasDecay, rule);
        }
        adaptiveCount += adaptive;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<TC> MomentsBlock<TP, TS, TC>(ref TP grad, ref TS m, ref TS v, nuint at, in HomeAdamVectors<TP, TC> k, Vector128<TC> lanesMin, bool trackMinimum,
        out Vector128<TC> mStored0, out Vector128<TC> mStored1, out Vector128<TC> vStored0, out Vector128<TC> vStored1)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TS : unmanaged where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        Load<TP, TP>(ref grad, at, out Vector128<TP> g0, out Vector128<TP> g1);
        Convert(g0, g1, out Vector128<TC> gc0, out Vector128<TC> gc1);
        Load<TS, TC>(ref m, at, out Vector128<TC> m0, out Vector128<TC> m1);
        Load<TS, TC>(ref v, at, out Vector128<TC> v0, out Vector128<TC> v1);
        // grad.to(state dtype): the stored type's rounding first.
        HomeAdamMomentsOp.Invoke(RoundTrip<TS, TC>(gc0), ref m0, ref v0, k.LerpWeight, k.OneMinusLerpWeight, k.LowWeight, k.Beta2, k.OneMinusBeta2);
        if (typeof(TC) == typeof(double))
            HomeAdamMomentsOp.Invoke(gc1, ref m1, ref v1, k.LerpWeight, k.OneMinusLerpWeight, k.LowWeight, k.Beta2, k.OneMinusBeta2);
        Store(ref m, at, m0, m1);
        Store(ref v, at, v0, v1);
        // What a load of the stored values would give: a second vector only ever holds float64 state, stored exactly.
        mStored0 = RoundTrip<TS, TC>(m0);
        mStored1 = m1;
        vStored0 = RoundTrip<TS, TC>(v0);
        vStored1 = v1;
        // A constant at every call site: the fused step has no use for the minimum.
        if (!trackMinimum) return lanesMin;
        lanesMin = VectorMath.MinPropagatingNaN(lanesMin, RoundTrip<TS, TC>(v0));
        if (typeof(TC) == typeof(double))
            lanesMin = VectorMath.MinPropagatingNaN(lanesMin, v1);
        return lanesMin;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int ApplyBlock<TP, TC>(ref TP param, Vector128<TC> m0, Vector128<TC> m1, Vector128<TC> v0, Vector128<TC> v1, nuint at, in HomeAdamVectors<TP, TC> k, bool hasDecay, BranchRule rule)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        Vector128<TC> d0 = HomeAdamDirectionOp.Invoke(m0, v0, k.BiasCorrection2, k.StepSize, k.Eps, k.Tau, rule, out Vector128<TC> a0), d1 = default;
        int adaptive = BitOperations.PopCount(a0.ExtractMostSignificantBits());
        if (typeof(TC) == typeof(double))
        {
            d1 = HomeAdamDirectionOp.Invoke(m1, v1, k.BiasCorrection2, k.StepSize, k.Eps, k.Tau, rule, out Vector128<TC> a1);
            adaptive += BitOperations.PopCount(a1.ExtractMostSignificantBits());
        }
        Convert(d0, d1, out Vector128<TP> delta0, out Vector128<TP> delta1);
        Load<TP, TP>(ref param, at, out Vector128<TP> p0, out Vector128<TP> p1);
        p0 = HomeAdamParameterOp.Invoke(p0, delta0, k.Decay, hasDecay);
        if (typeof(TP) == typeof(double))
            p1 = HomeAdamParameterOp.Invoke(p1, delta1, k.Decay, hasDecay);
        Store(ref param, at, p0, p1);
        return adaptive;
    }

    // ---- AdamW (torch 1.13), one type throughout -------------------------------------------------------

    public static int AdamW<T>(ref T param, ref T grad, ref T m, ref T v, ref T vmax, int length, in AdamWScalars s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector128<T> beta1 = Vector128.Create(T.CreateTruncating(s.Beta1)), oneMinusBeta1 = Vector128.Create(T.CreateTruncating(s.OneMinusBeta1));
        Vector128<T> beta2 = Vector128.Create(T.CreateTruncating(s.Beta2)), oneMinusBeta2 = Vector128.Create(T.CreateTruncating(s.OneMinusBeta2));
        Vector128<T> negStepSize = Vector128.Create(T.CreateTruncating(s.NegStepSize)), bc2Sqrt = Vector128.Create(T.CreateTruncating(s.BiasCorrection2Sqrt));
        Vector128<T> eps = Vector128.Create(T.CreateTruncating(s.Eps)), decay = Vector128.Create(T.CreateTruncating(s.DecayFactor));
        bool amsgrad = s.Amsgrad, maximize = s.Maximize;
        int block = BlockLength, i = 0;
        for (; i <= length - block; i += block)
        {
            nuint at = (nuint)i;
            Load<T, T>(ref param, at, out Vector128<T> p0, out Vector128<T> p1);
            Load<T, T>(ref grad, at, out Vector128<T> g0, out Vector128<T> g1);
            Load<T, T>(ref m, at, out Vector128<T> m0, out Vector128<T> m1);
            Load<T, T>(ref v, at, out Vector128<T> v0, out Vector128<T> v1);
            Vector128<T> x0 = default, x1 = default;
            if (amsgrad) Load<T, T>(ref vmax, at, out x0, out x1);
            AdamWOp.Invoke(ref p0, g0, ref m0, ref v0, ref x0, beta1, oneMinusBeta1, beta2, oneMinusBeta2, negStepSize, bc2Sqrt, eps, decay, amsgrad, maximize);
            if (typeof(T) == typeof(double))
                AdamWOp.Invoke(ref p1, g1, ref m1, ref v1, ref x1, beta1, oneMinusBeta1, beta2, oneMinusBeta2, negStepSize, bc2Sqrt, eps, decay, amsgrad, maximize);
            Store(ref param, at, p0, p1);
            Store(ref m, at, m0, m1);
            Store(ref v, at, v0, v1);
            if (amsgrad) Store(ref vmax, at, x0, x1);
        }
        return i;
    }

    // ---- STAC trunk -----------------------------------------------------------------------------------

    public static int StacTrunk<TP, TS, TC>(ref TP param, ref TP grad, ref TS buffer, int length, in StacTrunkScalars s)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TS : unmanaged where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        Vector128<TP> decay = Vector128.Create(TP.CreateTruncating(s.DecayFactor)), negLr = Vector128.Create(TP.CreateTruncating(s.NegLr));
        Vector128<TC> mu = Vector128.Create(TC.CreateTruncating(s.Momentum)), oneMinusMu = Vector128.Create(TC.CreateTruncating(s.OneMinusMomentum));
        bool hasDecay = s.HasDecay, hasMomentum = s.HasMomentum, maximize = s.Maximize;
        int block = BlockLength, i = 0;
        for (; i <= length - block; i += block)
        {
            nuint at = (nuint)i;
            Load<TP, TP>(ref param, at, out Vector128<TP> p0, out Vector128<TP> p1);
            Load<TP, TP>(ref grad, at, out Vector128<TP> u0, out Vector128<TP> u1);
            if (maximize)
            {
                u0 = VectorMath.Negate(u0);
                u1 = VectorMath.Negate(u1);
            }
            Vector128<TP> direction0, direction1;
            if (hasMomentum)
            {
                Convert(u0, u1, out Vector128<TC> uc0, out Vector128<TC> uc1);
                Load<TS, TC>(ref buffer, at, out Vector128<TC> b0, out Vector128<TC> b1);
                b0 = StacMomentumOp.Invoke(RoundTrip<TS, TC>(uc0), b0, mu, oneMinusMu);
                if (typeof(TC) == typeof(double))
                    b1 = StacMomentumOp.Invoke(uc1, b1, mu, oneMinusMu);
                Store(ref buffer, at, b0, b1);
                Vector128<TC> sign0 = StacSignOp.Invoke(RoundTrip<TS, TC>(b0)), sign1 = default;
                if (typeof(TC) == typeof(double))
                    sign1 = StacSignOp.Invoke(b1);
                Convert(sign0, sign1, out direction0, out direction1);
            }
            else
            {
                direction0 = StacSignOp.Invoke(u0);
                direction1 = typeof(TP) == typeof(double) ? StacSignOp.Invoke(u1) : default;
            }
            p0 = StacParameterOp.Invoke(p0, direction0, negLr, decay, hasDecay);
            if (typeof(TP) == typeof(double))
                p1 = StacParameterOp.Invoke(p1, direction1, negLr, decay, hasDecay);
            Store(ref param, at, p0, p1);
        }
        return i;
    }
}
