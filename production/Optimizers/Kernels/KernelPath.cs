namespace Optimizers.Kernels;

/// <summary>Which CPU code path runs a kernel. Every path produces the same bits as <see cref="Scalar"/>.</summary>
public enum KernelPath
{
    /// <summary>The widest SIMD the machine has, on as many threads as the tensor is large enough to use.</summary>
    Auto,
    /// <summary>The plain C# loop: the ground truth every other path is held to, bit for bit.</summary>
    Scalar,
    /// <summary>The widest available of Vector512, Vector256, Vector128, on the calling thread, with a scalar tail.</summary>
    Simd,
    /// <summary>SIMD on every core, the arena split into contiguous chunks.</summary>
    Threads,
}
