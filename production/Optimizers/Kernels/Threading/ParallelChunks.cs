using System.Runtime.ExceptionServices;

namespace Optimizers.Kernels.Threading;

/// <summary>
/// One threaded kernel call: the segment is cut into <see cref="ChunkCount"/> chunks; chunk 0 runs on the calling
/// thread and the others on the thread pool. Instances are cached per calling thread and reused, so a call
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

    sealed class Dispatcher
    {
        readonly WorkItem[] _items;
        readonly ManualResetEventSlim _done = new(false);
        ChunkJob? _job;
        int _pending;
        ExceptionDispatchInfo? _failure;

        public Dispatcher()
        {
            _items = new WorkItem[ChunkPlan.MaxThreads];
            for (int i = 0; i < _items.Length; i++) _items[i] = new WorkItem(this, i);
        }

        public void Run(ChunkJob job)
        {
            _job = job;
            _failure = null;
            int others = job.ChunkCount - 1;
            _pending = others;
            _done.Reset();
            for (int chunk = 1; chunk <= others; chunk++)
                ThreadPool.UnsafeQueueUserWorkItem(_items[chunk], preferLocal: false);
            try
            {
                job.Run(0);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                // The other chunks read this dispatcher's state: never return while one is still running.
                if (others > 0) _done.Wait();
                _job = null;
            }
            _failure?.Throw();
        }

        void Execute(int chunk)
        {
            try
            {
                _job!.Run(chunk);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
            }
        }

        sealed class WorkItem(Dispatcher owner, int chunk) : IThreadPoolWorkItem
        {
            public void Execute() => owner.Execute(chunk);
        }
    }
}
