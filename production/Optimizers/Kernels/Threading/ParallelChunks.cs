using System.Runtime.ExceptionServices;

namespace Optimizers.Kernels.Threading;

/// <summary>
/// One threaded kernel call: the segment is cut into <see cref="ChunkCount"/> chunks, run by the calling thread and
/// the thread pool. Instances are cached per calling thread and reused, so a call
/// allocates nothing once the thread has made its first one.
/// </summary>
internal abstract class ChunkJob
{
    public int Length { get; private set; }
    public int ChunkCount { get; private set; }
    int _chunkLength;

    /// <summary>Runs one chunk of the segment: the kernel over [start, start + length) relative to the segment.</summary>
    protected abstract void RunChunk(int chunk, int start, int length);

    /// <summary>Drops the references to buffers so that a cached job does not keep arenas alive.</summary>
    protected abstract void Release();

    protected void RunAll(int length, int chunks)
    {
        _chunkLength = ChunkPlan.ChunkLength(length, chunks);
        Length = length;
        // Rounding the share up to whole cache lines can leave the last planned chunks empty.
        ChunkCount = Math.Min(chunks, (length + _chunkLength - 1) / _chunkLength);
        try { ParallelChunks.Run(this); }
        finally { Release(); }
    }

    internal void Run(int chunk)
    {
        int start = chunk * _chunkLength;
        RunChunk(chunk, start, Math.Min(_chunkLength, Length - start));
    }
}

internal static class ParallelChunks
{
    [ThreadStatic] static Dispatcher? t_dispatcher;

    public static void Run(ChunkJob job) => (t_dispatcher ??= new Dispatcher()).Run(job);

    /// <summary>
    /// Chunks are claimed, by the calling thread and by pool threads alike, through one atomic word that packs the
    /// call's generation, its chunk count and the next unclaimed chunk. So the caller runs whatever no pool thread
    /// has picked up (a busy pool delays nothing), and a work item that starts late, after its call finished, sees
    /// that call's chunks all claimed and leaves, or helps with the current call, never with a chunk twice.
    /// </summary>
    sealed class Dispatcher
    {
        const int IndexBits = 20;
        const long IndexMask = (1L << IndexBits) - 1;

        readonly WorkItem[] _items;
        // Monitor on a preallocated object rather than ManualResetEventSlim, which allocates its lock object the first
        // time a wait actually blocks, possibly on a call long after the first.
        readonly object _gate = new();
        ChunkJob? _job;
        long _claims; // generation << 2·IndexBits | chunk count << IndexBits | next chunk
        int _remaining;
        ExceptionDispatchInfo? _failure;

        public Dispatcher()
        {
            _items = new WorkItem[ChunkPlan.MaxThreads];
            for (int i = 0; i < _items.Length; i++) _items[i] = new WorkItem(this);
        }

        public void Run(ChunkJob job)
        {
            int chunks = job.ChunkCount;
            _job = job;
            _failure = null;
            _remaining = chunks;
            long generation = (Volatile.Read(ref _claims) >> (2 * IndexBits)) + 1;
            // Publishing the new word makes the fields above visible to every thread that claims a chunk of this call.
            Volatile.Write(ref _claims, (generation << (2 * IndexBits)) | ((long)chunks << IndexBits));
            // One helper per other core: each claims chunks until none is left.
            for (int i = 1; i < Math.Min(chunks, _items.Length); i++)
                _items[i].QueueUnlessQueued();
            ClaimAndRun();
            // Chunks claimed by pool threads may still be running; they read this call's job until they finish.
            WaitForChunks();
            _job = null;
            _failure?.Throw();
        }

        void ClaimAndRun()
        {
            while (true)
            {
                long claims = Volatile.Read(ref _claims);
                int next = (int)(claims & IndexMask), count = (int)((claims >> IndexBits) & IndexMask);
                if (next >= count) return;
                if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims) continue;
                try
                {
                    _job!.Run(next);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
                }
                if (Interlocked.Decrement(ref _remaining) == 0)
                    lock (_gate) Monitor.PulseAll(_gate);
            }
        }

        void WaitForChunks()
        {
            // Chunks are even, so the others usually finish within a spin; block only when they do not.
            var spinner = new SpinWait();
            while (Volatile.Read(ref _remaining) != 0 && !spinner.NextSpinWillYield) spinner.SpinOnce();
            lock (_gate)
                while (Volatile.Read(ref _remaining) != 0) Monitor.Wait(_gate);
        }

        sealed class WorkItem(Dispatcher owner) : IThreadPoolWorkItem
        {
            int _queued;

            // An item still waiting in the pool's queue will claim chunks of this call when it runs; queuing it again
            // would let items pile up whenever the caller outruns the pool, and the pool's queue grow (and allocate).
            public void QueueUnlessQueued()
            {
                if (Interlocked.Exchange(ref _queued, 1) == 0)
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }

            public void Execute()
            {
                Volatile.Write(ref _queued, 0);
                owner.ClaimAndRun();
            }
        }
    }
}
