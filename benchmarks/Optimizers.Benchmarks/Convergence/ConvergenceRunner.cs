using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Optimizers.Benchmarks.Reporting;
using Optimizers.Benchmarks.Steppers;

namespace Optimizers.Benchmarks.Convergence;

public sealed record ConvergenceSummary(string ToyMarkdown, bool ToyOrderingMatchesUpstream, string GeneralizationMarkdown);

/// <summary>Runs both convergence workloads and writes convergence.md, convergence.json and their charts.</summary>
public static class ConvergenceRunner
{
    public static ConvergenceSummary Run(string directory, bool full, Action<string> log)
    {
        Directory.CreateDirectory(directory);
        var clock = Stopwatch.StartNew();
        log($"convergence: STAC toy benchmark ({StacToyBenchmark.DataSeeds.Length} data seeds × {StacToyBenchmark.Configs.Count} configurations × {StacToyBenchmark.Steps} steps)");
        var toy = StacToyBenchmark.Run();
        foreach (var r in toy) log($"  {r.Config.Name,-30} mean final loss {r.Mean:F6} (upstream {r.Config.UpstreamMeanFinalLoss:F6})");

        int seeds = full ? 5 : 3, steps = full ? 1000 : 300;
        log($"convergence: generalization study ({seeds} seeds × {steps} steps, lr grid per configuration)");
        var study = GeneralizationStudy.Run(seeds, steps, log);
        var traces = GeneralizationStudy.TraceHomeAdam(study, seeds, steps);
        foreach (var t in traces)
            log($"  HomeAdam trace, seed {t.Seed}: min v̂ = 0 at {t.Steps.Count(s => s.MinVHat == 0.0)}/{t.Steps.Length} steps, " +
                $"{t.Steps[^1].ZeroElements} elements with v̂ = 0 at the end, smallest nonzero v̂ {t.SmallestNonzero:G3}");
        log($"convergence: {clock.Elapsed.TotalSeconds:F0} s");

        var toyMarkdown = StacToyBenchmark.Markdown(toy);
        var studyMarkdown = GeneralizationStudy.Markdown(study, steps, traces);
        var md = new StringBuilder();
        md.AppendLine("# Convergence workloads");
        md.AppendLine();
        md.AppendLine($"Optimizers come from `OptimizerRegistry` (backend: {OptimizerRegistry.Backend}). Data and initial weights come from our own");
        md.AppendLine("xoshiro256** + Box–Muller generator: torch's generator cannot be reproduced here, so losses are comparable between");
        md.AppendLine("our rows, not with upstream's numbers. Everything is float32 with hand-written forward and backward passes.");
        md.AppendLine();
        md.AppendLine("## STAC toy benchmark (upstream examples/toy_benchmark.py)");
        md.AppendLine();
        md.AppendLine("16→32→32→4 ReLU MLP, 256 samples, data seeds 0–4, 200 full-batch MSE steps, lr 3e-3, weight decay 1e-2; STAC's trunk");
        md.AppendLine("(trunk_0, trunk_1) at 0.75·lr, AdamW cap on the head. Final loss = the last loss computed, before the 200th update.");
        md.AppendLine();
        md.Append(toyMarkdown);
        md.AppendLine();
        md.AppendLine("![STAC toy loss curves](stac-toy.svg)");
        md.AppendLine();
        md.AppendLine("## Generalization: AdamSRF, HomeAdam, HomeAdamEW, AdamW, SGD with momentum");
        md.AppendLine();
        md.Append(studyMarkdown);
        md.AppendLine();
        md.AppendLine("![training loss](generalization-train.svg)");
        md.AppendLine();
        md.AppendLine("![test loss](generalization-test.svg)");
        File.WriteAllText(Path.Combine(directory, "convergence.md"), md.ToString());
        File.WriteAllText(Path.Combine(directory, "stac-toy.svg"), StacToyBenchmark.Chart(toy));
        File.WriteAllText(Path.Combine(directory, "generalization-train.svg"), GeneralizationStudy.Chart(study, test: false));
        File.WriteAllText(Path.Combine(directory, "generalization-test.svg"), GeneralizationStudy.Chart(study, test: true));
        var json = new
        {
            stac_toy = toy.Select(r => new { configuration = r.Config.Name, final_losses = r.FinalLosses, mean = r.Mean, upstream_mean = r.Config.UpstreamMeanFinalLoss }),
            stac_toy_ordering_matches_upstream = StacToyBenchmark.OrderingMatchesUpstream(toy),
            generalization = study.Select(r => new
            {
                optimizer = r.Config.Name, tau = r.Config.Tau, lr = r.Lr, train = r.Train, validation = r.Validation, test = r.Test, gap = r.Gap,
                adaptive_fraction = r.AdaptiveFraction, diverged_runs = r.DivergedRuns,
            }),
            homeadam_second_moments = traces.Select(t => new
            {
                seed = t.Seed, lr = t.Lr, tau = t.Tau,
                steps_with_zero_min_v_hat = t.Steps.Count(s => s.MinVHat == 0.0), steps = t.Steps.Length, adaptive_steps = t.AdaptiveSteps,
                zero_v_hat_elements_first = t.Steps[0].ZeroElements, zero_v_hat_elements_last = t.Steps[^1].ZeroElements,
                smallest_nonzero_v_hat = t.SmallestNonzero,
                zeros_at_end = t.ZerosAtEnd.Select(z => new { tensor = z.Tensor, zeros = z.Zeros, length = z.Length }),
            }),
        };
        File.WriteAllText(Path.Combine(directory, "convergence.json"), JsonSerializer.Serialize(json, BenchmarkReport.Json));
        return new ConvergenceSummary(toyMarkdown, StacToyBenchmark.OrderingMatchesUpstream(toy), studyMarkdown);
    }
}
