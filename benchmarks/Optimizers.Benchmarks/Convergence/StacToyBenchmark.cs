using System.Globalization;
using System.Text;
using Optimizers.Benchmarks.Reporting;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Convergence;

/// <summary>
/// STAC's toy benchmark (upstream stac-optimizer 0.1.2, examples/toy_benchmark.py) rebuilt on our own RNG:
/// a 16→32→32→4 ReLU MLP (trunk_0, trunk_1, head), 256 samples X ~ N(0,1), Y = X·W + 0.1·noise with
/// W ~ N(0,1) 16×4, data seeds 0–4, one model initialisation for all runs, 200 full-batch MSE steps.
/// Upstream's numbers come from torch's generator and CUDA matmuls; we expect their ordering, not their values.
/// </summary>
public static class StacToyBenchmark
{
    public const int Samples = 256, Steps = 200;
    // Upstream seeds the model with torch.manual_seed(0); our data seed 0 would then draw the same stream,
    // so the model's generator gets a seed of its own.
    public const ulong ModelSeed = 1_000_000;
    public static readonly int[] DataSeeds = [0, 1, 2, 3, 4];

    public sealed record Config(string Name, OptimizerKind Kind, OptimizerSettings Settings, double UpstreamMeanFinalLoss);

    public static IReadOnlyList<Config> Configs { get; } =
    [
        new("STAC default (trunk μ 0.9)", OptimizerKind.Stac, new OptimizerSettings(Lr: 3e-3, WeightDecay: 1e-2, Momentum: 0.9, CapLastLayers: 1), 0.033961),
        new("STAC plain-sign trunk (μ 0)", OptimizerKind.Stac, new OptimizerSettings(Lr: 3e-3, WeightDecay: 1e-2, Momentum: 0.0, CapLastLayers: 1), 0.107899),
        new("AdamW", OptimizerKind.AdamW, new OptimizerSettings(Lr: 3e-3, WeightDecay: 1e-2), 0.074642),
    ];

    public sealed record ConfigResult(Config Config, double[] FinalLosses, double[] MeanCurve)
    {
        public double Mean => FinalLosses.Average();
    }

    /// <summary>X ~ N(0,1) samples×16, W ~ N(0,1) 16×4, Y = X·W + 0.1·noise; upstream's test suite (B9) draws 512 samples, its toy benchmark 256.</summary>
    public static Dataset Data(int seed, int samples = Samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        var rng = new Xoshiro256((ulong)seed);
        var x = new float[samples * 16];
        rng.FillNormal(x, 1.0);
        var w = new float[16 * 4];
        rng.FillNormal(w, 1.0);
        var y = new float[samples * 4];
        for (int s = 0; s < samples; s++)
            for (int o = 0; o < 4; o++)
            {
                float sum = 0f;
                for (int i = 0; i < 16; i++) sum += x[s * 16 + i] * w[i * 4 + o];
                y[s * 4 + o] = sum;
            }
        for (int k = 0; k < y.Length; k++) y[k] += (float)(0.1 * rng.NextNormal());
        return new Dataset(x, y, samples, 16, 4);
    }

    public static Mlp Network() => new([16, 32, 32, 4], ["trunk_0", "trunk_1", "head"]);

    public static List<ConfigResult> Run()
    {
        var results = new List<ConfigResult>();
        foreach (var config in Configs)
        {
            var runs = DataSeeds.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Min(2, Environment.ProcessorCount))
                .Select(seed => Training.Run(Network(), OptimizerRegistry.Create(config.Kind), config.Settings, Data(seed), null, null, Steps, ModelSeed, Steps))
                .ToList();
            results.Add(new ConfigResult(config, runs.Select(r => r.FinalTrainComputed).ToArray(), Training.MeanCurve(runs.Select(r => r.Train).ToList())));
        }
        return results;
    }

    /// <summary>True when our mean final losses rank the three configurations as upstream's do.</summary>
    public static bool OrderingMatchesUpstream(IReadOnlyList<ConfigResult> results)
        => results.OrderBy(r => r.Mean).Select(r => r.Config.Name)
            .SequenceEqual(results.OrderBy(r => r.Config.UpstreamMeanFinalLoss).Select(r => r.Config.Name));

    public static string Markdown(IReadOnlyList<ConfigResult> results)
    {
        var md = new StringBuilder();
        md.AppendLine("| configuration | mean final loss | min | max | rank | upstream mean (torch 2.10, CUDA) | upstream rank |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        var ours = results.OrderBy(r => r.Mean).Select(r => r.Config.Name).ToList();
        var theirs = results.OrderBy(r => r.Config.UpstreamMeanFinalLoss).Select(r => r.Config.Name).ToList();
        foreach (var r in results)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Config.Name} | {r.Mean:F6} | {r.FinalLosses.Min():F6} | {r.FinalLosses.Max():F6} | {ours.IndexOf(r.Config.Name) + 1} | {r.Config.UpstreamMeanFinalLoss:F6} | {theirs.IndexOf(r.Config.Name) + 1} |");
        md.AppendLine();
        md.AppendLine(OrderingMatchesUpstream(results)
            ? "Ordering: **matches upstream** (STAC default < AdamW < plain-sign trunk)."
            : "Ordering: **differs from upstream** (upstream: STAC default < AdamW < plain-sign trunk).");
        return md.ToString();
    }

    public static string Chart(IReadOnlyList<ConfigResult> results)
        => SvgCharts.Line("STAC toy benchmark: training loss, mean of data seeds 0–4", "step", "full-batch MSE (log scale)",
            results.Select((r, i) => new ChartSeries(r.Config.Name, r.MeanCurve.Select((loss, step) => ((double)step, loss)).ToList(), i)).ToList(),
            logY: true);
}
