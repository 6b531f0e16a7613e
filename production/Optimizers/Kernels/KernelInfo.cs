using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Optimizers.Kernels.Threading;

namespace Optimizers.Kernels;

/// <summary>Which CPU code the kernels run on this machine and process (the DOTNET_Enable* switches narrow it).</summary>
public static class KernelInfo
{
    /// <summary>The vector width <see cref="KernelPath.Simd"/> uses: 512, 256 or 128 bits, or 0 for the scalar loop.</summary>
    public static int VectorBits =>
        Vector512.IsHardwareAccelerated ? 512
        : Vector256.IsHardwareAccelerated ? 256
        : Vector128.IsHardwareAccelerated ? 128
        : 0;

    /// <summary>Threads <see cref="KernelPath.Threads"/> splits a large segment across.</summary>
    public static int Threads => ChunkPlan.MaxThreads;

    /// <summary>A one-line description, e.g. "Vector512 (AVX-512F), 2 threads".</summary>
    public static string Describe()
    {
        string width = VectorBits switch
        {
            512 => "Vector512 (AVX-512F)",
            256 => Avx2.IsSupported ? "Vector256 (AVX2)" : "Vector256 (AVX)",
            128 => Sse41.IsSupported ? "Vector128 (SSE4.1)" : Sse2.IsSupported ? "Vector128 (SSE2)" : AdvSimd.IsSupported ? "Vector128 (AdvSIMD)" : "Vector128",
            _ => "scalar (no hardware intrinsics)",
        };
        return $"{width}, {Threads} thread{(Threads == 1 ? "" : "s")}";
    }
}
