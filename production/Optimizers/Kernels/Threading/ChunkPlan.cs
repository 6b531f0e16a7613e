using Optimizers.Storage;

namespace Optimizers.Kernels.Threading;

/// <summary>How a segment is split across threads: contiguous chunks whose boundaries are whole cache lines.</summary>
internal static class ChunkPlan
{
    /// <summary>
    /// Chunk boundaries fall on multiples of this many elements: at least 64 bytes for every element type, so no two
    /// threads write one cache line of an arena whose segment starts on a line, and a whole number of blocks at every
    /// vector width, so only the last chunk has a scalar tail.
    /// </summary>
    public const int Granularity = 64;

    /// <summary>Below this many elements per thread, <see cref="KernelPath.Auto"/> stays on the calling thread: the
    /// hand-off costs microseconds, which only a chunk of a few hundred kilobytes or more repays.</summary>
    public const int AutoElementsPerThread = 1 << 16;

    public static int MaxThreads => Environment.ProcessorCount;

    /// <summary>
    /// Large segments are cut into this many chunks per core. Chunks are claimed dynamically, so on a shared machine,
    /// where a pool thread may start late or be preempted, the threads that do run take the remaining chunks instead
    /// of waiting for a fixed half. Each chunk still has at least <see cref="AutoElementsPerThread"/> elements.
    /// </summary>
    public const int ChunksPerThread = 4;

    /// <summary>The most chunks any call uses: the size of the per-chunk result arrays.</summary>
    public static int MaxChunks => MaxThreads * ChunksPerThread;

    /// <summary>How many chunks <paramref name="path"/> runs a segment of <paramref name="length"/> elements in (1: the calling thread alone).</summary>
    public static int ChunkCount(int length, KernelPath path) => path switch
    {
        KernelPath.Scalar or KernelPath.Simd => 1,
        KernelPath.Threads => Math.Max(1, Math.Max(Math.Min(MaxThreads, (length + Granularity - 1) / Granularity), Math.Min(MaxChunks, length / AutoElementsPerThread))),
        KernelPath.Auto => length / AutoElementsPerThread < 2 ? 1 : Math.Min(MaxChunks, length / AutoElementsPerThread),
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "path must be Auto, Scalar, Simd or Threads."),
    };

    /// <summary>Elements per chunk: an even share rounded up to <see cref="Granularity"/>; the last chunk takes the rest.</summary>
    public static int ChunkLength(int length, int chunks)
    {
        long share = ((long)length + chunks - 1) / chunks;
        return (int)Math.Min(length, (share + Granularity - 1) / Granularity * Granularity);
    }

    /// <summary>Fails, before any chunk runs, when a segment is outside its buffer, so a threaded call never updates part of a tensor.</summary>
    public static void RequireSegment(TensorBuffer buffer, int offset, int length, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (offset < 0 || length < 0 || offset > buffer.Length - length)
            throw new ArgumentOutOfRangeException(name, $"Segment [{offset}, {(long)offset + length}) is outside the {buffer.Length} elements of {name}.");
    }
}
