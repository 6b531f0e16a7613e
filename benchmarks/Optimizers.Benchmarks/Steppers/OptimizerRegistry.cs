namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// The one place where the optimizer-level rows and the convergence workloads get their optimizers: the production
/// classes (AdamW, AdamSrf, HomeAdam, HomeAdamEW, Stac) through <see cref="OptimizerTrainable"/>, and SGD with
/// momentum, which has no production class, as the hand-written <see cref="SgdMomentum"/>. <see cref="Backend"/>
/// names their rows in latest.json.
/// </summary>
public static class OptimizerRegistry
{
    public const string Backend = "optimizer";

    public static TrainableFactory Create(OptimizerKind kind) => kind switch
    {
        OptimizerKind.AdamW or OptimizerKind.AdamSrf or OptimizerKind.HomeAdam or OptimizerKind.HomeAdamEW or OptimizerKind.Stac
            => (tensors, settings) => OptimizerTrainable.Create(kind, tensors, settings),
        OptimizerKind.SgdMomentum => (tensors, settings) => new SgdMomentum(tensors, settings),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer kind."),
    };
}
