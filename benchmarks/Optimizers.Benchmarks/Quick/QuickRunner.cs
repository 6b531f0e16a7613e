using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Optimizers.Benchmarks.Convergence;
using Optimizers.Benchmarks.Reporting;
using Optimizers.Benchmarks.Workloads;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Quick;

public sealed record QuickOptions(
    string OutDirectory,
    bool Full,
    bool Torch,
    bool Convergence,
    bool IsaChildren,
    IReadOnlyList<ShapeCase> Shapes,
    string Python,
    string? Readme)
{
    public TimingPlan Plan => Full ? TimingPlan.Full : TimingPlan.Quick;
}

/// <summary>
/// The one-command run: bandwidth probe, kernel rows on every path (and, in child processes, at 256 and 128
/// bits), optimizer-level rows, torch's AdamW, the convergence workloads; then latest.json, Markdown and SVG.
/// Everything is measured in this one run, so every ratio compares numbers taken under the same conditions.
/// </summary>
public static class QuickRunner
{
    sealed record ChildResult(string Isa, string Describe, List<ResultRow> Rows);
    sealed record TorchResult(string TorchVersion, string Python, List<ResultRow> Rows);

    static readonly (string Isa, Dictionary<string, string> Environment)[] NarrowerIsas =
    [
        ("v256", new() { ["DOTNET_EnableAVX512"] = "0" }),
        ("v128", new() { ["DOTNET_EnableAVX512"] = "0", ["DOTNET_EnableAVX2"] = "0" }),
    ];

    static readonly Stopwatch Clock = Stopwatch.StartNew();

    static void Log(string line) => Console.WriteLine($"[{Clock.Elapsed:mm\\:ss}] {line}");

    public static int Run(QuickOptions options)
    {
        var machine = new Dictionary<string, object?>
        {
            ["cpu"] = CpuModel(),
            ["logical_cpus"] = Environment.ProcessorCount,
            ["memory_gib"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)(1L << 30), 1),
            ["os"] = RuntimeInformation.OSDescription,
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["isa"] = IsaInfo.Describe(),
            ["git_commit"] = Environment.GetEnvironmentVariable("BENCH_GIT_COMMIT"),
            ["plan"] = options.Full ? "full" : "quick",
            ["timing"] = $"warmup ≥ {options.Plan.Warmup} calls and ≥ {options.Plan.WarmupMs} ms, median of {options.Plan.Repeats} samples of ≥ {options.Plan.MinSampleMs} ms",
            ["started_utc"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            ["load_average_start"] = LoadAverage(),
        };
        Log($"machine: {machine["cpu"]}, {machine["logical_cpus"]} CPUs, {machine["isa"]}; load average {machine["load_average_start"]}");

        var bandwidth = BandwidthProbe.Measure(repeats: options.Full ? 20 : 10);
        Log(string.Create(CultureInfo.InvariantCulture, $"bandwidth: triad {bandwidth.TriadGbs1T:F1} / {bandwidth.TriadGbs2T:F1} GB/s, copy {bandwidth.CopyGbs1T:F1} / {bandwidth.CopyGbs2T:F1} GB/s (1 / 2 threads)"));

        var rows = new List<ResultRow>();
        rows.AddRange(KernelRows.Measure(options.Shapes, [KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads], options.Plan, Log));

        if (options.IsaChildren)
        {
            var seen = new List<string>();
            foreach (var (isa, environment) in NarrowerIsas)
            {
                var child = RunIsaChild(options, isa, environment);
                if (child is null) { seen.Add($"{isa}: failed"); continue; }
                seen.Add(child.Isa == isa ? $"{isa}: ok ({child.Describe})" : $"{isa}: MISMATCH, child saw {child.Isa} ({child.Describe})");
                if (child.Isa == isa) rows.AddRange(child.Rows);
            }
            machine["isa_children"] = seen;
        }

        rows.AddRange(KernelRows.MeasureOptimizerLevel(options.Shapes, [KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads], options.Plan, Log));

        if (options.Torch)
        {
            var torch = RunTorch(options);
            machine["torch"] = torch is null ? "unavailable" : $"{torch.TorchVersion} (python {torch.Python})";
            if (torch is not null) rows.AddRange(torch.Rows.Select(r => r with { Gbs = 28.0 * r.Elements / r.Ms / 1e6 }));
        }

        machine["load_average_end"] = LoadAverage();
        machine["finished_utc"] = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture);
        var run = new BenchmarkRun(machine, bandwidth, BenchmarkReport.Complete(rows, bandwidth));
        BenchmarkReport.Write(options.OutDirectory, run);
        Log($"wrote {Path.Combine(options.OutDirectory, "latest.json")} ({run.Rows.Count} rows) and benchmarks.md");

        ConvergenceSummary? convergence = null;
        if (options.Convergence)
        {
            convergence = ConvergenceRunner.Run(options.OutDirectory, options.Full, Log);
            Log($"wrote {Path.Combine(options.OutDirectory, "convergence.md")}");
        }
        if (options.Readme is not null) ReadmeUpdater.Update(options.Readme, run, convergence);
        Log("done");
        return 0;
    }

    /// <summary>The narrower-ISA half of the kernel rows, run inside a child started with DOTNET_Enable* switches.</summary>
    public static int RunChild(string outFile, bool full, IReadOnlyList<ShapeCase> shapes)
    {
        Log($"child ISA: {IsaInfo.Describe()}");
        var rows = KernelRows.Measure(shapes, [KernelPath.Simd, KernelPath.Threads], full ? TimingPlan.Full : TimingPlan.Quick, Log);
        File.WriteAllText(outFile, JsonSerializer.Serialize(new ChildResult(IsaInfo.Widest, IsaInfo.Describe(), rows), BenchmarkReport.Json));
        return 0;
    }

    static ChildResult? RunIsaChild(QuickOptions options, string isa, Dictionary<string, string> environment)
    {
        string file = Path.Combine(Path.GetTempPath(), $"optimizers-bench-{isa}-{Environment.ProcessId}.json");
        var arguments = new List<string> { "quick-child", "--out", file, "--shapes", string.Join(',', options.Shapes) };
        if (options.Full) arguments.Add("--full");
        Log($"child process for {isa}: {string.Join(' ', environment.Select(kv => $"{kv.Key}={kv.Value}"))}");
        int exit = ChildProcesses.RunSelf(arguments, environment, line => Log($"  [{isa}] {line}"));
        if (exit != 0 || !File.Exists(file)) { Log($"child for {isa} failed with exit code {exit}"); return null; }
        try { return JsonSerializer.Deserialize<ChildResult>(File.ReadAllText(file), BenchmarkReport.Json); }
        finally { File.Delete(file); }
    }

    static TorchResult? RunTorch(QuickOptions options)
    {
        string file = Path.Combine(Path.GetTempPath(), $"optimizers-bench-torch-{Environment.ProcessId}.json");
        var start = new ProcessStartInfo(options.Python);
        foreach (var a in new[] { RepoPaths.TorchScript, "--out", file, "--threads", "1,2", "--shapes", string.Join(',', options.Shapes) })
            start.ArgumentList.Add(a);
        if (options.Full) { start.ArgumentList.Add("--repeats"); start.ArgumentList.Add("31"); start.ArgumentList.Add("--min-sample-ms"); start.ArgumentList.Add("20"); }
        Log($"torch: {options.Python} {RepoPaths.TorchScript}");
        int exit = ChildProcesses.Run(start, line => Log($"  [torch] {line}"));
        if (exit != 0 || !File.Exists(file)) { Log($"torch rows skipped (exit code {exit}); is python3-torch installed for {options.Python}?"); return null; }
        try { return JsonSerializer.Deserialize<TorchResult>(File.ReadAllText(file), BenchmarkReport.Json); }
        finally { File.Delete(file); }
    }

    static string CpuModel()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
            return $"{Field("model name") ?? RuntimeInformation.ProcessArchitecture.ToString()} (family {Field("cpu family")}, model {Field("model")})";
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
        catch (UnauthorizedAccessException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    static string? LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
