namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// THE PLUG-IN POINT for optimizer-level rows and for the convergence workloads.
/// </summary>
/// <remarks>
/// Today every kind maps to a "functional" stepper built from the production kernels (Steppers/Functional*.cs):
/// one tensor per parameter, state buffers owned by the stepper, scalars computed per step the way the
/// optimizer classes compute them. Once the optimizer classes (AdamW, AdamSrf, HomeAdam, HomeAdamEW, Stac)
/// are merged, give each kind an adapter that creates the real optimizer over <c>tensors</c> and exposes
/// each Parameter's value and gradient spans through <see cref="ITrainable"/>, and return it from
/// <see cref="Create"/> (keep the functional ones under <see cref="CreateFunctional"/> so both rows can be
/// compared). <see cref="Backend"/> names the rows in latest.json ("functional" until then, "optimizer" after).
/// SGD with momentum has no production class; it stays the hand-written stepper.
/// </remarks>
public static class OptimizerRegistry
{
    public static string Backend => "functional";

    public static TrainableFactory Create(OptimizerKind kind) => CreateFunctional(kind);

    public static TrainableFactory CreateFunctional(OptimizerKind kind) => kind switch
    {
        OptimizerKind.AdamW => (tensors, settings) => new FunctionalAdamW(tensors, settings),
        OptimizerKind.AdamSrf or OptimizerKind.HomeAdam or OptimizerKind.HomeAdamEW
            => (tensors, settings) => new FunctionalHomeAdamFamily(kind, tensors, settings),
        OptimizerKind.Stac => (tensors, settings) => new FunctionalStac(tensors, settings),
        OptimizerKind.SgdMomentum => (tensors, settings) => new SgdMomentum(tensors, settings),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer kind."),
    };
}
