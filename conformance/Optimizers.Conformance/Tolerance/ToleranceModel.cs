using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// The one tolerance model (paper-notes/numerics.md): for a step from given (bounded) inputs, a bounded result for every
/// parameter element and every state buffer, the branches left open by ambiguity zones, and the dtype of each buffer.
/// </summary>
public static class ToleranceModel
{
    /// <summary>
    /// Multiplies every bound before comparing. The running error analysis substitutes computed magnitudes for exact
    /// ones and the model follows upstream's operation order where the float64 reference may use another: both are
    /// second-order or constant-factor effects, covered by this factor.
    /// </summary>
    public const double SafetyFactor = 2.0;

    public static bool Supports(string optimizer) => optimizer is "AdamW" or "AdamSRF" or "HomeAdam" or "HomeAdamEW" or "STAC";

    public static StepBounds Step(TrajectoryCase c, BoundState before, IReadOnlyList<double[]?> grads, ErrorBudget budget) =>
        c.Optimizer switch
        {
            "AdamW" => AdamWBound.Step(c, before, grads, budget),
            "AdamSRF" or "HomeAdam" or "HomeAdamEW" => HomeAdamFamilyBound.Step(c, before, grads, budget),
            "STAC" => StacBound.Step(c, before, grads, budget),
            _ => throw new NotSupportedException($"The tolerance model has no formula for optimizer '{c.Optimizer}'."),
        };
}
