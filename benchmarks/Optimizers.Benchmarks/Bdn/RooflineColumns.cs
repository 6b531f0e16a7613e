using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Bdn;

/// <summary>
/// GB/s from the bytes the benchmarked step must move (BytesPerElement) and its mean time; and that rate as
/// a share of the triad bandwidth measured by the host process at the start of the same run.
/// </summary>
public sealed class RooflineColumn : IColumn
{
    readonly bool _asFractionOfTriad;

    RooflineColumn(bool asFractionOfTriad) => _asFractionOfTriad = asFractionOfTriad;

    public static RooflineColumn GigabytesPerSecond { get; } = new(false);
    public static RooflineColumn FractionOfTriad { get; } = new(true);

    /// <summary>Set by the host before the run; null leaves the fraction column empty.</summary>
    public static BandwidthResult? Bandwidth { get; set; }

    public string Id => _asFractionOfTriad ? "FractionOfTriad" : "GBps";
    public string ColumnName => _asFractionOfTriad ? "of triad" : "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => _asFractionOfTriad ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => _asFractionOfTriad
        ? "GB/s divided by the triad bandwidth measured in this run on the same number of threads (Threads: 2 threads; Scalar and Simd: 1)"
        : "Bytes the step must move (benchmarks/README.md) divided by the mean time";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        long? bytes = BytesPerOperation(benchmarkCase);
        if (statistics is null || bytes is null || statistics.Mean <= 0) return "-";
        double gbs = bytes.Value / statistics.Mean; // bytes per nanosecond = GB/s
        if (!_asFractionOfTriad) return gbs.ToString("F1", CultureInfo.InvariantCulture);
        if (Bandwidth is null) return "-";
        return (gbs / Bandwidth.TriadFor(ThreadsOf(benchmarkCase))).ToString("P0", CultureInfo.InvariantCulture);
    }

    static int ThreadsOf(BenchmarkCase benchmarkCase)
        => benchmarkCase.Descriptor.WorkloadMethod.Name is "Threads" ? Math.Min(2, Environment.ProcessorCount) : 1;

    static long? BytesPerOperation(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        var shape = benchmarkCase.Parameters["Shape"] as ShapeCase;
        if (shape is null) return null;
        if (Attribute.GetCustomAttribute(type, typeof(StepsOptimizerAttribute)) is StepsOptimizerAttribute steps
            && benchmarkCase.Parameters["StateDType"] is DType state)
            return BytesPerElement.For(steps.Optimizer, state) * shape.Elements;
        if (type == typeof(OptimizerLevelStep) && benchmarkCase.Parameters["Kind"] is Steppers.OptimizerKind kind)
            return OptimizerLevelWorkload.BytesPerStep(kind, shape);
        return null;
    }

    public override string ToString() => ColumnName;
}
