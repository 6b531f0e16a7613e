using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Optimizers.Kernels.Threading;
using Optimizers.Storage;

namespace Optimizers.Kernels;

/// <summary>
/// Whether a stretch of gradients is all finite: the read-only pass that SkipStep and Throw need before a step writes
/// anything. It moves 4 (float32) or 8 (float64) bytes per element, so it has to run at memory speed on every core;
/// a single accumulator would make it a chain of dependent adds, bound by add latency instead of bandwidth.
/// </summary>
internal static class NonFiniteScan
{
    /// <summary>True when no element of <c>buffer[offset .. offset + length)</c> is NaN or ±∞.</summary>
    public static bool AllFinite(TensorBuffer buffer, int offset, int length, KernelPath path)
    {
        ChunkPlan.RequireSegment(buffer, offset, length, nameof(buffer));
        int chunks = ChunkPlan.ChunkCount(length, path);
        if (chunks > 1) return NonFiniteScanJob.Run(buffer, offset, length, chunks);
        return Range(buffer, offset, length);
    }

    public static bool Range(TensorBuffer buffer, int offset, int length) => buffer.DType switch
    {
        DType.Float32 => AllFinite<float>(buffer.Span<float>(offset, length)),
        DType.Float64 => AllFinite<double>(buffer.Span<double>(offset, length)),
        _ => throw new ArgumentException($"Gradients are Float32 or Float64, not {buffer.DType}.", nameof(buffer)),
    };

    // x − x is 0 for finite x and NaN for NaN and ±∞, and NaN survives every later add, so a sum of such differences
    // is 0 exactly when every element is finite. Four accumulators keep four adds in flight.
    static bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T at = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        bool finite = true;
        if (Vector512.IsHardwareAccelerated)
        {
            int w = Vector512<T>.Count;
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                var v0 = Vector512.LoadUnsafe(ref at, (nuint)i);
                var v1 = Vector512.LoadUnsafe(ref at, (nuint)(i + w));
                var v2 = Vector512.LoadUnsafe(ref at, (nuint)(i + 2 * w));
                var v3 = Vector512.LoadUnsafe(ref at, (nuint)(i + 3 * w));
                a0 += v0 - v0; a1 += v1 - v1; a2 += v2 - v2; a3 += v3 - v3;
            }
            finite = Vector512.EqualsAll((a0 + a1) + (a2 + a3), Vector512<T>.Zero);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            int w = Vector256<T>.Count;
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                var v0 = Vector256.LoadUnsafe(ref at, (nuint)i);
                var v1 = Vector256.LoadUnsafe(ref at, (nuint)(i + w));
                var v2 = Vector256.LoadUnsafe(ref at, (nuint)(i + 2 * w));
                var v3 = Vector256.LoadUnsafe(ref at, (nuint)(i + 3 * w));
                a0 += v0 - v0; a1 += v1 - v1; a2 += v2 - v2; a3 += v3 - v3;
            }
            finite = Vector256.EqualsAll((a0 + a1) + (a2 + a3), Vector256<T>.Zero);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            int w = Vector128<T>.Count;
            Vector128<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 4 * w; i += 4 * w)
            {
                var v0 = Vector128.LoadUnsafe(ref at, (nuint)i);
                var v1 = Vector128.LoadUnsafe(ref at, (nuint)(i + w));
                var v2 = Vector128.LoadUnsafe(ref at, (nuint)(i + 2 * w));
                var v3 = Vector128.LoadUnsafe(ref at, (nuint)(i + 3 * w));
                a0 += v0 - v0; a1 += v1 - v1; a2 += v2 - v2; a3 += v3 - v3;
            }
            finite = Vector128.EqualsAll((a0 + a1) + (a2 + a3), Vector128<T>.Zero);
        }
        T tail = T.Zero;
        for (; i < n; i++) tail += Unsafe.Add(ref at, i) - Unsafe.Add(ref at, i);
        return finite && tail == T.Zero;
    }
}
