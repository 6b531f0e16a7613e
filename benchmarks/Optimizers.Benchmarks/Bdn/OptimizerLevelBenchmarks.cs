using BenchmarkDotNet.Attributes;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>
/// A whole <c>Step()</c> of each production optimizer class (through OptimizerRegistry) at the sizes of issue 3,
/// per KernelPath (the optimizer's own option), with the scalar path as the baseline: the kernels plus the host work
/// per step (checks, runs, scalars, HomeAdam's decision). Telemetry is off, as a user would run it; every row must
/// show 0 B allocated.
/// </summary>
[BenchmarkCategory("OptimizerLevel")]
public class OptimizerLevelStep
{
    ITrainable _trainable = null!;

    [ParamsSource(nameof(Kinds))]
    public OptimizerKind Kind { get; set; }

    [ParamsSource(nameof(Shapes))]
    public ShapeCase Shape { get; set; } = Sizes[0];

    public static IEnumerable<OptimizerKind> Kinds =>
        [OptimizerKind.AdamW, OptimizerKind.AdamSrf, OptimizerKind.HomeAdam, OptimizerKind.HomeAdamEW, OptimizerKind.Stac];

    /// <summary>1e3, 1e5, 1e7 elements and 100 tensors totalling 1e7 (issue 3, item 10); the ragged size is a kernel matter.</summary>
    public static IReadOnlyList<ShapeCase> Sizes { get; } = [new(1, 1_000), new(1, 100_000), new(1, 10_000_000), new(100, 100_000)];

    public IEnumerable<ShapeCase> Shapes => Sizes;

    void Setup(KernelPath path)
    {
        Console.WriteLine($"// ISA seen by the benchmark process: {IsaInfo.Describe()}");
        _trainable = OptimizerLevelWorkload.Create(Kind, Shape, path);
    }

    [GlobalSetup(Target = nameof(Scalar))] public void SetupScalar() => Setup(KernelPath.Scalar);
    [GlobalSetup(Target = nameof(Simd))] public void SetupSimd() => Setup(KernelPath.Simd);
    [GlobalSetup(Target = nameof(Threads))] public void SetupThreads() => Setup(KernelPath.Threads);

    [Benchmark(Baseline = true)]
    public void Scalar() => _trainable.Step();

    [Benchmark]
    public void Simd() => _trainable.Step();

    [Benchmark]
    public void Threads() => _trainable.Step();
}

/// <summary>Builds an optimizer over a benchmark arena with seeded gradients; shared by BDN and the quick runner.</summary>
public static class OptimizerLevelWorkload
{
    public static ITrainable Create(OptimizerKind kind, ShapeCase shape, KernelPath path, ulong seed = 20260302)
    {
        // STAC: every tensor its own layer, as in a deep stack of linear layers; the last one is the cap when
        // there are several, and a single tensor stays in the trunk (last_n_layers 0), the part STAC adds.
        var specs = Enumerable.Range(0, shape.Tensors)
            .Select(t => new TensorSpec($"layer{t}.weight", shape.ElementsPerTensor, $"layer{t}"))
            .ToList();
        var settings = new OptimizerSettings(Lr: 1e-3, WeightDecay: 1e-2, Tau: kind == OptimizerKind.HomeAdamEW ? 1e-12 : 1e-30,
            CapLastLayers: CapLayers(shape), Path: path);
        var trainable = OptimizerRegistry.Create(kind)(specs, settings);
        var rng = new Xoshiro256(seed);
        for (int t = 0; t < trainable.TensorCount; t++)
        {
            rng.FillNormal(trainable.Value(t), 0.1);
            rng.FillNormal(trainable.Grad(t), 1e-2);
        }
        return trainable;
    }

    static int CapLayers(ShapeCase shape) => shape.Tensors > 1 ? 1 : 0;

    /// <summary>
    /// Bytes a whole step must move; STAC's mixes trunk tensors and its one cap tensor. STAC's default non-finite policy
    /// (skip the step) also reads every gradient once more before the step; that scan is not counted, as it is not part
    /// of the update itself.
    /// </summary>
    public static long BytesPerStep(OptimizerKind kind, ShapeCase shape)
    {
        long perElement(KernelOptimizer k) => BytesPerElement.For(k, DType.Float32);
        return kind switch
        {
            OptimizerKind.AdamW => perElement(KernelOptimizer.AdamW) * shape.Elements,
            OptimizerKind.AdamSrf => perElement(KernelOptimizer.AdamSrf) * shape.Elements,
            OptimizerKind.HomeAdam => perElement(KernelOptimizer.HomeAdam) * shape.Elements,
            OptimizerKind.HomeAdamEW => perElement(KernelOptimizer.HomeAdamEW) * shape.Elements,
            OptimizerKind.Stac => perElement(KernelOptimizer.StacCap) * CapLayers(shape) * shape.ElementsPerTensor
                + perElement(KernelOptimizer.StacTrunk) * (shape.Tensors - CapLayers(shape)) * (long)shape.ElementsPerTensor,
            _ => 0,
        };
    }
}
