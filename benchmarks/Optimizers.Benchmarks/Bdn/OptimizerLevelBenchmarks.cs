using BenchmarkDotNet.Attributes;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>
/// A whole Step() of each optimizer, through OptimizerRegistry: the functional steppers today, the
/// optimizer classes once they are wired in there. Costs the kernels plus the per-tensor host work.
/// </summary>
[BenchmarkCategory("OptimizerLevel")]
public class OptimizerLevelStep
{
    ITrainable _trainable = null!;

    [ParamsSource(nameof(Kinds))]
    public OptimizerKind Kind { get; set; }

    [ParamsSource(nameof(Shapes))]
    public ShapeCase Shape { get; set; } = ShapeCase.Standard[0];

    public static IEnumerable<OptimizerKind> Kinds =>
        [OptimizerKind.AdamW, OptimizerKind.AdamSrf, OptimizerKind.HomeAdam, OptimizerKind.HomeAdamEW, OptimizerKind.Stac];

    public static IEnumerable<ShapeCase> Shapes => ShapeCase.Standard;

    [GlobalSetup]
    public void Setup()
    {
        Console.WriteLine($"// ISA seen by the benchmark process: {IsaInfo.Describe()}");
        _trainable = OptimizerLevelWorkload.Create(Kind, Shape);
    }

    [Benchmark]
    public void Step() => _trainable.Step();
}

/// <summary>Builds an optimizer over a benchmark arena with seeded gradients; shared by BDN and the quick runner.</summary>
public static class OptimizerLevelWorkload
{
    public static ITrainable Create(OptimizerKind kind, ShapeCase shape, ulong seed = 20260302)
    {
        // STAC: every tensor its own layer, as in a deep stack of linear layers; the last one is the cap when
        // there are several, and a single tensor stays in the trunk (last_n_layers 0), the part STAC adds.
        var specs = Enumerable.Range(0, shape.Tensors)
            .Select(t => new TensorSpec($"layer{t}.weight", shape.ElementsPerTensor, $"layer{t}"))
            .ToList();
        var settings = new OptimizerSettings(Lr: 1e-3, WeightDecay: 1e-2, Tau: kind == OptimizerKind.HomeAdamEW ? 1e-12 : 1e-30,
            CapLastLayers: CapLayers(shape));
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

    /// <summary>Bytes a whole step moves; STAC's mixes trunk tensors and its one cap tensor.</summary>
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
