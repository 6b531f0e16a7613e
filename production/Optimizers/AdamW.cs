using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers;

/// <summary>Options of <see cref="AdamW"/>, with torch's defaults and checks (torch 1.13).</summary>
public sealed record AdamWOptions : OptimizerOptions
{
    /// <summary>Learning rate η. Default 1e-3; valid η ≥ 0.</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>First-moment decay β₁. Default 0.9; valid 0 ≤ β₁ &lt; 1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Second-moment decay β₂. Default 0.999; valid 0 ≤ β₂ &lt; 1.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε, added outside the square root after bias correction: √v/√(1 − β₂ᵗ) + ε. Default 1e-8; valid ε ≥ 0.</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay λ: θ ← θ·(1 − ηλ). Default 1e-2; valid λ ≥ 0.</summary>
    public double WeightDecay { get; init; } = 1e-2;

    /// <summary>AMSGrad: divide by √max(v) over all steps (stored raw in <c>max_exp_avg_sq</c>). Default false.</summary>
    public bool Amsgrad { get; init; }

    /// <summary>Maximize the objective (step along +g). Default false.</summary>
    public bool Maximize { get; init; }

    /// <inheritdoc/>
    public override NonFinitePolicy NonFinitePolicy { get; init; } = NonFinitePolicy.Propagate;

    internal override void Validate()
    {
        OptionCheck.NonNegative(Lr, nameof(Lr), "learning rate", "η");
        OptionCheck.NonNegative(Eps, nameof(Eps), "epsilon value", "ε");
        OptionCheck.UnitInterval(Beta1, nameof(Beta1), "beta parameter at index 0", "β₁");
        OptionCheck.UnitInterval(Beta2, nameof(Beta2), "beta parameter at index 1", "β₂");
        OptionCheck.NonNegative(WeightDecay, nameof(WeightDecay), "weight_decay value", "λ");
        OptionCheck.Policy(NonFinitePolicy, nameof(NonFinitePolicy));
    }
}

/// <summary>
/// torch 1.13's AdamW (the baseline the HomeAdam paper compares against). Per parameter with gradient g at step t:
/// <code>
/// θ ← θ·(1 − ηλ)
/// m ← β₁·m + (1 − β₁)·g;   v ← β₂·v + (1 − β₂)·g²      (AMSGrad: v̂max ← max(v̂max, v))
/// θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// State in the parameter's dtype; the step counter is torch's float32 tensor; bias corrections are computed in double.
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>One group of <paramref name="parameters"/> with <paramref name="options"/> (default: torch's defaults).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, or already owned by another optimizer.</exception>
    /// <param name="parameters">The parameters to optimize (one group); each moves into this optimizer's arena.</param>
    /// <param name="options">Options; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public AdamW(IEnumerable<Parameter> parameters, AdamWOptions? options = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("AdamW", kernelPath, [((parameters ?? throw new ArgumentNullException(nameof(parameters))).ToList(), options ?? new AdamWOptions(), null)], backend: backend) { }

    /// <summary>Several parameter groups; a group without options uses <paramref name="defaults"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option of the defaults or of a group is outside its range (the message names it and the range).</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter listed twice, groups with different NonFinitePolicy values, or a parameter already owned by another optimizer.</exception>
    /// <param name="groups">Parameter groups, each with its own options (validated like the defaults).</param>
    /// <param name="defaults">Options of a group that has none; <c>null</c> means upstream's defaults.</param>
    /// <param name="kernelPath">CPU code path; every path gives the same bits. Default <see cref="KernelPath.Auto"/>.</param>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public AdamW(IEnumerable<ParamGroup<AdamWOptions>> groups, AdamWOptions? defaults = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : base("AdamW", kernelPath, (groups ?? throw new ArgumentNullException(nameof(groups)))
            .Select(g => ((IReadOnlyList<Parameter>)g.Parameters, (OptimizerOptions)(g.Options ?? defaults ?? new AdamWOptions()), (string?)null)).ToList(), backend: backend) { }

    private protected override BufferSpec[] StateLayout(OptimizerOptions options, DType paramDType, string? role)
        => Layout(((AdamWOptions)options).Amsgrad, paramDType);

    internal static BufferSpec[] Layout(bool amsgrad, DType paramDType) => amsgrad
        ? [new("exp_avg", paramDType), new("exp_avg_sq", paramDType), new("max_exp_avg_sq", paramDType)]
        : [new("exp_avg", paramDType), new("exp_avg_sq", paramDType)];

    private protected override void StepGroup(Group group, ref long adaptiveElements, ref long steppedElements)
    {
        var o = (AdamWOptions)group.Options;
        StepArenas(group, o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, o.Amsgrad, o.Maximize, KernelPath, Device, ref steppedElements);
    }

    /// <summary>The AdamW step over every arena of a group (also STAC's cap).</summary>
    internal static void StepArenas(Group group, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool maximize,
        KernelPath path, Accelerators.AcceleratorKernelBackend? device, ref long steppedElements)
    {
        foreach (var a in group.Arenas)
        {
            a.EnsureStateForGradients();
            a.BuildRuns();
            var vmax = amsgrad ? a.Buffers[2] : null;
            for (int r = 0; r < a.RunCount; r++)
            {
                int offset = a.RunOffset(r), length = a.RunLength(r);
                // torch keeps the step in a float32 tensor: step_t += 1 rounds in float32.
                double step = (float)(a.Steps[a.RunFirst[r]] + 1.0);
                var s = StepScalars.AdamW(a.ParamDType, lr, beta1, beta2, eps, weightDecay, step, amsgrad, maximize);
                if (device is not null)
                {
                    var d = a.Device!;
                    device.AdamWStep(d.Values, d.Grads, offset, d.Buffers[0], d.Buffers[1], amsgrad ? d.Buffers[2] : null, offset, length, s);
                }
                else
                    AdamWKernel.Step(a.Values, a.Grads, offset, a.Buffers[0], a.Buffers[1], vmax, offset, length, s, path);
                a.Advance(r, step, 1.0, 1.0);
                steppedElements += length;
            }
        }
    }
}
