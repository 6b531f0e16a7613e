// The contract between the optimizer classes (which own arenas, state and policies) and the kernels
// (which own the arithmetic). Every method here follows paper-notes/numerics.md, "Operation
// sequences", to the letter, and every KernelPath gives the same bits.
//
// Conventions:
// - TParam is float or double; TState is float, double, Half or BFloat16 (Optimizers.Numerics.BFloat16).
// - Scalars arrive as double but already hold the value upstream uses: rounded to the compute type
//   (float32 for float32/bfloat16/float16 state, float64 for float64 state) by the *Scalars.Create factories.
// - Spans of one call have equal lengths and do not overlap; kernels validate this once and allocate nothing.

namespace Optimizers.Kernels;

/// <summary>Per-tensor scalars of one HomeAdam-family step (AdamSRF, HomeAdam, HomeAdamEW), rounded as upstream rounds them.</summary>
public readonly record struct HomeAdamScalars(
    double LerpWeight,      // w = fl(1 − β1): torch's lerp weight
    double Beta2,           // fl(β2)
    double OneMinusBeta2,   // fl(1 − β2)
    double BiasCorrection2, // bc2 = fl(1 − P2), P2 after this step's multiply
    double StepSize,        // s = fl(fl(lr) / fl(1 − P1))
    double Eps,             // fl(ε)
    double Tau,             // fl(τ)
    double DecayFactor,     // fl_param(1 − lr·λ) computed in double; used only when HasDecay
    bool HasDecay);

/// <summary>Per-tensor scalars of one torch-1.13 AdamW step (also the STAC cap).</summary>
public readonly record struct AdamWScalars(
    double Beta1,            // fl(β1)
    double OneMinusBeta1,    // fl(1 − β1)
    double Beta2,            // fl(β2)
    double OneMinusBeta2,    // fl(1 − β2)
    double NegStepSize,      // fl(−lr / (1 − β1^t)), bias correction in double
    double BiasCorrection2Sqrt, // fl(sqrt(1 − β2^t)), computed in double
    double Eps,              // fl(ε)
    double DecayFactor,      // fl(1 − lr·λ), applied always (torch 1.13 multiplies even by 1)
    bool Amsgrad,
    bool Maximize);

/// <summary>Per-tensor scalars of one STAC trunk step (sign of momentum).</summary>
public readonly record struct StacTrunkScalars(
    double Momentum,          // fl_buffer(μ)
    double OneMinusMomentum,  // fl_buffer(1 − μ)
    double NegLr,             // fl_param(−η)
    double DecayFactor,       // fl_param(1 − η·λ)
    bool HasDecay,
    bool HasMomentum,
    bool Maximize);

/// <summary>How HomeAdam-family apply passes choose between the adaptive step m/(v̂+ε) and the SGDM step m.</summary>
public enum BranchRule
{
    /// <summary>Every element adaptive (AdamSRF; HomeAdam when the group decided adaptive).</summary>
    Adaptive,
    /// <summary>Every element SGDM (HomeAdam when the group decided SGDM).</summary>
    Sgdm,
    /// <summary>Per element: adaptive iff v̂ ≥ τ (HomeAdamEW; NaN compares false and takes SGDM).</summary>
    ElementWise,
}
