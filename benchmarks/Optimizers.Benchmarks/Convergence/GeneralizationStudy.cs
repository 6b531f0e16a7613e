using System.Globalization;
using System.Text;
using Optimizers.Benchmarks.Reporting;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Convergence;

/// <summary>
/// Does the optimizer change how well a network generalizes? A 16→32→32→4 ReLU student fits 64 noisy
/// samples of a random 16→16→4 ReLU teacher (noise σ 0.5, so the training set can be over-fitted); the
/// learning rate of each configuration is picked from a small grid by the mean final loss on a 256-sample
/// validation split, and the final losses on a 2048-sample test split are reported with the gap (test − train).
/// HomeAdamEW runs at several τ, from "always adaptive" to "mostly SGDM"; HomeAdam at the two τ that behave
/// differently on this network (<see cref="HomeAdamSecondMoments"/> says why). No weight decay, so
/// the update rules alone differ.
/// </summary>
public static class GeneralizationStudy
{
    const int InputWidth = 16, TeacherHidden = 16, OutputWidth = 4;
    const int TrainSamples = 64, ValidationSamples = 256, TestSamples = 2048;
    const double LabelNoise = 0.5;
    const int EvalEvery = 10;

    public sealed record Config(string Name, OptimizerKind Kind, double? Tau, double[] LearningRates, int ColorIndex);

    static readonly double[] HomeAdamRates = [3e-5, 3e-4, 3e-3, 3e-2];

    /// <summary>The HomeAdam row whose group minimum of v̂ the notes trace.</summary>
    public const string SgdmVetoName = "HomeAdam τ=1e-12";

    public static IReadOnlyList<Config> Configs { get; } =
    [
        new("SGD + momentum 0.9", OptimizerKind.SgdMomentum, null, [1e-2, 3e-2, 1e-1], 0),
        new("AdamW", OptimizerKind.AdamW, null, [1e-3, 3e-3, 1e-2], 1),
        new("AdamSRF", OptimizerKind.AdamSrf, null, HomeAdamRates, 2),
        // Every τ > 0 that float32 can hold gives HomeAdam the same trajectory here (an exactly-zero v̂ vetoes it, see
        // HomeAdamSecondMoments), so one such τ stands for all of them; 1e-46 rounds to 0 in the float32 state, lets
        // the zeros pass, and shows the adaptive branch.
        new(SgdmVetoName, OptimizerKind.HomeAdam, 1e-12, HomeAdamRates, 3),
        new("HomeAdam τ=1e-46 (0 in fp32)", OptimizerKind.HomeAdam, 1e-46, HomeAdamRates, 4),
        new("HomeAdamEW τ=1e-12", OptimizerKind.HomeAdamEW, 1e-12, HomeAdamRates, 6),
        new("HomeAdamEW τ=1e-6", OptimizerKind.HomeAdamEW, 1e-6, HomeAdamRates, 7),
        new("HomeAdamEW τ=1e-3", OptimizerKind.HomeAdamEW, 1e-3, HomeAdamRates, 8),
    ];

    public sealed record ConfigResult(Config Config, double Lr, int Seeds, int DivergedRuns,
        double Train, double Validation, double Test, double? AdaptiveFraction,
        double[] TrainCurve, double[] TestCurve)
    {
        public double Gap => Test - Train;
    }

    internal sealed record Split(Dataset Train, Dataset Validation, Dataset Test);

    internal static Split Data(int seed)
    {
        var rng = new Xoshiro256(1000 + (ulong)seed);
        var w1 = new float[TeacherHidden * InputWidth];
        var b1 = new float[TeacherHidden];
        var w2 = new float[OutputWidth * TeacherHidden];
        rng.FillNormal(w1, Math.Sqrt(2.0 / InputWidth));
        rng.FillNormal(b1, 0.1);
        rng.FillNormal(w2, Math.Sqrt(1.0 / TeacherHidden));
        Dataset Draw(int count)
        {
            var x = new float[count * InputWidth];
            rng.FillNormal(x, 1.0);
            var y = new float[count * OutputWidth];
            var h = new float[TeacherHidden];
            for (int s = 0; s < count; s++)
            {
                for (int j = 0; j < TeacherHidden; j++)
                {
                    float z = b1[j];
                    for (int i = 0; i < InputWidth; i++) z += w1[j * InputWidth + i] * x[s * InputWidth + i];
                    h[j] = Math.Max(z, 0f);
                }
                for (int o = 0; o < OutputWidth; o++)
                {
                    float z = 0f;
                    for (int j = 0; j < TeacherHidden; j++) z += w2[o * TeacherHidden + j] * h[j];
                    y[s * OutputWidth + o] = z + (float)(LabelNoise * rng.NextNormal());
                }
            }
            return new Dataset(x, y, count, InputWidth, OutputWidth);
        }
        return new Split(Draw(TrainSamples), Draw(ValidationSamples), Draw(TestSamples));
    }

    internal static Mlp Student() => new([InputWidth, 32, 32, OutputWidth], ["fc1", "fc2", "head"]);

    public static List<ConfigResult> Run(int seeds, int steps, Action<string> log)
    {
        var splits = Enumerable.Range(0, seeds).Select(Data).ToArray();
        var jobs = Configs.SelectMany(c => c.LearningRates.Select(lr => (Config: c, Lr: lr))).ToList();
        var outcomes = jobs.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Min(2, Environment.ProcessorCount))
            .Select(job => (job.Config, job.Lr, Runs: Enumerable.Range(0, seeds).Select(seed =>
                Training.Run(Student(), OptimizerRegistry.Create(job.Config.Kind),
                    new OptimizerSettings(Lr: job.Lr, Momentum: 0.9, Tau: job.Config.Tau ?? 1.0, Telemetry: true),
                    splits[seed].Train, splits[seed].Validation, splits[seed].Test, steps, 2000 + (ulong)seed, EvalEvery)).ToList()))
            .ToList();

        var results = new List<ConfigResult>();
        foreach (var config in Configs)
        {
            var candidates = outcomes.Where(o => o.Config == config && o.Runs.All(r => !r.Diverged)).ToList();
            foreach (var o in outcomes.Where(o => o.Config == config))
                log($"  {config.Name,-20} lr {o.Lr,-7:G3} validation {Training.Mean(o.Runs.Where(r => !r.Diverged).Select(r => r.Validation[^1])):G4}" +
                    $" ({o.Runs.Count(r => r.Diverged)} diverged)");
            if (candidates.Count == 0)
            {
                results.Add(new ConfigResult(config, double.NaN, seeds, seeds, double.NaN, double.NaN, double.NaN, null, [], []));
                continue;
            }
            var best = candidates.MinBy(o => Training.Mean(o.Runs.Select(r => r.Validation[^1])));
            var runs = best.Runs;
            results.Add(new ConfigResult(config, best.Lr, seeds, outcomes.Where(o => o.Config == config).Sum(o => o.Runs.Count(r => r.Diverged)),
                // After the last update, like the held-out losses.
                Train: Training.Mean(runs.Select(r => r.FinalTrain)),
                Validation: Training.Mean(runs.Select(r => r.Validation[^1])),
                Test: Training.Mean(runs.Select(r => r.Test[^1])),
                AdaptiveFraction: runs.All(r => r.AdaptiveFraction is not null) ? runs.Average(r => r.AdaptiveFraction!.Value) : null,
                TrainCurve: Training.MeanCurve(runs.Select(r => r.Train).ToList()),
                TestCurve: Training.MeanCurve(runs.Select(r => r.Test).ToList())));
        }
        return results;
    }

    public static string Markdown(IReadOnlyList<ConfigResult> results, int steps, IReadOnlyList<HomeAdamSecondMoments.Trace> traces)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"{TrainSamples} training samples, {ValidationSamples} validation, {TestSamples} test; {steps} full-batch steps; mean over {results.FirstOrDefault()?.Seeds ?? 0} seeds; lr chosen by validation loss.");
        md.AppendLine();
        md.AppendLine("| optimizer | lr | train loss | validation loss | test loss | gap (test − train) | adaptive share, last step | diverged runs (whole grid) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Config.Name} | {r.Lr:G3} | {r.Train:F4} | {r.Validation:F4} | {r.Test:F4} | {r.Gap:F4} | {(r.AdaptiveFraction is double a ? a.ToString("P1", CultureInfo.InvariantCulture) : "–")} | {r.DivergedRuns} |");
        if (traces.Count > 0) md.Append(HomeAdamNotes(traces));
        return md.ToString();
    }

    public static string Chart(IReadOnlyList<ConfigResult> results, bool test)
        => SvgCharts.Line(test ? "Generalization study: test loss (held-out 2048 samples)" : "Generalization study: training loss (64 samples)",
            "step", "MSE (log scale)",
            results.Where(r => r.TrainCurve.Length > 0).Select(r => new ChartSeries($"{r.Config.Name} (lr {r.Lr.ToString("G3", CultureInfo.InvariantCulture)})",
                test ? r.TestCurve.Select((loss, k) => ((double)(k * EvalEvery), loss)).ToList()
                     : r.TrainCurve.Select((loss, k) => ((double)k, loss)).ToList(),
                r.Config.ColorIndex, Dashed: r.Config.Kind == OptimizerKind.HomeAdamEW)).ToList(),
            logY: true, width: 1000);

    /// <summary>HomeAdam at <see cref="SgdmVetoName"/>'s chosen lr, one trace per seed: what its group minimum of v̂ was made of.</summary>
    public static IReadOnlyList<HomeAdamSecondMoments.Trace> TraceHomeAdam(IReadOnlyList<ConfigResult> results, int seeds, int steps)
    {
        var row = results.FirstOrDefault(r => r.Config.Name == SgdmVetoName);
        if (row is null || double.IsNaN(row.Lr)) return [];
        return Enumerable.Range(0, seeds).Select(seed => HomeAdamSecondMoments.Run(seed, row.Lr, row.Config.Tau!.Value, steps)).ToList();
    }

    static string HomeAdamNotes(IReadOnlyList<HomeAdamSecondMoments.Trace> traces)
    {
        string G(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
        var md = new StringBuilder();
        md.AppendLine();
        md.AppendLine("### Why HomeAdam takes SGDM at every τ here");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"HomeAdam at lr {G(traces[0].Lr)}, τ {G(traces[0].Tau)}, traced after every update: the group minimum of v̂ that decided (telemetry `MinVHat`),");
        md.AppendLine("and from the state dict the elements whose v̂ is exactly 0 and the smallest v̂ that is not.");
        md.AppendLine();
        md.AppendLine("| seed | steps with min v̂ = 0 | steps adaptive | elements with v̂ = 0, first → last step | smallest nonzero v̂ (any step) | where the zeros are (last step) |");
        md.AppendLine("|---:|---:|---:|---:|---:|---|");
        foreach (var t in traces)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Seed} | {t.Steps.Count(s => s.MinVHat == 0.0)} / {t.Steps.Length} | {t.AdaptiveSteps} | {t.Steps[0].ZeroElements} → {t.Steps[^1].ZeroElements} | {G(t.SmallestNonzero)} | {string.Join(", ", t.ZerosAtEnd.Select(z => $"{z.Tensor} {z.Zeros}/{z.Length}"))} |");
        md.AppendLine();
        md.AppendLine("""
            Some elements of this ReLU network get a gradient of exactly 0 at every step: the weights and bias of a hidden unit that
            is inactive on all 64 training samples, the head weights reading such a unit, and weights whose unit and input are never
            active on the same sample. Their v stays exactly 0, so the group minimum of v̂ is 0 from the first step on, and upstream's
            rule (one decision per parameter group: adaptive iff min v̂ ≥ τ) takes SGDM for every element at every τ > 0. Choosing
            τ below the smallest nonzero v̂ does not help: the zeros are below every positive τ. The only τ that lets them pass is
            one that rounds to 0 in the float32 state (τ ≤ 2⁻¹⁵⁰ ≈ 7e-46, the 1e-46 row): then every step is adaptive and HomeAdam
            follows AdamSRF's trajectory (its row and curve coincide with AdamSRF's). The τ = 1e-12 row therefore stands for every
            τ > 0 that float32 can hold. No τ makes this network switch between the branches during a run, so no row can show
            both. Zero-initialised biases are not the cause (ours start uniform on ±1/√fan_in). This is the documented per-group
            rule (paper-notes/homeadam.md, Box HA2), not an artefact of the harness; HomeAdamEW decides per element and is unaffected.
            """);
        return md.ToString();
    }
}
