using Optimizers.Kernels;

namespace Optimizers;

/// <summary>Options of <see cref="HomeAdam"/>; the shared values are documented on <see cref="HomeAdamFamilyOptions"/>.</summary>
public sealed record HomeAdamOptions : HomeAdamFamilyOptions
{
    /// <summary>Threshold τ of the group decision: adaptive iff min over the group of v̂ ≥ τ (compared in the state dtype). Default 1; valid τ &gt; 0.</summary>
    public double Tau { get; init; } = 1.0;

    /// <summary>
    /// Upstream's <c>capturable</c>: the decision is kept as a tensor instead of a host boolean. Results are identical except
    /// when the group minimum is NaN: capturable takes SGDM (NaN ≥ τ is false), non-capturable the adaptive step (NaN &lt; τ is false). Default false.
    /// </summary>
    public bool Capturable { get; init; }

    private protected override double? TauValue => Tau;
}

/// <summary>
/// HomeAdam (arXiv:2603.02649, Algorithm 2): once per parameter group per step, over the parameters that have a gradient,
/// the minimum bias-corrected second moment v̂ = v/(1 − β₂ᵗ) decides the branch for every element of the group:
/// <code>
/// pass 1 (every parameter with a gradient):  m, v, P₁, P₂ as in AdamSRF;  μ = min over the group of v̂
/// adaptive = !(μ &lt; τ)   (Capturable: μ ≥ τ)
/// pass 2:  θ ← θ·(1 − ηλ) − η/(1 − P₁) · (adaptive ? m/(v̂ + ε) : m)
/// </code>
/// </summary>
public sealed class HomeAdam : HomeAdamFamilyOptimizer
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: upstream's defaults).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, or already owned by another optimizer.</exception>
    /// <param name="parameters">The parameters to optimize (one group); each moves into this optimizer's arena.</param>
    /// <param name="options">Options; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public HomeAdam(IEnumerable<Parameter> parameters, HomeAdamOptions? options = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("HomeAdam", kernelPath, Single(parameters, options ?? new HomeAdamOptions()), backend) { }

    /// <summary>Several parameter groups, each deciding on its own; a group without options uses <paramref name="defaults"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option of the defaults or of a group is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, groups with different NonFinitePolicy values, or a parameter already owned by another optimizer.</exception>
    /// <param name="groups">Parameter groups, each with its own options (validated like the defaults).</param>
    /// <param name="defaults">Options of a group that has none; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public HomeAdam(IEnumerable<ParamGroup<HomeAdamOptions>> groups, HomeAdamOptions? defaults = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("HomeAdam", kernelPath, Groups(groups, defaults ?? new HomeAdamOptions()), backend) { }

    // Upstream takes amin(v) of every stepped tensor, which raises on a tensor with no elements; so do we, before
    // anything changes, rather than inventing a value for its minimum.
    private protected override void ValidateBeforeStep()
    {
        for (int g = 0; g < GroupCount; g++)
        {
            var members = GroupParameters(g);
            for (int i = 0; i < members.Count; i++) // an index, not foreach: an interface enumerator would allocate every step
                if (members[i] is { HasGrad: true, Length: 0 } p)
                    throw new InvalidOperationException(
                        $"HomeAdam cannot take the minimum of v̂ over parameter '{p.Name}': it has no elements (upstream's amin raises too); nothing was changed.");
        }
    }

    private protected override BranchRule FusedRule => BranchRule.Adaptive;
    private protected override bool NeedsGroupDecision => true;

    private protected override BranchRule Decide(OptimizerOptions options, double groupMinVHat, DType compareIn)
    {
        var o = (HomeAdamOptions)options;
        double tau = Rounding.To(compareIn, o.Tau);
        bool adaptive = o.Capturable ? groupMinVHat >= tau : !(groupMinVHat < tau);
        return adaptive ? BranchRule.Adaptive : BranchRule.Sgdm;
    }
}
