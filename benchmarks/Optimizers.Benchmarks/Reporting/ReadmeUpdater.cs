using System.Globalization;
using System.Text;
using Optimizers.Benchmarks.Convergence;

namespace Optimizers.Benchmarks.Reporting;

/// <summary>Rewrites the block between the "latest results" markers of benchmarks/README.md with this run's headline numbers.</summary>
public static class ReadmeUpdater
{
    public const string Begin = "<!-- latest-results:begin (written by run-all.sh; edits inside are overwritten) -->";
    public const string End = "<!-- latest-results:end -->";

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
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Triad {run.Bandwidth.TriadGbs1T:F1} GB/s on 1 thread, {run.Bandwidth.TriadGbs2T:F1} GB/s on 2; copy {run.Bandwidth.CopyGbs1T:F1} / {run.Bandwidth.CopyGbs2T:F1}.");
        md.AppendLine();
        md.AppendLine("Steps at 1e7 elements (one tensor), float32 state; all rows in `results/benchmarks.md` and `results/latest.json`:");
        md.AppendLine();
        md.AppendLine("| optimizer | backend | threads | ms | GB/s | of triad | × torch foreach |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in run.Rows.Where(r => r.Elements == 10_000_000 && r.Tensors == 1 && r.StateDtype == "float32"))
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
