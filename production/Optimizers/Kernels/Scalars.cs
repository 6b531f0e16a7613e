namespace Optimizers.Kernels;

/// <summary>
/// Host-side scalar arithmetic of one step, done once per tensor, rounded exactly where upstream rounds
/// (paper-notes/operation-sequences.md): Python-double arithmetic first, then a cast to the tensor's dtype.
/// </summary>
public static class StepScalars
{
    /// <summary>Next running product P ← fl_S(P · fl_S(β)) of a bias correction, kept in the state dtype.</summary>
    public static double NextPower(DType state, double power, double beta)
        => Rounding.Stored(state, Rounding.To(state, power) * Rounding.To(state, beta));

    /// <summary>HomeAdam-family scalars for a tensor whose running products are already advanced to this step.</summary>
    public static HomeAdamScalars HomeAdam(DType state, DType param, double lr, double beta1, double beta2, double eps,
        double weightDecay, double tau, double beta1Power, double beta2Power)
    {
        double bc1 = Rounding.To(state, 1.0 - Rounding.To(state, beta1Power));
        double bc2 = Rounding.To(state, 1.0 - Rounding.To(state, beta2Power));
        return new HomeAdamScalars(
            LerpWeight: Rounding.To(state, 1.0 - beta1),
            Beta2: Rounding.To(state, beta2),
            OneMinusBeta2: Rounding.To(state, 1.0 - beta2),
            BiasCorrection2: bc2,
            StepSize: Rounding.To(state, Rounding.To(state, lr) / bc1),
            Eps: Rounding.To(state, eps),
            Tau: Rounding.To(state, tau),
            DecayFactor: Rounding.To(param, 1.0 - lr * weightDecay),
            HasDecay: weightDecay != 0.0);
    }

    /// <summary>torch 1.13 AdamW scalars for step <paramref name="step"/> (counted from 1); bias corrections in double.</summary>
    public static AdamWScalars AdamW(DType param, double lr, double beta1, double beta2, double eps, double weightDecay,
        double step, bool amsgrad, bool maximize)
    {
        double bc1 = 1.0 - Math.Pow(beta1, step);
        double bc2 = 1.0 - Math.Pow(beta2, step);
        return new AdamWScalars(
            Beta1: Rounding.To(param, beta1),
            OneMinusBeta1: Rounding.To(param, 1.0 - beta1),
            Beta2: Rounding.To(param, beta2),
            OneMinusBeta2: Rounding.To(param, 1.0 - beta2),
            NegStepSize: Rounding.To(param, -(lr / bc1)),
            BiasCorrection2Sqrt: Rounding.To(param, Math.Sqrt(bc2)),
            Eps: Rounding.To(param, eps),
            DecayFactor: Rounding.To(param, 1.0 - lr * weightDecay),
            Amsgrad: amsgrad,
            Maximize: maximize);
    }

    /// <summary>STAC trunk scalars; <paramref name="buffer"/> is the momentum buffer's dtype.</summary>
    public static StacTrunkScalars StacTrunk(DType param, DType buffer, double lr, double momentum, double weightDecay, bool maximize)
        => new(
            Momentum: Rounding.To(buffer, momentum),
            OneMinusMomentum: Rounding.To(buffer, 1.0 - momentum),
            NegLr: Rounding.To(param, -lr),
            DecayFactor: Rounding.To(param, 1.0 - lr * weightDecay),
            HasDecay: weightDecay != 0.0,
            HasMomentum: momentum != 0.0,
            Maximize: maximize);
}
