using System.Globalization;
using BenchmarkDotNet.Running;
using Optimizers.Benchmarks.Bdn;
using Optimizers.Benchmarks.Convergence;
using Optimizers.Benchmarks.Quick;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks;

public static class Program
{
    const string Usage = """
        Optimizers.Benchmarks (benchmarks/README.md)
          quick [--full] [--out DIR] [--shapes 1000,100x100000,...] [--no-torch] [--no-convergence] [--no-isa-children]
                [--python /usr/bin/python3.11] [--readme PATH]
                 bandwidth probe, every kernel row (narrower ISAs in child processes), optimizer-level rows, torch AdamW,
                 convergence workloads; writes latest.json, benchmarks.md, convergence.md and SVG charts (default DIR:
                 benchmarks/results). --full: more repeats and longer training, for a quiet machine.
          convergence [--full] [--out DIR]   the convergence workloads alone.
          report [--out DIR]   redraws benchmarks.md and the benchmark charts from DIR/latest.json.
          bdn [--job dry|short|medium|default] [--isa all|native] [BenchmarkDotNet args, e.g. --filter '*AdamW*']
                 BenchmarkDotNet suites; measures copy/triad bandwidth first for the 'of triad' column.
          bandwidth  the copy/triad probe alone.
          homeadam-trace [--lr 0.03] [--tau 1e-12] [--seed 0] [--steps 300]
                 HomeAdam in the generalization study, step by step: the group minimum of v̂ that decided, how many
                 elements have v̂ exactly 0 (and in which tensors), the smallest nonzero v̂, the adaptive share.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0) { Console.WriteLine(Usage); return 2; }
        var rest = args[1..];
        switch (args[0])
        {
            case "bdn": return RunBdn(rest);
            case "quick": return QuickRunner.Run(ParseQuick(rest));
            case "quick-child":
            {
                string outFile = TakeOption(ref rest, "--out") ?? throw new ArgumentException("quick-child needs --out FILE.", nameof(args));
                bool full = TakeFlag(ref rest, "--full");
                return QuickRunner.RunChild(outFile, full, ParseShapes(TakeOption(ref rest, "--shapes")));
            }
            case "report":
            {
                string dir = TakeOption(ref rest, "--out") ?? RepoPaths.Results;
                Reporting.BenchmarkReport.Write(dir, Reporting.BenchmarkReport.Read(Path.Combine(dir, "latest.json")));
                return 0;
            }
            case "convergence":
            {
                bool full = TakeFlag(ref rest, "--full");
                string dir = TakeOption(ref rest, "--out") ?? RepoPaths.Results;
                ConvergenceRunner.Run(dir, full, Console.WriteLine);
                return 0;
            }
            case "homeadam-trace":
            {
                double lr = double.Parse(TakeOption(ref rest, "--lr") ?? "0.03", CultureInfo.InvariantCulture);
                double tau = double.Parse(TakeOption(ref rest, "--tau") ?? "1e-12", CultureInfo.InvariantCulture);
                int seed = int.Parse(TakeOption(ref rest, "--seed") ?? "0", CultureInfo.InvariantCulture);
                int steps = int.Parse(TakeOption(ref rest, "--steps") ?? "300", CultureInfo.InvariantCulture);
                var trace = HomeAdamSecondMoments.Run(seed, lr, tau, steps);
                foreach (var r in trace.Steps)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"step {r.Step,4}  min v̂ {r.MinVHat,-12:G4} zero v̂ {r.ZeroElements,4}  smallest nonzero v̂ {r.SmallestNonzeroVHat,-12:G4} adaptive {r.AdaptiveFraction:P0}"));
                foreach (var (tensor, zeros, length) in trace.ZerosAtEnd) Console.WriteLine($"zero v̂ at the end: {tensor} {zeros}/{length}");
                return 0;
            }
            case "bandwidth": PrintBandwidth(BandwidthProbe.Measure()); return 0;
            default: Console.Error.WriteLine($"Unknown command '{args[0]}'.\n{Usage}"); return 2;
        }
    }

    static QuickOptions ParseQuick(string[] args)
    {
        bool full = TakeFlag(ref args, "--full");
        bool noTorch = TakeFlag(ref args, "--no-torch");
        bool noConvergence = TakeFlag(ref args, "--no-convergence");
        bool noChildren = TakeFlag(ref args, "--no-isa-children");
        string outDir = TakeOption(ref args, "--out") ?? RepoPaths.Results;
        string python = TakeOption(ref args, "--python") ?? "/usr/bin/python3.11";
        // The README's latest-results block follows the default results folder; a run elsewhere leaves it alone.
        string? readme = TakeOption(ref args, "--readme") ?? (outDir == RepoPaths.Results ? RepoPaths.Readme : null);
        var shapes = ParseShapes(TakeOption(ref args, "--shapes"));
        if (args.Length > 0) throw new ArgumentException($"Unknown quick option(s): {string.Join(' ', args)}", nameof(args));
        return new QuickOptions(outDir, full, !noTorch, !noConvergence, !noChildren, shapes, python, readme);
    }

    static IReadOnlyList<ShapeCase> ParseShapes(string? text)
        => text is null ? ShapeCase.Standard : text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ShapeCase.Parse).ToList();

    static int RunBdn(string[] args)
    {
        string job = TakeOption(ref args, "--job") ?? "default";
        string isa = TakeOption(ref args, "--isa") ?? "all";
        if (isa is not ("all" or "native")) throw new ArgumentOutOfRangeException(nameof(args), isa, "--isa must be all or native.");
        Console.WriteLine($"// host ISA: {IsaInfo.Describe()}");
        // Listing or help runs nothing, so it needs no roofline.
        if (!args.Any(a => a is "--list" or "--help" or "-h" or "--info"))
        {
            var bandwidth = BandwidthProbe.Measure();
            PrintBandwidth(bandwidth);
            RooflineColumn.Bandwidth = bandwidth;
        }
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BdnConfig.Create(job, isa == "all"));
        return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
    }

    static void PrintBandwidth(BandwidthResult b) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"// bandwidth ({b.ArrayElements / (1 << 20)}M floats per array, best of {b.Repeats}): copy {b.CopyGbs1T:F1} / {b.CopyGbs2T:F1} GB/s, " +
        $"triad {b.TriadGbs1T:F1} / {b.TriadGbs2T:F1} GB/s (1 / 2 threads); triad medians {b.TriadMedianGbs1T:F1} / {b.TriadMedianGbs2T:F1}"));

    /// <summary>Removes "--name value" from <paramref name="args"/> and returns the value, or null when absent.</summary>
    internal static string? TakeOption(ref string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return null;
        if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value.", nameof(args));
        string value = args[i + 1];
        args = [.. args[..i], .. args[(i + 2)..]];
        return value;
    }

    internal static bool TakeFlag(ref string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return false;
        args = [.. args[..i], .. args[(i + 1)..]];
        return true;
    }
}
