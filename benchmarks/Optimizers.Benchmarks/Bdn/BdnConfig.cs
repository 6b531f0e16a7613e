using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>
/// Three jobs that differ only in the JIT's ISA switches, so Simd and Threads run at 512, 256 and 128 bits.
/// The variables are set on the job (the child process inherits them from the job, not from our shell);
/// each child prints "ISA seen by the benchmark process" in the log, which shows what it really got.
/// </summary>
public static class BdnConfig
{
    public static IConfig Create(string baseJobName, bool allIsaLevels)
    {
        Job baseJob = baseJobName.ToLowerInvariant() switch
        {
            "dry" => Job.Dry,
            "short" => Job.ShortRun,
            "medium" => Job.MediumRun,
            "default" => Job.Default,
            _ => throw new ArgumentOutOfRangeException(nameof(baseJobName), baseJobName, "Job must be dry, short, medium or default."),
        };
        var config = ManualConfig.CreateEmpty()
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub, BenchmarkDotNet.Exporters.Csv.CsvExporter.Default)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(RooflineColumn.GigabytesPerSecond, RooflineColumn.FractionOfTriad)
            .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams, BenchmarkLogicalGroupRule.ByJob)
            .WithOrderer(new DefaultOrderer(SummaryOrderPolicy.Declared))
            .AddJob(baseJob.WithId("AVX512"));
        if (allIsaLevels)
        {
            config = config
                .AddJob(baseJob.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX512", "0")).WithId("AVX2"))
                .AddJob(baseJob.WithEnvironmentVariables(
                    new EnvironmentVariable("DOTNET_EnableAVX512", "0"),
                    new EnvironmentVariable("DOTNET_EnableAVX2", "0")).WithId("V128"));
        }
        return config;
    }
}
