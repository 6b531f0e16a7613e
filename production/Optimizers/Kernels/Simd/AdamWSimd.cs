using System.Numerics;
using System.Runtime.InteropServices;
using Optimizers.Kernels.Threading;
using Optimizers.Storage;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// The SIMD and threaded paths of <see cref="AdamWKernel"/>: the widest accelerated width over the whole blocks
/// of a segment, then the scalar kernel itself over the rest; threads split the segment into chunks.
/// </summary>
internal static class AdamWSimd
{
    public static void Step(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, TensorBuffer? vmax, int so, int n,
        in AdamWScalars s, KernelPath path)
    {
        int chunks = ChunkPlan.ChunkCount(n, path);
        if (chunks <= 1)
        {
            Range(param, grad, po, m, v, vmax, so, n, s);
            return;
        }
        if (s.Amsgrad) ChunkPlan.RequireSegment(vmax!, so, n, "maxExpAvgSq");
        AdamWJob.Run(param, grad, po, m, v, vmax, so, n, s, chunks);
    }

    public static void Range(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, TensorBuffer? vmax, int so, int n, in AdamWScalars s)
    {
        switch (param.DType)
        {
            case DType.Float32: Core<float>(param, grad, po, m, v, vmax, so, n, s); break;
            case DType.Float64: Core<double>(param, grad, po, m, v, vmax, so, n, s); break;
            default: throw new ArgumentException($"AdamW parameters must be Float32 or Float64, not {param.DType}.", nameof(param));
        }
    }

    static void Core<T>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer m, TensorBuffer v, TensorBuffer? vmax, int so, int n, in AdamWScalars s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T p = ref MemoryMarshal.GetReference(param.Span<T>(po, n));
        ref T g = ref MemoryMarshal.GetReference(grad.Span<T>(po, n));
        ref T ms = ref MemoryMarshal.GetReference(m.Span<T>(so, n));
        ref T vs = ref MemoryMarshal.GetReference(v.Span<T>(so, n));
        ref T vmaxs = ref MemoryMarshal.GetReference(s.Amsgrad ? vmax!.Span<T>(so, n) : default);
        int done = KernelDriver512.IsAccelerated ? KernelDriver512.AdamW(ref p, ref g, ref ms, ref vs, ref vmaxs, n, s)
            : KernelDriver256.IsAccelerated ? KernelDriver256.AdamW(ref p, ref g, ref ms, ref vs, ref vmaxs, n, s)
            : KernelDriver128.IsAccelerated ? KernelDriver128.AdamW(ref p, ref g, ref ms, ref vs, ref vmaxs, n, s)
            : 0;
        // The tail is the scalar kernel itself: the same formula, by construction.
        AdamWKernel.Core<T>(param, grad, po + done, m, v, vmax, so + done, n - done, s);
    }
}
