using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers;

/// <summary>
/// Options shared by <see cref="AdamSrf"/>, <see cref="HomeAdam"/> and <see cref="HomeAdamEW"/> (arXiv:2603.02649,
/// Algorithms 1–3; upstream <c>homeadam</c> 0.1.3). Defaults are upstream's: note β₂ = 0.99 and ε = 1e-7.
/// </summary>
public abstract record HomeAdamFamilyOptions : OptimizerOptions
{
    /// <summary>Learning rate η. Default 1e-3; valid η ≥ 0 (NaN is refused, unlike upstream).</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>First-moment decay β₁. Default 0.9; valid 0 ≤ β₁ &lt; 1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Second-moment decay β₂. Default 0.99; valid 0 ≤ β₂ &lt; 1.</summary>
    public double Beta2 { get; init; } = 0.99;

    /// <summary>ε, added after bias correction and outside any root: m̂/(v̂ + ε). Default 1e-7; valid ε ≥ 0.</summary>
    public double Eps { get; init; } = 1e-7;

    /// <summary>Decoupled weight decay λ: θ ← θ·(1 − ηλ) before the update. Default 0; valid λ ≥ 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>
    /// dtype of m, v and the running products β₁ᵗ, β₂ᵗ. Default <see cref="DType.Float32"/> (also for float64 parameters,
    /// as upstream); <c>null</c> follows each parameter's dtype. BFloat16 and Float16 are computed in float32 and rounded
    /// when stored (paper-notes/deviations.md).
    /// </summary>
    public DType? StateDType { get; init; } = DType.Float32;

    /// <inheritdoc/>
    public override NonFinitePolicy NonFinitePolicy { get; init; } = NonFinitePolicy.Propagate;

    /// <summary>τ for HomeAdam and HomeAdamEW; AdamSRF has none.</summary>
    private protected virtual double? TauValue => null;

    private protected virtual void ValidateMode() { }

    internal override void Validate()
    {
        OptionCheck.NonNegative(Lr, nameof(Lr), "learning rate", "η");
        OptionCheck.UnitInterval(Beta1, nameof(Beta1), "beta1", "β₁");
        OptionCheck.UnitInterval(Beta2, nameof(Beta2), "beta2", "β₂");
        OptionCheck.NonNegative(Eps, nameof(Eps), "epsilon", "ε");
        OptionCheck.NonNegative(WeightDecay, nameof(WeightDecay), "weight_decay", "λ");
        if (TauValue is { } tau && !(tau > 0.0)) // NaN too, unlike upstream (paper-notes/deviations.md)
            throw new ArgumentOutOfRangeException("Tau", $"Invalid tau: {OptionCheck.Format(tau)} (expected τ > 0).");
        OptionCheck.StateDType(StateDType, nameof(StateDType));
        ValidateMode();
        OptionCheck.Policy(NonFinitePolicy, nameof(NonFinitePolicy));
    }
}

/// <summary>
/// The shared engine of the HomeAdam family: per group, every parameter with a gradient updates its moments and running
/// products (pass 1), then its parameter (pass 2; fused with pass 1 when no group-wide decision is needed).
/// </summary>
public abstract class HomeAdamFamilyOptimizer : Optimizer
{
    private protected HomeAdamFamilyOptimizer(string kind, KernelPath kernelPath, IReadOnlyList<(IReadOnlyList<Parameter>, OptimizerOptions, string?)> groups,
        ExecutionBackend? backend)
        : base(kind, kernelPath, groups, backend: backend) { }

    private protected static IReadOnlyList<(IReadOnlyList<Parameter>, OptimizerOptions, string?)> Groups<TOptions>(
        IEnumerable<ParamGroup<TOptions>> groups, TOptions defaults) where TOptions : OptimizerOptions
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(defaults);
        return groups.Select(g => (g?.Parameters ?? throw new ArgumentNullException(nameof(groups)), (OptimizerOptions)(g.Options ?? defaults), (string?)null)).ToList();
    }

    private protected static IReadOnlyList<(IReadOnlyList<Parameter>, OptimizerOptions, string?)> Single(IEnumerable<Parameter> parameters, OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(options);
        return [(parameters.ToList(), options, null)];
    }

    private protected override bool HasAdaptiveBranch => true;
    private protected override bool HasBetaPowers => true;

    private protected override BufferSpec[] StateLayout(OptimizerOptions options, DType paramDType, string? role)
    {
        var state = ((HomeAdamFamilyOptions)options).StateDType ?? paramDType;
        return [new BufferSpec("exp_avg", state), new BufferSpec("exp_avg_sq", state)];
    }

    /// <summary>How this optimizer picks the branch; <see cref="BranchRule.Adaptive"/> / <see cref="BranchRule.ElementWise"/> run fused.</summary>
    private protected abstract BranchRule FusedRule { get; }

    /// <summary>HomeAdam: decides adaptive vs SGDM for the group from the group minimum of v̂ (NaN propagated) and τ.</summary>
    private protected virtual BranchRule Decide(OptimizerOptions options, double groupMinVHat, DType compareIn) => FusedRule;

    private protected virtual bool NeedsGroupDecision => false;

    private protected override void StepGroup(Group group, ref long adaptiveElements, ref long steppedElements)
    {
        var o = (HomeAdamFamilyOptions)group.Options;
        double tau = o is HomeAdamOptions h ? h.Tau : o is HomeAdamEWOptions e ? e.Tau : 0.0;
        if (Device is { } device)
        {
            StepGroupOnDevice(device, group, o, tau, ref steppedElements);
            return;
        }
        bool decide = NeedsGroupDecision;
        double groupMin = double.PositiveInfinity;
        DType? compareIn = null;

        foreach (var a in group.Arenas)
        {
            a.EnsureStateForGradients();
            a.BuildRuns();
            var state = a.Specs[0].DType;
            TensorBuffer m = a.Buffers[0], v = a.Buffers[1];
            for (int r = 0; r < a.RunCount; r++)
            {
                int first = a.RunFirst[r], offset = a.RunOffset(r), length = a.RunLength(r);
                double p1 = StepScalars.NextPower(state, a.Power1[first], o.Beta1);
                double p2 = StepScalars.NextPower(state, a.Power2[first], o.Beta2);
                var s = StepScalars.HomeAdam(state, a.ParamDType, o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, tau, p1, p2);
                if (decide)
                {
                    a.RunHomeAdam[r] = s;
                    double minV = HomeAdamFamilyKernel.UpdateMoments(a.Grads, offset, m, v, offset, length, s, KernelPath);
                    // min over a run of v, divided once: division by the positive bc2 is monotone, so this equals the minimum of v̂.
                    double minVHat = Rounding.To(state, minV / s.BiasCorrection2);
                    groupMin = double.IsNaN(groupMin) || double.IsNaN(minVHat) ? double.NaN : Math.Min(groupMin, minVHat);
                    compareIn = compareIn is null ? state : Rounding.Wider(compareIn.Value, state);
                }
                else
                {
                    adaptiveElements += HomeAdamFamilyKernel.Step(a.Values, a.Grads, offset, m, v, offset, length, s, FusedRule, KernelPath);
                }
                a.Advance(r, a.Steps[first] + 1, p1, p2);
                steppedElements += length;
            }
        }
        if (!decide || compareIn is null) return;

        var rule = Decide(o, groupMin, compareIn.Value);
        if (TelemetryEnabled) group.Telemetry.MinVHat = groupMin;
        foreach (var a in group.Arenas)
            for (int r = 0; r < a.RunCount; r++)
                adaptiveElements += HomeAdamFamilyKernel.Apply(a.Values, a.RunOffset(r), a.Buffers[0], a.Buffers[1], a.RunOffset(r), a.RunLength(r), a.RunHomeAdam[r], rule, KernelPath);
    }

    // The same runs, scalars and counters as the CPU path; HomeAdam's minimum, decision and apply stay on the device.
    void StepGroupOnDevice(Accelerators.AcceleratorKernelBackend device, Group group, HomeAdamFamilyOptions o, double tau, ref long steppedElements)
    {
        bool decide = NeedsGroupDecision;
        var counter = StepAdaptiveCounter;
        bool anyRun = false;
        if (decide) device.BeginHomeAdamGroup(group.DeviceDecision ??= device.CreateHomeAdamGroup());
        foreach (var a in group.Arenas)
        {
            a.EnsureStateForGradients();
            a.BuildRuns();
            var state = a.Specs[0].DType;
            var d = a.Device!;
            for (int r = 0; r < a.RunCount; r++)
            {
                int first = a.RunFirst[r], offset = a.RunOffset(r), length = a.RunLength(r);
                double p1 = StepScalars.NextPower(state, a.Power1[first], o.Beta1);
                double p2 = StepScalars.NextPower(state, a.Power2[first], o.Beta2);
                var s = StepScalars.HomeAdam(state, a.ParamDType, o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, tau, p1, p2);
                if (decide)
                {
                    a.RunHomeAdam[r] = s;
                    device.HomeAdamUpdateMoments(d.Grads, offset, d.Buffers[0], d.Buffers[1], offset, length, s, group.DeviceDecision!);
                    anyRun = true;
                }
                else
                {
                    device.HomeAdamStep(d.Values, d.Grads, offset, d.Buffers[0], d.Buffers[1], offset, length, s, FusedRule, counter);
                }
                a.Advance(r, a.Steps[first] + 1, p1, p2);
                steppedElements += length;
            }
        }
        if (!decide || !anyRun) return;

        var h = (HomeAdamOptions)o;
        device.DecideHomeAdamGroup(group.DeviceDecision!, h.Tau, h.Capturable);
        foreach (var a in group.Arenas)
            for (int r = 0; r < a.RunCount; r++)
                device.HomeAdamApply(a.Device!.Values, a.RunOffset(r), a.Device.Buffers[0], a.Device.Buffers[1], a.RunOffset(r), a.RunLength(r),
                    a.RunHomeAdam[r], group.DeviceDecision!, counter);
    }

}
