using System.Globalization;
using BenchmarkDotNet.Running;
using Optimizers.Benchmarks.Bdn;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks;

public static class Program
{
    const string Usage = """
        Optimizers.Benchmarks (benchmarks/README.md)
          bdn [--job dry|short|medium|default] [--isa all|native] [BenchmarkDotNet args, e.g. --filter '*AdamW*']
                 BenchmarkDotNet suites; measures copy/triad bandwidth first for the 'of triad' column.
          bandwidth  the copy/triad probe alone.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0) { Console.WriteLine(Usage); return 2; }
        var rest = args[1..];
        switch (args[0])
        {
            case "bdn": return RunBdn(rest);
            case "bandwidth": PrintBandwidth(BandwidthProbe.Measure()); return 0;
            default: Console.Error.WriteLine($"Unknown command '{args[0]}'.\n{Usage}"); return 2;
        }
    }

    static int RunBdn(string[] args)
    {
        string job = TakeOption(ref args, "--job") ?? "default";
        string isa = TakeOption(ref args, "--isa") ?? "all";
        if (isa is not ("all" or "native")) throw new ArgumentOutOfRangeException(nameof(args), isa, "--isa must be all or native.");
        Console.WriteLine($"// host ISA: {IsaInfo.Describe()}");
        var bandwidth = BandwidthProbe.Measure();
        PrintBandwidth(bandwidth);
        RooflineColumn.Bandwidth = bandwidth;
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
