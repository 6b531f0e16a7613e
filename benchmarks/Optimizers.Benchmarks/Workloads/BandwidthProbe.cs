using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Optimizers.Benchmarks.Workloads;

/// <summary>Best and median GB/s of copy and triad, on 1 and on 2 threads.</summary>
public sealed record BandwidthResult(
    double CopyGbs1T, double CopyGbs2T, double TriadGbs1T, double TriadGbs2T,
    double TriadMedianGbs1T, double TriadMedianGbs2T, long ArrayElements, int Repeats)
{
    /// <summary>The roofline a row is held to: triad on as many threads as the row used.</summary>
    public double TriadFor(int threads) => threads <= 1 ? TriadGbs1T : TriadGbs2T;
}

/// <summary>
/// STREAM-style copy (a ← b, 8 B/element) and triad (a ← b + s·c, 12 B/element) over arrays far beyond the
/// last-level cache. Bytes are counted as the optimizer rows count them: each array read or written once,
/// no write-allocate traffic. Stores are ordinary (no non-temporal stores), like the optimizer kernels',
/// so the triad is the ceiling those kernels can reach; best of N runs, because noise only slows a run down.
/// </summary>
public static class BandwidthProbe
{
    /// <summary>64M floats: 256 MiB per array, eight times what one core's CCD holds in L3.</summary>
    public const int DefaultElements = 64 << 20;

    public static BandwidthResult Measure(int elements = DefaultElements, int repeats = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elements, 1 << 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var a = GC.AllocateUninitializedArray<float>(elements, pinned: true);
        var b = GC.AllocateUninitializedArray<float>(elements, pinned: true);
        var c = GC.AllocateUninitializedArray<float>(elements, pinned: true);
        // Touch every page first so the timed runs measure DRAM, not page faults.
        Array.Fill(a, 0f);
        Array.Fill(b, 1f);
        Array.Fill(c, 2f);
        int threads = Math.Min(2, Environment.ProcessorCount);

        var copy1 = Time(elements, 8, repeats, 1, (lo, hi) => b.AsSpan(lo, hi - lo).CopyTo(a.AsSpan(lo, hi - lo)));
        var copy2 = Time(elements, 8, repeats, threads, (lo, hi) => b.AsSpan(lo, hi - lo).CopyTo(a.AsSpan(lo, hi - lo)));
        var triad1 = Time(elements, 12, repeats, 1, (lo, hi) => Triad(a, b, c, 3f, lo, hi));
        var triad2 = Time(elements, 12, repeats, threads, (lo, hi) => Triad(a, b, c, 3f, lo, hi));
        return new BandwidthResult(copy1.Best, copy2.Best, triad1.Best, triad2.Best, triad1.Median, triad2.Median, elements, repeats);
    }

    static void Triad(float[] a, float[] b, float[] c, float scale, int lo, int hi)
    {
        int i = lo;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            for (; i <= hi - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref c[i]), s, Vector256.LoadUnsafe(ref b[i])).StoreUnsafe(ref a[i]);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(scale);
            for (; i <= hi - Vector128<float>.Count; i += Vector128<float>.Count)
                Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref c[i]), s, Vector128.LoadUnsafe(ref b[i])).StoreUnsafe(ref a[i]);
        }
        for (; i < hi; i++) a[i] = MathF.FusedMultiplyAdd(c[i], scale, b[i]);
    }

    static (double Best, double Median) Time(int n, int bytesPerElement, int repeats, int threads, Action<int, int> kernel)
    {
        var gbs = new double[repeats];
        for (int r = -1; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            if (threads == 1) kernel(0, n);
            else Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => kernel(Chunk(n, threads, t), Chunk(n, threads, t + 1)));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (r >= 0) gbs[r] = (double)n * bytesPerElement / seconds / 1e9; // r = -1 warms the thread pool and the code
        }
        Array.Sort(gbs);
        return (gbs[^1], gbs[repeats / 2]);
    }

    // Chunk edges rounded to 16 floats so each thread's stores start on a cache line of its own.
    static int Chunk(int n, int parts, int index) => index >= parts ? n : (int)((long)n * index / parts) & ~15;
}
