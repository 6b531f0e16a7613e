using BenchmarkDotNet.Attributes;
using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>
/// One step of every conformance registry case on every CPU path: the cases the harness proves correct are the ones
/// timed here, so a shape or option the registry adds is benchmarked without a second list. The step goes through the
/// conformance adapter, which copies the float64 gradients into the parameters first; that copy is part of the
/// measured time, so compare paths with each other here and use the kernel benchmarks for bandwidth.
/// </summary>
[BenchmarkCategory("Registry")]
public class RegistryCaseStep
{
    IReplaySession _session = null!;
    IReadOnlyList<double[]?> _gradients = null!;

    [ParamsSource(nameof(CaseIds))]
    public string Case { get; set; } = "";

    [Params(KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads)]
    public KernelPath Path { get; set; }

    public static IEnumerable<string> CaseIds => CaseRegistry.All.Select(c => c.Id);

    [GlobalSetup]
    public void Setup()
    {
        var trajectory = CaseRegistry.Get(Case).Build();
        _gradients = trajectory.Steps[0].Grads;
        _session = new ProductionImplementation(Path).Start(trajectory);
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark]
    public void Step() => _session.Step(_gradients);
}
