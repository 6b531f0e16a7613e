using System.Diagnostics;

namespace Optimizers.Benchmarks.Quick;

/// <summary>
/// The quick run's timing loop: warm up (tiering, caches, thread pool), batch calls until one sample lasts at
/// least the minimum, then the median over repeats of the mean time per call. Cruder than BenchmarkDotNet
/// (no outlier analysis, no overhead subtraction), good to a few percent on a quiet machine.
/// </summary>
/// <remarks>
/// The warmup is counted in calls and in time: tiered compilation only starts counting calls after a quiet
/// period of about 100 ms and promotes a method after 30 calls, so a few calls alone would time tier-0 code.
/// </remarks>
public sealed record TimingPlan(int Warmup, double WarmupMs, int Repeats, double MinSampleMs)
{
    public static TimingPlan Quick { get; } = new(Warmup: 3, WarmupMs: 250, Repeats: 7, MinSampleMs: 5);
    public static TimingPlan Full { get; } = new(Warmup: 10, WarmupMs: 1000, Repeats: 31, MinSampleMs: 20);

    /// <summary>Median milliseconds per call of <paramref name="step"/>.</summary>
    public double MedianMs(Action step)
    {
        long warmupStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < Warmup || Stopwatch.GetElapsedTime(warmupStart).TotalMilliseconds < WarmupMs; i++) step();
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
