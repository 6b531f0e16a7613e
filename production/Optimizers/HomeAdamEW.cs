using Optimizers.Kernels;

namespace Optimizers;

/// <summary>How <see cref="HomeAdamEW"/> writes its element-wise switch. Both give the same bits; upstream keeps both names.</summary>
public enum HomeAdamEWUpdateMode
{
    /// <summary>Upstream's <c>"denom"</c> (default): u = m / (v̂ ≥ τ ? v̂ + ε : 1).</summary>
    Denom,
    /// <summary>Upstream's <c>"where_update"</c>: u = v̂ ≥ τ ? m/(v̂ + ε) : m.</summary>
    WhereUpdate,
}

/// <summary>Options of <see cref="HomeAdamEW"/>; the shared values are documented on <see cref="HomeAdamFamilyOptions"/>.</summary>
public sealed record HomeAdamEWOptions : HomeAdamFamilyOptions
{
    /// <summary>Per-element threshold τ: element j is adaptive iff v̂ⱼ ≥ τ (state dtype; NaN takes SGDM). Default 1; valid τ &gt; 0.</summary>
    public double Tau { get; init; } = 1.0;

    /// <summary>Upstream's <c>update_mode</c>. Default <see cref="HomeAdamEWUpdateMode.Denom"/>.</summary>
    public HomeAdamEWUpdateMode UpdateMode { get; init; } = HomeAdamEWUpdateMode.Denom;

    private protected override double? TauValue => Tau;

    private protected override void ValidateMode()
    {
        if (!Enum.IsDefined(UpdateMode))
            throw new ArgumentOutOfRangeException(nameof(UpdateMode), $"Invalid update_mode: {(int)UpdateMode} (expected Denom or WhereUpdate).");
    }
}

/// <summary>
/// HomeAdamEW (arXiv:2603.02649, Algorithm 3): the HomeAdam switch decided per element, in one fused pass:
/// <code>
/// m, v, P₁, P₂ as in AdamSRF;  v̂ = v/(1 − P₂)
/// θ ← θ·(1 − ηλ) − η/(1 − P₁) · (v̂ ≥ τ ? m/(v̂ + ε) : m)
/// </code>
/// </summary>
public sealed class HomeAdamEW : HomeAdamFamilyOptimizer
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: upstream's defaults).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, or already owned by another optimizer.</exception>
    /// <param name="parameters">The parameters to optimize (one group); each moves into this optimizer's arena.</param>
    /// <param name="options">Options; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public HomeAdamEW(IEnumerable<Parameter> parameters, HomeAdamEWOptions? options = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("HomeAdamEW", kernelPath, Single(parameters, options ?? new HomeAdamEWOptions()), backend) { }

    /// <summary>Several parameter groups; a group without options uses <paramref name="defaults"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option of the defaults or of a group is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, groups with different NonFinitePolicy values, or a parameter already owned by another optimizer.</exception>
    /// <param name="groups">Parameter groups, each with its own options (validated like the defaults).</param>
    /// <param name="defaults">Options of a group that has none; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public HomeAdamEW(IEnumerable<ParamGroup<HomeAdamEWOptions>> groups, HomeAdamEWOptions? defaults = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("HomeAdamEW", kernelPath, Groups(groups, defaults ?? new HomeAdamEWOptions()), backend) { }

    private protected override BranchRule FusedRule => BranchRule.ElementWise;
}
