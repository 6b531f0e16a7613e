using System.Numerics;
using System.Runtime.InteropServices;
using Optimizers.Kernels.Threading;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// The SIMD and threaded paths of <see cref="StacTrunkKernel"/>: the widest accelerated width over the whole blocks
/// of a segment, then the scalar kernel itself over the rest; threads split the segment into chunks.
/// </summary>
internal static class StacTrunkSimd
{
    public static void Step(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer? buffer, int so, int n, in StacTrunkScalars s, KernelPath path)
    {
        int chunks = ChunkPlan.ChunkCount(n, path);
        if (chunks <= 1)
        {
            Range(param, grad, po, buffer, so, n, s);
            return;
        }
        if (s.HasMomentum) ChunkPlan.RequireSegment(buffer!, so, n, nameof(buffer));
        StacTrunkJob.Run(param, grad, po, buffer, so, n, s, chunks);
    }

    public static void Range(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer? buffer, int so, int n, in StacTrunkScalars s)
    {
        if (!s.HasMomentum)
        {
            switch (param.DType)
            {
                case DType.Float32: Core<float, F32, float, F32, float>(param, grad, po, null, 0, n, s); return;
                case DType.Float64: Core<double, F64, double, F64, double>(param, grad, po, null, 0, n, s); return;
            }
        }
        else
        {
            switch (param.DType, buffer!.DType)
            {
                case (DType.Float32, DType.Float32): Core<float, F32, float, F32, float>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float32, DType.Float64): Core<float, F32, double, F64, double>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float32, DType.Float16): Core<float, F32, Half, F16, float>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float32, DType.BFloat16): Core<float, F32, BFloat16, BF16, float>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float64, DType.Float32): Core<double, F64, float, F32, float>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float64, DType.Float64): Core<double, F64, double, F64, double>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float64, DType.Float16): Core<double, F64, Half, F16, float>(param, grad, po, buffer, so, n, s); return;
                case (DType.Float64, DType.BFloat16): Core<double, F64, BFloat16, BF16, float>(param, grad, po, buffer, so, n, s); return;
            }
        }
        throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, buffer {buffer?.DType}.", nameof(param));
    }

    static void Core<TP, TPE, TS, TSE, TC>(TensorBuffer param, TensorBuffer grad, int po, TensorBuffer? buffer, int so, int n, in StacTrunkScalars s)
        where TP : unmanaged, IFloatingPointIeee754<TP> where TPE : IElement<TP, TP>
        where TS : unmanaged where TSE : IElement<TS, TC>
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ref TP p = ref MemoryMarshal.GetReference(param.Span<TP>(po, n));
        ref TP g = ref MemoryMarshal.GetReference(grad.Span<TP>(po, n));
        ref TS b = ref MemoryMarshal.GetReference(s.HasMomentum ? buffer!.Span<TS>(so, n) : default);
        int done = KernelDriver512.IsAccelerated ? KernelDriver512.StacTrunk<TP, TS, TC>(ref p, ref g, ref b, n, s)
            : KernelDriver256.IsAccelerated ? KernelDriver256.StacTrunk<TP, TS, TC>(ref p, ref g, ref b, n, s)
            : KernelDriver128.IsAccelerated ? KernelDriver128.StacTrunk<TP, TS, TC>(ref p, ref g, ref b, n, s)
            : 0;
        // The tail is the scalar kernel itself: the same formula, by construction.
        StacTrunkKernel.Core<TP, TPE, TS, TSE, TC>(param, grad, po + done, buffer, so + done, n - done, s);
    }
}
