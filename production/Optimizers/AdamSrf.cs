using Optimizers.Kernels;

namespace Optimizers;

/// <summary>Options of <see cref="AdamSrf"/>; see <see cref="HomeAdamFamilyOptions"/> for each value, its symbol, default and range.</summary>
public sealed record AdamSrfOptions : HomeAdamFamilyOptions;

/// <summary>
/// AdamSRF (arXiv:2603.02649, Algorithm 1): Adam(W) with the square root removed from the denominator, always adaptive.
/// Per parameter with gradient g, at its step t (counted from 1):
/// <code>
/// m ← β₁·m + (1 − β₁)·g          (torch lerp)
/// v ← β₂·v + (1 − β₂)·g²
/// P₁ ← P₁·β₁,  P₂ ← P₂·β₂         (running products in the state dtype: P = βᵗ)
/// θ ← θ·(1 − ηλ) − η/(1 − P₁) · m / (v/(1 − P₂) + ε)
/// </code>
/// Rounded operation by operation as upstream rounds it (paper-notes/operation-sequences.md), so float32 and float64 runs
/// reproduce upstream bit for bit.
/// </summary>
/// <example><code>
/// var w = Parameter.Create("w", new float[] { 1, 2, 3 }, 3);
/// var opt = new AdamSrf([w], new AdamSrfOptions { Lr = 1e-2 });
/// w.SetGrad&lt;float&gt;([0.5f, -0.3f, 0.8f]);
/// opt.Step();
/// </code></example>
public sealed class AdamSrf : HomeAdamFamilyOptimizer
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: upstream's defaults).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, or already owned by another optimizer.</exception>
    /// <param name="parameters">The parameters to optimize (one group); each moves into this optimizer's arena.</param>
    /// <param name="options">Options; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public AdamSrf(IEnumerable<Parameter> parameters, AdamSrfOptions? options = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("AdamSRF", kernelPath, Single(parameters, options ?? new AdamSrfOptions()), backend) { }

    /// <summary>Several parameter groups; a group without options uses <paramref name="defaults"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option of the defaults or of a group is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, groups with different NonFinitePolicy values, or a parameter already owned by another optimizer.</exception>
    /// <param name="groups">Parameter groups, each with its own options (validated like the defaults).</param>
    /// <param name="defaults">Options of a group that has none; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public AdamSrf(IEnumerable<ParamGroup<AdamSrfOptions>> groups, AdamSrfOptions? defaults = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("AdamSRF", kernelPath, Groups(groups, defaults ?? new AdamSrfOptions()), backend) { }

    private protected override BranchRule FusedRule => BranchRule.Adaptive;
}
