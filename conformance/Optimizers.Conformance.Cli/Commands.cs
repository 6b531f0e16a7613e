using System.Globalization;
using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Reporting;
using Optimizers.Conformance.Trajectories;
using Spectre.Console;

namespace Optimizers.Conformance.Cli;

internal static class Commands
{
    const int Ok = 0, Failed = 1, Usage = 2;
    const string ScalarPath = "production:scalar";
    const string OpenClPath = "production:opencl";

    public static int Run(string? filter, string? implementation, DirectoryInfo? reportDirectory, int? steps, bool freeRunning)
    {
        PrintMachine();
        string golden;
        try { golden = RepositoryLayout.PublicGolden(); }
        catch (DirectoryNotFoundException e) { AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]"); return Usage; }
        var trajectories = TrajectoryReader.Read(golden);
        var registry = ImplementationRegistry.CreateDefault();
        foreach (var problem in registry.Problems) AnsiConsole.MarkupLineInterpolated($"[yellow]{problem}[/]");
        var selected = registry.Select(implementation);
        if (selected.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]No implementation matches '{implementation}'.[/] Registered: {string.Join(", ", registry.Entries.Select(e => e.Name))}");
            return Usage;
        }
        var cases = trajectories.Cases.Where(c => Matches(c, filter)).ToList();
        AnsiConsole.MarkupLineInterpolated($"Replaying [bold]{cases.Count}[/] cases and {trajectories.Errors.Count} error records of {Path.GetRelativePath(Directory.GetCurrentDirectory(), golden)} through {string.Join(", ", selected.Select(e => e.Name))} ({(freeRunning ? "free-running" : "teacher-forced")}).");

        // Lockstep over the case registry: every selected implementation against the trusted float64 side (the reference
        // once registered; until then the tolerance model's own evaluation).
        var trusted = registry.Find("reference") ?? registry.Find("model");
        var candidates = trusted is null ? [] : selected.Where(e => e.Name != trusted.Name && e.Name != "model").ToList();
        var registryCases = CaseRegistry.All.Where(c => filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase)
                                                        || c.Optimizer.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        if (candidates.Count > 0)
            AnsiConsole.MarkupLineInterpolated($"Lockstep over {registryCases.Count} registry cases against {trusted!.Name}: teacher-forced, then free-running drift over {CaseRegistry.DriftSteps} steps (three first-moment horizons 1/(1 − β1), past the bias-correction transient; cases of 1e5+ elements keep their own count).");
        if (candidates.Count == 0)
            AnsiConsole.MarkupLineInterpolated($"Lockstep over the {registryCases.Count} registry cases: nothing to hold against {trusted?.Name ?? "a trusted implementation"} (no other implementation selected).");

        // Bit-exact lockstep: the contract makes every production path bit-identical to the scalar C# kernel, which the
        // tolerance rows above cannot show (two paths may differ and both stay inside the model's bounds).
        var scalar = registry.Find(ScalarPath);
        var bitExactCandidates = scalar is null ? [] : selected.Where(e => e.Name.StartsWith("production", StringComparison.Ordinal) && e.Name != ScalarPath).ToList();
        if (bitExactCandidates.Count > 0)
            AnsiConsole.MarkupLineInterpolated($"Bit-exact lockstep over {registryCases.Count} registry cases against {ScalarPath}: {string.Join(", ", bitExactCandidates.Select(e => e.Name))}, free-running over each case's steps, equal bits required (NaN matches NaN).");

        var reports = new List<ReplayReport>();
        var lockstepReports = new List<ReplayReport>();
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                foreach (var entry in selected)
                {
                    var task = ctx.AddTask(Markup.Escape(entry.Name), maxValue: Math.Max(1, cases.Count));
                    var implementationInstance = entry.Create();
                    reports.Add(Replayer.ReplayFile(trajectories, implementationInstance, new ReplayOptions(freeRunning, MaxSteps: steps),
                        golden, c => Matches(c, filter), _ => task.Increment(1)));
                    task.Value = task.MaxValue;
                }
                // Teacher-forced finds the step that goes wrong; free-running (always run, over the drift horizon) shows
                // whether per-step errors that each pass accumulate into a drift the model does not allow.
                var modes = freeRunning ? new[] { true } : [false, true];
                foreach (var entry in candidates)
                    foreach (bool drift in modes)
                    {
                        string label = $"{entry.Name} vs {trusted!.Name}" + (drift ? LockstepRunner.DriftSuffix : "");
                        var task = ctx.AddTask(Markup.Escape($"{label}, registry"), maxValue: Math.Max(1, registryCases.Count));
                        var results = new List<CaseResult>();
                        foreach (var spec in registryCases)
                        {
                            var trajectory = drift ? spec.Build(spec.DriftStepCount) : spec.Build();
                            results.Add(LockstepRunner.Run(trajectory, trusted.Create(), entry.Create(), drift, steps));
                            task.Increment(1);
                        }
                        lockstepReports.Add(new ReplayReport(CaseRegistry.Source, label, "tolerance", drift, results, []));
                    }
                foreach (var entry in bitExactCandidates)
                {
                    string label = $"{entry.Name} vs {ScalarPath}";
                    var task = ctx.AddTask(Markup.Escape($"{label}, bit-exact, registry"), maxValue: Math.Max(1, registryCases.Count));
                    var results = new List<CaseResult>();
                    foreach (var spec in registryCases)
                    {
                        results.Add(LockstepRunner.RunBitExact(spec.Build(), scalar!.Create(), entry.Create(), steps));
                        task.Increment(1);
                    }
                    lockstepReports.Add(new ReplayReport(CaseRegistry.Source, label, "bit-exact", FreeRunning: true, results, []));
                }
            });
        reports.AddRange(lockstepReports);

        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Results[/]");
        foreach (var column in new[] { "implementation", "compared", "stepping", "cases p/f/u", "errors p/f/u", "max ulp", "max rel", "ambiguous", "unbounded", "verdict" })
            table.AddColumn(new TableColumn(column).NoWrap());
        foreach (var r in reports)
        {
            table.AddRow(
                Markup.Escape(r.Implementation), r.Mode, r.FreeRunning ? "free-running" : "teacher-forced",
                Tally(r.Cases.Select(c => c.Verdict)), Tally(r.Errors.Select(e => e.Verdict)),
                Format(r.Cases.Select(c => c.MaxUlp).DefaultIfEmpty(0).Max()), Format(r.Cases.Select(c => c.MaxRelative).DefaultIfEmpty(0).Max()),
                Num(r.Cases.Sum(c => c.Ambiguous)), Num(r.Cases.Sum(c => c.Unbounded)),
                r.Outcome switch { "pass" => "[green]pass[/]", "fail" => "[red]FAIL[/]", _ => "[yellow]unsupported[/]" });
        }
        AnsiConsole.Write(table);
        foreach (var r in reports.Where(r => r.CheckedNoCase))
            AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Implementation}[/]: unsupported, no case ran: {string.Join("; ", r.UnsupportedReasons)}");
        foreach (var r in reports) PrintFailures(r);
        if (reportDirectory is not null) WriteReport(reportDirectory, reports);
        if (!reports.All(r => r.Passed)) return Failed;
        // CI sets CI_REQUIRE_OPENCL=1: there an unsupported OpenCL path means PoCL went missing, and a green run would
        // hide that the contract's OpenCL backend was never checked.
        bool openClRequired = Environment.GetEnvironmentVariable("CI_REQUIRE_OPENCL") == "1"
                              && (implementation is null || selected.Any(e => e.Name == OpenClPath));
        if (openClRequired && !reports.Any(r => r.Implementation == OpenClPath && r.Outcome == "pass"))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]CI_REQUIRE_OPENCL=1 but {OpenClPath} did not run (unsupported or not registered).[/]");
            return Failed;
        }
        return Ok;
    }

    public static int Replay(FileInfo file, string implementation, bool freeRunning, FileInfo? json, string? filter, int? steps, DirectoryInfo? reportDirectory)
    {
        PrintMachine();
        if (!file.Exists) { AnsiConsole.MarkupLineInterpolated($"[red]No such file: {file.FullName}[/]"); return Usage; }
        var registry = ImplementationRegistry.CreateDefault();
        foreach (var problem in registry.Problems) AnsiConsole.MarkupLineInterpolated($"[yellow]{problem}[/]");
        var entry = registry.Find(implementation);
        if (entry is null)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Unknown implementation '{implementation}'.[/] Registered: {string.Join(", ", registry.Entries.Select(e => e.Name))}");
            return Usage;
        }
        var trajectories = TrajectoryReader.Read(file.FullName);
        var report = Replayer.ReplayFile(trajectories, entry.Create(), new ReplayOptions(freeRunning, MaxSteps: steps), file.FullName,
            c => Matches(c, filter), null);

        AnsiConsole.MarkupLineInterpolated($"[bold]{entry.Name}[/] against {file.Name}: {report.Mode}, {(freeRunning ? "free-running" : "teacher-forced")}");
        int width = Math.Max(4, report.Cases.Select(c => c.Id.Length).DefaultIfEmpty(4).Max());
        AnsiConsole.MarkupLineInterpolated($"{"case".PadRight(width)}  {"verdict",-11}  {"steps",5}  {"max ulp",9}  {"max rel",9}  {"ambiguous",9}");
        foreach (var c in report.Cases)
        {
            var verdict = JsonReport.Name(c.Verdict);
            var color = c.Verdict switch { Verdict.Pass => "green", Verdict.Fail => "red", _ => "yellow" };
            AnsiConsole.MarkupLine($"{Markup.Escape(c.Id.PadRight(width))}  [{color}]{verdict,-11}[/]  {c.Steps,5}  {Format(c.MaxUlp),9}  {Format(c.MaxRelative),9}  {c.Ambiguous,9}"
                + (c.Verdict == Verdict.Unsupported ? $"  {Markup.Escape(c.Reason ?? "")}" : "")
                + (c.FirstFailure is { } f ? $"  [red]{Markup.Escape(Describe(f))}[/]" : ""));
        }
        PrintFailures(report, casesAlreadyListed: true);
        int pass = report.Cases.Count(c => c.Verdict == Verdict.Pass), fail = report.Cases.Count(c => c.Verdict == Verdict.Fail);
        int unsupported = report.Cases.Count(c => c.Verdict == Verdict.Unsupported);
        int ePass = report.Errors.Count(e => e.Verdict == Verdict.Pass), eFail = report.Errors.Count(e => e.Verdict == Verdict.Fail);
        int eUnsupported = report.Errors.Count(e => e.Verdict == Verdict.Unsupported);
        AnsiConsole.MarkupLine($"Summary: {report.Cases.Count} cases: [green]{pass} pass[/], [red]{fail} fail[/], [yellow]{unsupported} unsupported[/]; "
            + $"{report.Errors.Count} error records: [green]{ePass} pass[/], [red]{eFail} fail[/], [yellow]{eUnsupported} unsupported[/]; "
            + $"max {Format(report.Cases.Select(c => c.MaxUlp).DefaultIfEmpty(0).Max())} ulp, {report.Cases.Sum(c => c.Ambiguous)} elements inside ambiguity zones "
            + $"(of which {report.Cases.Sum(c => c.Unbounded)} unbounded, class checked only). "
            + (report.Passed ? "[green]PASS[/]" : "[red]FAIL[/]"));

        if (json is not null)
        {
            json.Directory?.Create();
            using var stream = File.Create(json.FullName);
            JsonReport.Write(stream, report);
            AnsiConsole.MarkupLineInterpolated($"Wrote {json.FullName}");
        }
        if (reportDirectory is not null) WriteReport(reportDirectory, [report]);
        return report.Passed ? Ok : Failed;
    }

    public static int List(string? filter)
    {
        PrintMachine();
        var machine = new Table().Border(TableBorder.Rounded).Title("[bold]This machine[/]").AddColumn("").AddColumn("");
        foreach (var (k, v) in MachineReport.Facts()) machine.AddRow(Markup.Escape(k), Markup.Escape(v));
        AnsiConsole.Write(machine);
        var registry = ImplementationRegistry.CreateDefault();
        foreach (var problem in registry.Problems) AnsiConsole.MarkupLineInterpolated($"[yellow]{problem}[/]");
        var impls = new Table().Border(TableBorder.Rounded).Title("[bold]Implementations[/]").AddColumn("name").AddColumn("compared").AddColumn("what");
        foreach (var e in registry.Entries)
            impls.AddRow(Markup.Escape(e.Name), e.Name.StartsWith("production", StringComparison.Ordinal) ? "bit-exact" : "tolerance model", Markup.Escape(e.Description));
        AnsiConsole.Write(impls);

        string golden;
        try { golden = RepositoryLayout.PublicGolden(); }
        catch (DirectoryNotFoundException e) { AnsiConsole.MarkupLineInterpolated($"[red]{e.Message}[/]"); return Usage; }
        var trajectories = TrajectoryReader.Read(golden);
        var cases = new Table().Border(TableBorder.Rounded).Title($"[bold]Cases of {Markup.Escape(Path.GetFileName(golden))}[/]")
            .AddColumn("id").AddColumn("optimizer").AddColumn("dtype").AddColumn("params").AddColumn("steps").AddColumn("groups");
        foreach (var c in trajectories.Cases.Where(c => Matches(c, filter)))
            cases.AddRow(Markup.Escape(c.Id), c.Optimizer, c.ParamDType.ToString(), c.Params.Count.ToString(CultureInfo.InvariantCulture),
                c.Steps.Count.ToString(CultureInfo.InvariantCulture), c.Groups.Count.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(cases);
        AnsiConsole.MarkupLineInterpolated($"{trajectories.Errors.Count} error records.");
        var registryTable = new Table().Border(TableBorder.Rounded).Title("[bold]Case registry (lockstep)[/]")
            .AddColumn("id").AddColumn("optimizer").AddColumn("dtype").AddColumn("elements").AddColumn("steps").AddColumn("what it pins down");
        foreach (var c in CaseRegistry.All.Where(c => filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase)))
            registryTable.AddRow(Markup.Escape(c.Id), c.Optimizer, c.ParamDType.ToString(), c.Elements.ToString(CultureInfo.InvariantCulture),
                c.Steps.ToString(CultureInfo.InvariantCulture), Markup.Escape(c.Why));
        AnsiConsole.Write(registryTable);
        return Ok;
    }

    static void PrintMachine()
    {
        var facts = MachineReport.Facts();
        AnsiConsole.MarkupLineInterpolated($"Vector width exercised: [bold]{MachineReport.VectorWidth}[/] (Vector512 {facts["Vector512 accelerated"]}, Vector256 {facts["Vector256 accelerated"]}, Vector128 {facts["Vector128 accelerated"]}); {Environment.ProcessorCount} processors; ISA switches: {facts["ISA switches"]}");
        foreach (var (k, v) in facts.Where(f => f.Key.Contains("accelerator", StringComparison.OrdinalIgnoreCase) || MachineReport.AcceleratorProbes.Any(p => p.Name == f.Key)))
            AnsiConsole.MarkupLineInterpolated($"{k}: {v}");
    }

    static void PrintFailures(ReplayReport report, bool casesAlreadyListed = false)
    {
        foreach (var c in report.Cases.Where(c => c.Verdict == Verdict.Fail))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{report.Implementation} {c.Id}[/]: {(c.FirstFailure is { } f ? Describe(f) : c.Reason)}");
            if (!casesAlreadyListed && c.Reason is not null && c.FirstFailure is not null) AnsiConsole.MarkupLineInterpolated($"  {c.Reason}");
            foreach (var w in c.Worst.Take(Replayer.WorstKept))
                AnsiConsole.MarkupLineInterpolated($"    worst: {Describe(w)}");
        }
        foreach (var e in report.Errors.Where(e => e.Verdict == Verdict.Fail))
            AnsiConsole.MarkupLineInterpolated($"[red]{report.Implementation} error record {e.Id}[/]: {e.Detail}");
    }

    static void WriteReport(DirectoryInfo directory, IReadOnlyList<ReplayReport> reports)
    {
        var written = ReportWriter.Write(directory.FullName, reports, MachineReport.Facts());
        AnsiConsole.MarkupLineInterpolated($"Report: {directory.FullName} ({string.Join(", ", written)})");
    }

    static bool Matches(TrajectoryCase c, string? filter) =>
        filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase) || c.Optimizer.Contains(filter, StringComparison.OrdinalIgnoreCase);

    static string Describe(ElementReport f) =>
        string.Create(CultureInfo.InvariantCulture,
            $"step {f.Step} {f.Buffer}[{f.Index}]: expected {f.Expected:R}, actual {f.Actual:R} ({Format(f.Ulps)} ulp, allowed {f.Allowed:G3}){(f.Note is null ? "" : $", {f.Note}")}");

    static string Format(double v) =>
        double.IsPositiveInfinity(v) ? "inf" : v == 0 ? "0" : v.ToString(v >= 1e4 || v < 1e-2 ? "0.00e+0" : "0.###", CultureInfo.InvariantCulture);

    static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    static string Tally(IEnumerable<Verdict> verdicts)
    {
        var list = verdicts.ToList();
        int fail = list.Count(v => v == Verdict.Fail);
        return $"{list.Count(v => v == Verdict.Pass)}/{(fail == 0 ? "0" : $"[red]{fail}[/]")}/{list.Count(v => v == Verdict.Unsupported)}";
    }
}
