using System.Globalization;
using System.Text;
using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;

namespace Optimizers.Conformance.Reporting;

/// <summary>Writes <c>report.md</c>, <c>report.json</c> and the SVG charts of a run into one folder.</summary>
public static class ReportWriter
{
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ReplayReport> reports, IReadOnlyDictionary<string, string> machine)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        var charts = new List<(string Title, string File)>();

        foreach (var report in reports)
        foreach (var group in report.Cases.Where(c => c.PerStep.Count > 0).GroupBy(c => c.Optimizer))
        {
            var file = $"error-per-step-{Slug(report.Implementation)}-{Slug(group.Key)}.svg";
            File.WriteAllText(Path.Combine(directory, file), ErrorChart(report, group.Key, group.ToList()));
            charts.Add(($"{report.Implementation}: {group.Key}", file));
            written.Add(file);
        }
        // The decisions are the model's, the same for every implementation of one source, so one report per source
        // is drawn: the first replay of a trajectory file, and the first teacher-forced lockstep over the registry.
        var withDecisions = new[]
        {
            (Report: reports.FirstOrDefault(r => r.Source != CaseRegistry.Source), Suffix: "", Label: "golden file"),
            (Report: reports.FirstOrDefault(r => r.Source == CaseRegistry.Source && !r.FreeRunning), Suffix: "-registry", Label: CaseRegistry.Source),
        };
        foreach (var (source, suffix, label) in withDecisions)
        {
            if (source is null) continue;
            foreach (var optimizer in new[] { "HomeAdam", "HomeAdamEW" })
            {
                var cases = source.Cases.Where(c => c.Optimizer == optimizer && c.PerStep.Any(s => s.AdaptiveFraction is not null)).ToList();
                if (cases.Count == 0) continue;
                var file = $"adaptive-fraction-{Slug(optimizer)}{suffix}.svg";
                File.WriteAllText(Path.Combine(directory, file), AdaptiveChart($"{optimizer} ({label})", cases));
                charts.Add(($"{optimizer}: adaptive-branch fraction ({label})", file));
                written.Add(file);
            }
        }

        using (var json = File.Create(Path.Combine(directory, "report.json"))) JsonReport.WriteMany(json, reports, machine);
        written.Add("report.json");
        File.WriteAllText(Path.Combine(directory, "report.md"), Markdown(reports, machine, charts));
        written.Add("report.md");
        return written;
    }

    public static string ErrorChart(ReplayReport report, string optimizer, IReadOnlyList<CaseResult> cases)
    {
        bool exact = report.Mode == "bit-exact";
        var series = cases.Select(c => new ChartSeries(c.Id,
            c.PerStep.Select(s => ((double)s.Step, exact ? s.MaxUlp : s.MaxSeverity)).ToList())).ToList();
        // A lockstep report already names both sides ("production vs reference"); a replay is against upstream's record.
        // The stepping is said once, as "free-running": a drift row's name already says so, in other words.
        string who = report.FreeRunning && report.Implementation.EndsWith(LockstepRunner.DriftSuffix, StringComparison.Ordinal)
            ? report.Implementation[..^LockstepRunner.DriftSuffix.Length]
            : report.Implementation;
        string what = report.Source == CaseRegistry.Source ? $"{who}, case registry" : $"{who} vs upstream";
        string stepping = report.FreeRunning ? "free-running" : "teacher-forced";
        var spec = exact
            ? new ChartSpec($"{optimizer} — {what}, bit-exact, {stepping}", "step", "largest error per step (ulps of the recorded dtype)",
                LogY: true, YMin: 0.1, YMax: 1e4, ReferenceY: 1, ReferenceLabel: "1 ulp: any error fails",
                Note: "0 ulps (bit-identical) is drawn at the floor 0.1.")
            : new ChartSpec($"{optimizer} — {what}, {stepping}", "step",
                "largest error per step / allowed error", LogY: true, YMin: 1e-4, YMax: 10, ReferenceY: 1,
                ReferenceLabel: "tolerance bound: fails above",
                Note: "Allowed error = safety factor 2 × (bound of the record + bound of the implementation). Exact agreement is drawn at the floor 1e-4.");
        return SvgLineChart.Render(spec, series);
    }

    public static string AdaptiveChart(string optimizer, IReadOnlyList<CaseResult> cases)
    {
        var series = cases.Select(c => new ChartSeries(c.Id,
            c.PerStep.Where(s => s.AdaptiveFraction is not null).Select(s => ((double)s.Step, s.AdaptiveFraction!.Value)).ToList())).ToList();
        var spec = new ChartSpec($"{optimizer} — fraction of elements on the adaptive branch", "step", "adaptive fraction (v̂ ≥ τ)",
            LogY: false, YMin: 0, YMax: 1,
            Note: !optimizer.StartsWith("HomeAdamEW", StringComparison.Ordinal) ? "One decision per group: the fraction is the share of elements in groups that went adaptive."
                                          : "One decision per element, v̂ against τ.");
        return SvgLineChart.Render(spec, series);
    }

    static string Markdown(IReadOnlyList<ReplayReport> reports, IReadOnlyDictionary<string, string> machine, List<(string Title, string File)> charts)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("# Conformance report").AppendLine();
        md.AppendLine("| machine | |").AppendLine("|---|---|");
        foreach (var (k, v) in machine) md.AppendLine(inv, $"| {k} | {v} |");
        md.AppendLine();
        md.AppendLine("Tolerance-mode verdicts use the model of `paper-notes/numerics.md`; production is compared bit for bit.").AppendLine();
        md.AppendLine("| implementation | mode | cases pass / fail / unsupported | error records pass / fail / unsupported | verdict |").AppendLine("|---|---|---|---|---|");
        foreach (var r in reports)
            md.AppendLine(inv, $"| {r.Implementation} | {r.Mode}{(r.FreeRunning ? ", free-running" : "")} | {Count(r.Cases.Select(c => c.Verdict))} | {Count(r.Errors.Select(e => e.Verdict))} | {OutcomeCell(r)} |");
        md.AppendLine();

        foreach (var r in reports)
        {
            md.AppendLine(inv, $"## {r.Implementation}").AppendLine();
            md.AppendLine("| case | optimizer | verdict | steps | max ulp | max rel | ambiguous | resyncs | first failure / reason |")
              .AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var c in r.Cases)
            {
                string why = c.FirstFailure is { } f
                    ? $"step {f.Step} {f.Buffer}[{f.Index}]: expected {f.Expected:R}, actual {f.Actual:R}"
                    : c.Reason ?? "";
                md.AppendLine(inv, $"| {c.Id} | {c.Optimizer} | {JsonReport.Name(c.Verdict)} | {c.Steps} | {c.MaxUlp:G3} | {c.MaxRelative:G3} | {c.Ambiguous} | {c.Resyncs} | {why.Replace("|", "\\|")} |");
            }
            md.AppendLine();
            var notPassing = r.Errors.Where(e => e.Verdict != Verdict.Pass).ToList();
            md.AppendLine(inv, $"Error records: {Count(r.Errors.Select(e => e.Verdict))} (pass / fail / unsupported).").AppendLine();
            if (notPassing.Count > 0)
            {
                md.AppendLine("| error record | verdict | expected | actual | detail |").AppendLine("|---|---|---|---|---|");
                foreach (var e in notPassing)
                    md.AppendLine(inv, $"| {e.Id} | {JsonReport.Name(e.Verdict)} | {e.ExpectedKind ?? "accepted"} {e.ExpectedArgument} | {e.ActualKind ?? "accepted"} {e.ActualArgument} | {(e.Detail ?? "").Replace("|", "\\|")} |");
                md.AppendLine();
            }
        }

        if (charts.Count > 0)
        {
            md.AppendLine("## Charts").AppendLine();
            foreach (var (title, file) in charts) md.AppendLine(inv, $"### {title}").AppendLine().AppendLine(inv, $"![{title}]({file})").AppendLine();
        }
        return md.ToString();
    }

    static string OutcomeCell(ReplayReport r) => r.Outcome switch
    {
        "pass" => "**pass**",
        "fail" => "**FAIL**",
        _ => "unsupported: " + string.Join("; ", r.UnsupportedReasons).Replace("|", "\\|"),
    };

    static string Count(IEnumerable<Verdict> verdicts)
    {
        var list = verdicts.ToList();
        return $"{list.Count(v => v == Verdict.Pass)} / {list.Count(v => v == Verdict.Fail)} / {list.Count(v => v == Verdict.Unsupported)}";
    }

    public static string Slug(string s) =>
        string.Join('-', new string(s.Select(ch => char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : ' ').ToArray())
            .Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
