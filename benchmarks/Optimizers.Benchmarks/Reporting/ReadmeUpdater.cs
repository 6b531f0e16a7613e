using System.Globalization;
using System.Text;
using Optimizers.Benchmarks.Convergence;

namespace Optimizers.Benchmarks.Reporting;

/// <summary>Rewrites the block between the "latest results" markers of benchmarks/README.md with this run's headline numbers.</summary>
public static class ReadmeUpdater
{
    public const string Begin = "<!-- latest-results:begin (written by run-all.sh; edits inside are overwritten) -->";
    public const string End = "<!-- latest-results:end -->";

    // A quiet machine runs near 0; above half a job per CPU, other work was competing for cores and memory bandwidth.
    internal static bool BusyAtStart(IReadOnlyDictionary<string, object?> machine, out double load)
    {
        load = 0;
        string? text = machine.GetValueOrDefault("load_average_start")?.ToString();
        return text is not null
            && double.TryParse(text.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out load)
            && load > 0.5 * Environment.ProcessorCount;
    }

    public static void Update(string readmePath, BenchmarkRun run, ConvergenceSummary? convergence)
    {
        if (!File.Exists(readmePath)) return;
        string text = File.ReadAllText(readmePath);
        int start = text.IndexOf(Begin, StringComparison.Ordinal), stop = text.IndexOf(End, StringComparison.Ordinal);
        if (start < 0 || stop < start) return;

        var md = new StringBuilder();
        md.AppendLine(Begin);
        md.AppendLine();
        var m = run.Machine;
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Run of {m.GetValueOrDefault("finished_utc")} ({m.GetValueOrDefault("plan")} plan, commit {m.GetValueOrDefault("git_commit") ?? "?"}) on {m.GetValueOrDefault("cpu")}, " +
            $"{m.GetValueOrDefault("logical_cpus")} CPUs, {m.GetValueOrDefault("dotnet")}; torch {m.GetValueOrDefault("torch") ?? "not run"}; " +
            $"load average {m.GetValueOrDefault("load_average_start")} → {m.GetValueOrDefault("load_average_end")}.");
        if (BusyAtStart(m, out double load))
            md.AppendLine(CultureInfo.InvariantCulture,
                $"\n**The machine was busy (1-minute load average {load:F1} on {Environment.ProcessorCount} CPUs): treat these timings as noise.**");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Triad {run.Bandwidth.TriadGbs1T:F1} GB/s on 1 thread, {run.Bandwidth.TriadGbs2T:F1} GB/s on 2; copy {run.Bandwidth.CopyGbs1T:F1} / {run.Bandwidth.CopyGbs2T:F1}.");
        md.AppendLine();
        // 1e7 in every standard run; a run restricted with --shapes shows its largest single tensor instead.
        long size = run.Rows.Where(r => r.Tensors == 1).Select(r => r.Elements).DefaultIfEmpty(0).Max();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Steps at {size} elements (one tensor), float32 state; all rows in `results/benchmarks.md` and `results/latest.json`:");
        md.AppendLine();
        md.AppendLine("| optimizer | backend | threads | ms | GB/s | of triad | × torch foreach |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in run.Rows.Where(r => r.Elements == size && r.Tensors == 1 && r.StateDtype == "float32"))
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Optimizer} | {r.Backend} | {r.Threads} | {r.Ms:F2} | {r.Gbs:F1} | {r.FractionOfTriad:P0} | {(r.RatioToTorchAdamwForeach is double x ? x.ToString("F2", CultureInfo.InvariantCulture) : "–")} |");
        if (convergence is not null)
        {
            md.AppendLine();
            md.AppendLine("STAC toy benchmark (`results/convergence.md` has the generalization study):");
            md.AppendLine();
            md.Append(convergence.ToyMarkdown);
        }
        md.AppendLine();
        md.Append(End);
        File.WriteAllText(readmePath, text[..start] + md + text[(stop + End.Length)..]);
    }
}
