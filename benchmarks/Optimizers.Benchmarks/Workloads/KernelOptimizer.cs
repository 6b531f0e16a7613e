namespace Optimizers.Benchmarks.Workloads;

/// <summary>The optimizer steps benchmarked at kernel level (benchmarks/README.md, "Bytes per element").</summary>
public enum KernelOptimizer
{
    AdamW,
    AdamSrf,
    /// <summary>Two passes: moments and the group minimum of v, then the update under the group's decision.</summary>
    HomeAdam,
    HomeAdamEW,
    /// <summary>STAC's sign-momentum trunk with μ = 0.9 (one momentum buffer).</summary>
    StacTrunk,
    /// <summary>STAC's cap: torch 1.13 AdamW on the last layers, same kernel and bytes as <see cref="AdamW"/>.</summary>
    StacCap,
}

/// <summary>
/// The bytes an optimizer step must move per parameter element: every buffer read once and every buffer
/// written once, with no write-allocate traffic counted (the same convention as the triad probe, 12 B/element).
/// Parameters and gradients are float32 throughout the benchmarks.
/// </summary>
public static class BytesPerElement
{
    public static int StateBytes(DType state) => state switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.BFloat16 or DType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown state dtype."),
    };

    public static int For(KernelOptimizer optimizer, DType state, bool amsgrad = false)
    {
        int s = StateBytes(state);
        return optimizer switch
        {
            // read p, g, m, v; write p, m, v. torch's AdamW keeps its state in the parameter dtype (float32 here).
            KernelOptimizer.AdamW or KernelOptimizer.StacCap => 28 + (amsgrad ? 8 : 0),
            // read p (4), g (4), m, v; write p (4), m, v.
            KernelOptimizer.AdamSrf or KernelOptimizer.HomeAdamEW => 12 + 4 * s,
            // pass 1 reads g, m, v and writes m, v; pass 2 reads p, m, v and writes p.
            KernelOptimizer.HomeAdam => (4 + 4 * s) + (8 + 2 * s),
            // read p, g, b; write p, b.
            KernelOptimizer.StacTrunk => 12 + 2 * s,
            _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "Unknown optimizer."),
        };
    }

    /// <summary>AdamW's kernel keeps its state in the parameter dtype, so it has no bfloat16-state variant.</summary>
    public static bool Supports(KernelOptimizer optimizer, DType state)
        => optimizer is not (KernelOptimizer.AdamW or KernelOptimizer.StacCap) || state == DType.Float32;

    public static string Name(DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.BFloat16 => "bfloat16",
        DType.Float16 => "float16",
        _ => dtype.ToString(),
    };
}
