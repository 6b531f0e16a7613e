using BenchmarkDotNet.Attributes;
using Optimizers.Benchmarks.Workloads;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>Names the optimizer a benchmark class steps, so the GB/s column knows its bytes per element.</summary>
// Inherited: BenchmarkDotNet runs a generated subclass of the benchmark type.
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class StepsOptimizerAttribute(KernelOptimizer optimizer) : Attribute
{
    public KernelOptimizer Optimizer { get; } = optimizer;
}

/// <summary>
/// One optimizer step at kernel level, per path, with the scalar kernel as the baseline. The SIMD width
/// is not a parameter: it comes from the job's DOTNET_Enable* environment variables (BdnConfig).
/// </summary>
public abstract class KernelStepBenchmark
{
    KernelWorkload _workload = null!;

    [ParamsSource(nameof(Shapes))]
    public ShapeCase Shape { get; set; } = ShapeCase.Standard[0];

    [ParamsSource(nameof(StateDTypes))]
    public DType StateDType { get; set; }

    public IEnumerable<ShapeCase> Shapes => ShapeCase.Standard;

    public IEnumerable<DType> StateDTypes =>
        new[] { DType.Float32, DType.BFloat16 }.Where(dtype => BytesPerElement.Supports(Optimizer, dtype));

    protected KernelOptimizer Optimizer =>
        ((StepsOptimizerAttribute)Attribute.GetCustomAttribute(GetType(), typeof(StepsOptimizerAttribute))!).Optimizer;

    [GlobalSetup]
    public void Setup()
    {
        // Printed into the BenchmarkDotNet log by the child process: proof of the ISA this job really ran with.
        Console.WriteLine($"// ISA seen by the benchmark process: {IsaInfo.Describe()}");
        _workload = new KernelWorkload(Optimizer, Shape, StateDType);
    }

    [Benchmark(Baseline = true)]
    public long Scalar() => _workload.Step(KernelPath.Scalar);

    [Benchmark]
    public long Simd() => _workload.Step(KernelPath.Simd);

    [Benchmark]
    public long Threads() => _workload.Step(KernelPath.Threads);
}

[StepsOptimizer(KernelOptimizer.AdamW), BenchmarkCategory("AdamW")]
public class AdamWStep : KernelStepBenchmark;

[StepsOptimizer(KernelOptimizer.AdamSrf), BenchmarkCategory("AdamSrf")]
public class AdamSrfStep : KernelStepBenchmark;

[StepsOptimizer(KernelOptimizer.HomeAdam), BenchmarkCategory("HomeAdam")]
public class HomeAdamStep : KernelStepBenchmark;

[StepsOptimizer(KernelOptimizer.HomeAdamEW), BenchmarkCategory("HomeAdamEW")]
public class HomeAdamEWStep : KernelStepBenchmark;

[StepsOptimizer(KernelOptimizer.StacTrunk), BenchmarkCategory("StacTrunk")]
public class StacTrunkStep : KernelStepBenchmark;

[StepsOptimizer(KernelOptimizer.StacCap), BenchmarkCategory("StacCap")]
public class StacCapStep : KernelStepBenchmark;
