using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Steppers;

/// <summary>One optimizer step over every tensor it owns.</summary>
public interface IStepper
{
    void Step();
}

/// <summary>
/// An optimizer together with the parameters it steps: the workloads write gradients into <see cref="Grad"/>,
/// read weights from <see cref="Value"/>, and call <see cref="IStepper.Step"/>. Who owns the memory is the
/// implementation's business (the real optimizer classes keep it in their arenas).
/// </summary>
public interface ITrainable : IStepper
{
    int TensorCount { get; }
    Span<float> Value(int tensor);
    Span<float> Grad(int tensor);

    /// <summary>Share of elements that took the adaptive branch in the last step (HomeAdam family), else null.</summary>
    double? AdaptiveFraction => null;
}

/// <summary>
/// A parameter tensor: its name, its element count and the layer (module) that owns it, in registration
/// order. STAC puts the last <see cref="OptimizerSettings.CapLastLayers"/> distinct layers in its cap.
/// </summary>
public sealed record TensorSpec(string Name, int Length, string Layer);

public enum OptimizerKind
{
    AdamW,
    AdamSrf,
    HomeAdam,
    HomeAdamEW,
    Stac,
    SgdMomentum,
}

/// <summary>
/// Hyperparameters in upstream's vocabulary. Null means the optimizer's own default (HomeAdam family:
/// betas (0.9, 0.99), eps 1e-7; AdamW and STAC's cap: betas (0.9, 0.999), eps 1e-8). <see cref="Path"/> is the
/// optimizer's KernelPath; <see cref="Telemetry"/> turns on the optimizer's telemetry, which costs an extra read of
/// every gradient per step, so the timed rows leave it off and the convergence workloads turn it on.
/// </summary>
public sealed record OptimizerSettings(
    double Lr,
    double WeightDecay = 0.0,
    double? Beta1 = null,
    double? Beta2 = null,
    double? Eps = null,
    double Tau = 1.0,
    double Momentum = 0.9,
    int CapLastLayers = 1,
    double? TrunkLr = null,
    DType StateDType = DType.Float32,
    KernelPath Path = KernelPath.Auto,
    bool Telemetry = false);

/// <summary>Builds an optimizer over freshly allocated parameters shaped by <paramref name="tensors"/>.</summary>
public delegate ITrainable TrainableFactory(IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings);
