using Optimizers.Conformance.Replay;

namespace Optimizers.Conformance.Implementations;

/// <summary>
/// Every production path the harness runs by default: the automatic choice, each CPU path pinned, and each
/// accelerator backend <see cref="ProductionImplementation.FromName"/> knows (which report unsupported cases,
/// with the reason, where this machine lacks the device).
/// </summary>
public sealed class ProductionPaths : IImplementationFamily
{
    static readonly string[] Names =
        ["production", "production:scalar", "production:simd", "production:threads", "production:opencl", "production:cuda"];

    public IEnumerable<IImplementation> Members() =>
        Names.Select(ProductionImplementation.FromName).OfType<IImplementation>();
}
