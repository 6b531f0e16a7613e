using Optimizers.Benchmarks.Bdn;
using Optimizers.Benchmarks.Reporting;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Quick;

/// <summary>The quick run's measurements of our own steps: kernel rows per path, and optimizer-level rows.</summary>
public static class KernelRows
{
    public static readonly KernelOptimizer[] Optimizers =
        [KernelOptimizer.AdamW, KernelOptimizer.AdamSrf, KernelOptimizer.HomeAdam, KernelOptimizer.HomeAdamEW, KernelOptimizer.StacTrunk, KernelOptimizer.StacCap];

    public static readonly DType[] StateDTypes = [DType.Float32, DType.BFloat16];

    public static string Name(KernelOptimizer optimizer) => optimizer switch
    {
        KernelOptimizer.AdamSrf => "AdamSRF",
        KernelOptimizer.StacTrunk => "STAC-trunk",
        KernelOptimizer.StacCap => "STAC-cap",
        _ => optimizer.ToString(),
    };

    public static string Name(OptimizerKind kind) => kind switch
    {
        OptimizerKind.AdamSrf => "AdamSRF",
        OptimizerKind.Stac => "STAC",
        _ => kind.ToString(),
    };

    static int ThreadsOf(KernelPath path) => path is KernelPath.Threads or KernelPath.Auto ? Math.Min(2, Environment.ProcessorCount) : 1;

    static string BackendOf(KernelPath path) => path switch
    {
        KernelPath.Scalar => "scalar",
        KernelPath.Simd => $"simd-{IsaInfo.Widest}",
        KernelPath.Threads => $"threads-{IsaInfo.Widest}",
        _ => $"auto-{IsaInfo.Widest}",
    };

    /// <summary>Every optimizer × state dtype × shape × path; the workload is built once and shared by its paths.</summary>
    public static List<ResultRow> Measure(IReadOnlyList<ShapeCase> shapes, IReadOnlyList<KernelPath> paths, TimingPlan plan, Action<string> log)
    {
        var rows = new List<ResultRow>();
        foreach (var optimizer in Optimizers)
        foreach (var state in StateDTypes.Where(d => BytesPerElement.Supports(optimizer, d)))
        foreach (var shape in shapes)
        {
            var workload = new KernelWorkload(optimizer, shape, state);
            foreach (var path in paths)
            {
                double ms = plan.MedianMs(() => workload.Step(path));
                var row = new ResultRow(Name(optimizer), BackendOf(path), shape.Elements, shape.Tensors, ThreadsOf(path),
                    BytesPerElement.Name(state), ms, Gbs: workload.BytesPerStep / ms / 1e6);
                rows.Add(row);
                log($"{row.Optimizer,-11} {row.Backend,-14} {shape,-11} {row.StateDtype,-9} {ms,10:F4} ms {row.Gbs,7:F1} GB/s");
            }
            workload = null;
            GC.Collect(); // the next workload's arenas should not have to wait for these to be freed
        }
        return rows;
    }

    /// <summary>
    /// Whole <c>Step()</c> calls of the production classes through <see cref="OptimizerRegistry"/>, float32 state, per
    /// KernelPath given to the optimizer; backend "optimizer-scalar", "optimizer-simd-v512", ... so that the rows sit
    /// next to the kernel rows of the same path.
    /// </summary>
    public static List<ResultRow> MeasureOptimizerLevel(IReadOnlyList<ShapeCase> shapes, IReadOnlyList<KernelPath> paths, TimingPlan plan, Action<string> log)
    {
        var rows = new List<ResultRow>();
        foreach (var kind in OptimizerLevelStep.Kinds)
        foreach (var shape in shapes)
        foreach (var path in paths)
        {
            var trainable = OptimizerLevelWorkload.Create(kind, shape, path);
            double ms = plan.MedianMs(trainable.Step);
            var row = new ResultRow(Name(kind), $"{OptimizerRegistry.Backend}-{BackendOf(path)}", shape.Elements, shape.Tensors, ThreadsOf(path),
                "float32", ms, Gbs: OptimizerLevelWorkload.BytesPerStep(kind, shape) / ms / 1e6);
            rows.Add(row);
            log($"{row.Optimizer,-11} {row.Backend,-22} {shape,-11} {row.StateDtype,-9} {ms,10:F4} ms {row.Gbs,7:F1} GB/s");
            trainable = null;
            GC.Collect();
        }
        return rows;
    }
}
