using Optimizers.Kernels.Simd;
using Optimizers.Storage;

namespace Optimizers.Kernels.Threading;

// One cached job per kernel entry point and calling thread: the arguments of the call live in its fields while
// the chunks run, and per-chunk results (HomeAdam's minimum, adaptive counts) in arrays sized once.

internal sealed class HomeAdamStepJob : ChunkJob
{
    [ThreadStatic] static HomeAdamStepJob? t_job;
    readonly long[] _counts = new long[ChunkPlan.MaxChunks];
    TensorBuffer? _param, _grad, _m, _v;
    int _po, _so;
    HomeAdamScalars _s;
    BranchRule _rule;

    public static long Run(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule, int chunks)
    {
        var job = t_job ??= new HomeAdamStepJob();
        (job._param, job._grad, job._m, job._v, job._po, job._so, job._s, job._rule) = (param, grad, m, v, po, so, s, rule);
        job.RunAll(n, chunks);
        long total = 0;
        for (int i = 0; i < job.ChunkCount; i++) total += job._counts[i];
        return total;
    }

    protected override void RunChunk(int chunk, int start, int length)
        => _counts[chunk] = HomeAdamFamilySimd.StepRange(_param!, _grad!, _po + start, _m!, _v!, _so + start, length, _s, _rule);

    protected override void Release() => (_param, _grad, _m, _v) = (null, null, null, null);
}

internal sealed class HomeAdamMomentsJob : ChunkJob
{
    [ThreadStatic] static HomeAdamMomentsJob? t_job;
    readonly double[] _minima = new double[ChunkPlan.MaxChunks];
    TensorBuffer? _grad, _m, _v;
    int _po, _so;
    HomeAdamScalars _s;

    public static double Run(TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, int chunks)
    {
        var job = t_job ??= new HomeAdamMomentsJob();
        (job._grad, job._m, job._v, job._po, job._so, job._s) = (grad, m, v, po, so, s);
        job.RunAll(n, chunks);
        // Each chunk's minimum is a compute-type value widened exactly, so combining them in double is exact too.
        double min = double.PositiveInfinity;
        for (int i = 0; i < job.ChunkCount; i++) min = VectorMath.CombineMin(min, job._minima[i]);
        return min;
    }

    protected override void RunChunk(int chunk, int start, int length)
        => _minima[chunk] = HomeAdamFamilySimd.MomentsRange(_grad!, _po + start, _m!, _v!, _so + start, length, _s);

    protected override void Release() => (_grad, _m, _v) = (null, null, null);
}

internal sealed class HomeAdamApplyJob : ChunkJob
{
    [ThreadStatic] static HomeAdamApplyJob? t_job;
    readonly long[] _counts = new long[ChunkPlan.MaxChunks];
    TensorBuffer? _param, _m, _v;
    int _po, _so;
    HomeAdamScalars _s;
    BranchRule _rule;

    public static long Run(TensorBuffer param, int po, TensorBuffer m, TensorBuffer v, int so, int n, in HomeAdamScalars s, BranchRule rule, int chunks)
    {
        var job = t_job ??= new HomeAdamApplyJob();
        (job._param, job._m, job._v, job._po, job._so, job._s, job._rule) = (param, m, v, po, so, s, rule);
        job.RunAll(n, chunks);
        long total = 0;
        for (int i = 0; i < job.ChunkCount; i++) total += job._counts[i];
        return total;
    }

    protected override void RunChunk(int chunk, int start, int length)
        => _counts[chunk] = HomeAdamFamilySimd.ApplyRange(_param!, _po + start, _m!, _v!, _so + start, length, _s, _rule);

    protected override void Release() => (_param, _m, _v) = (null, null, null);
}

internal sealed class AdamWJob : ChunkJob
{
    [ThreadStatic] static AdamWJob? t_job;
    TensorBuffer? _param, _grad, _m, _v, _vmax;
    int _po, _so;
    AdamWScalars _s;

    public static void Run(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, TensorBuffer? vmax, int so, int n, in AdamWScalars s, int chunks)
    {
        var job = t_job ??= new AdamWJob();
        (job._param, job._grad, job._m, job._v, job._vmax, job._po, job._so, job._s) = (param, grad, m, v, vmax, po, so, s);
        job.RunAll(n, chunks);
    }

    protected override void RunChunk(int chunk, int start, int length)
        => AdamWSimd.Range(_param!, _grad!, _po + start, _m!, _v!, _vmax, _so + start, length, _s);

    protected override void Release() => (_param, _grad, _m, _v, _vmax) = (null, null, null, null, null);
}

internal sealed class StacTrunkJob : ChunkJob
{
    [ThreadStatic] static StacTrunkJob? t_job;
    TensorBuffer? _param, _grad, _buffer;
    int _po, _so;
    StacTrunkScalars _s;

    public static void Run(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer? buffer, int so, int n, in StacTrunkScalars s, int chunks)
    {
        var job = t_job ??= new StacTrunkJob();
        (job._param, job._grad, job._buffer, job._po, job._so, job._s) = (param, grad, buffer, po, so, s);
        job.RunAll(n, chunks);
    }

    protected override void RunChunk(int chunk, int start, int length)
        => StacTrunkSimd.Range(_param!, _grad!, _po + start, _buffer, _so + start, length, _s);

    protected override void Release() => (_param, _grad, _buffer) = (null, null, null);
}

internal sealed class NonFiniteScanJob : ChunkJob
{
    [ThreadStatic] static NonFiniteScanJob? t_job;
    readonly bool[] _finite = new bool[ChunkPlan.MaxChunks];
    TensorBuffer? _buffer;
    int _offset;

    public static bool Run(TensorBuffer buffer, int offset, int n, int chunks)
    {
        var job = t_job ??= new NonFiniteScanJob();
        (job._buffer, job._offset) = (buffer, offset);
        job.RunAll(n, chunks);
        bool finite = true;
        for (int i = 0; i < job.ChunkCount; i++) finite &= job._finite[i];
        return finite;
    }

    protected override void RunChunk(int chunk, int start, int length)
        => _finite[chunk] = NonFiniteScan.Range(_buffer!, _offset + start, length);

    protected override void Release() => _buffer = null;
}
