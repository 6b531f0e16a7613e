using System.Diagnostics;

namespace Optimizers.Benchmarks.Quick;

/// <summary>
/// The quick run's timing loop: warm up (tiering, caches, thread pool), batch calls until one sample lasts at
/// least the minimum, then the median over repeats of the mean time per call. Cruder than BenchmarkDotNet
/// (no outlier analysis, no overhead subtraction), good to a few percent on a quiet machine.
/// </summary>
public sealed record TimingPlan(int Warmup, int Repeats, double MinSampleMs)
{
    public static TimingPlan Quick { get; } = new(Warmup: 3, Repeats: 7, MinSampleMs: 5);
    public static TimingPlan Full { get; } = new(Warmup: 10, Repeats: 31, MinSampleMs: 20);

    /// <summary>Median milliseconds per call of <paramref name="step"/>.</summary>
    public double MedianMs(Action step)
    {
        for (int i = 0; i < Warmup; i++) step();
        int calls = 1;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) step();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (ms >= MinSampleMs || calls >= 1 << 20) break;
            calls = ms <= 0 ? calls * 16 : Math.Max(calls * 2, (int)Math.Ceiling(calls * MinSampleMs / ms));
        }
        var samples = new double[Repeats];
        for (int r = 0; r < Repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) step();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
        }
        Array.Sort(samples);
        return samples[Repeats / 2];
    }
}
