namespace Optimizers.Benchmarks.Quick;

/// <summary>Finds the repository from wherever the program runs (bin folder, BenchmarkDotNet's generated folder, dotnet run).</summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    public static string Benchmarks => Path.Combine(Root, "benchmarks");
    public static string Results => Path.Combine(Benchmarks, "results");
    public static string TorchScript => Path.Combine(Benchmarks, "torch", "bench_torch.py");
    public static string Readme => Path.Combine(Benchmarks, "README.md");

    static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Optimizers.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("Cannot find Optimizers.sln above the current or the program's directory; pass --out explicitly.");
    }
}
