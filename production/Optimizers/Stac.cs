using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers;

/// <summary>Options of <see cref="Stac"/>: upstream <c>stac-optimizer</c> 0.1.2's API plus 0.1.4's <c>trunk_state_dtype</c>.</summary>
public sealed record StacOptions : OptimizerOptions
{
    /// <summary>Base learning rate η. Default 1e-3; valid η ≥ 0.</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>Trunk learning rate η_trunk. Default <c>null</c>: 0.75·η when both trunk and cap are non-empty, else η. Valid ≥ 0.</summary>
    public double? TrunkLr { get; init; }

    /// <summary>Cap learning rate η_cap. Default <c>null</c>: η. Valid ≥ 0.</summary>
    public double? CapLr { get; init; }

    /// <summary>N: how many trailing trainable layers form the AdamW cap. Default 1; valid N ≥ 0 (0: all trunk; ≥ layer count: all cap).</summary>
    public int LastNLayers { get; init; } = 1;

    /// <summary>Trunk momentum μ of the dampened buffer b ← μ·b + (1 − μ)·g. Default 0.9; valid 0 ≤ μ &lt; 1 (0: plain signSGD, no state).</summary>
    public double TrunkMomentum { get; init; } = 0.9;

    /// <summary>Cap β₁. Default 0.9; valid 0 ≤ β₁ &lt; 1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Cap β₂. Default 0.999; valid 0 ≤ β₂ &lt; 1.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Cap ε. Default 1e-8; valid ε ≥ 0.</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Base decoupled weight decay λ. Default 0; valid λ ≥ 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Trunk weight decay. Default <c>null</c>: λ. Valid ≥ 0.</summary>
    public double? TrunkWeightDecay { get; init; }

    /// <summary>Cap weight decay. Default <c>null</c>: λ. Valid ≥ 0.</summary>
    public double? CapWeightDecay { get; init; }

    /// <summary>AMSGrad in the cap. Default false.</summary>
    public bool Amsgrad { get; init; }

    /// <summary>Maximize: both sides step along +g. Default false.</summary>
    public bool Maximize { get; init; }

    /// <summary>dtype of the trunk momentum buffer (0.1.4). Default <c>null</c>: the parameter's dtype.</summary>
    public DType? TrunkStateDType { get; init; }

    /// <summary>Default <see cref="NonFinitePolicy.SkipStep"/> (STAC 0.1.3+); <see cref="NonFinitePolicy.Throw"/> is upstream's <c>error_if_nonfinite=True</c>.</summary>
    public override NonFinitePolicy NonFinitePolicy { get; init; } = NonFinitePolicy.SkipStep;

    internal void ValidateHead()
    {
        OptionCheck.NonNegative(Lr, nameof(Lr), "lr", "η");
        OptionCheck.NonNegative(Eps, nameof(Eps), "eps", "ε");
        OptionCheck.NonNegative(WeightDecay, nameof(WeightDecay), "weight_decay", "λ");
        OptionCheck.UnitInterval(Beta1, nameof(Beta1), "beta parameter at index 0", "β₁");
        OptionCheck.UnitInterval(Beta2, nameof(Beta2), "beta parameter at index 1", "β₂");
        OptionCheck.UnitInterval(TrunkMomentum, nameof(TrunkMomentum), "trunk_momentum value", "μ");
        if (LastNLayers < 0)
            throw new ArgumentOutOfRangeException(nameof(LastNLayers), $"Invalid last_n_layers: {LastNLayers} (expected last_n_layers ≥ 0).");
    }

    internal void ValidateTail()
    {
        if (TrunkLr is { } t) OptionCheck.NonNegative(t, nameof(TrunkLr), "trunk_lr", "η_trunk");
        if (CapLr is { } c) OptionCheck.NonNegative(c, nameof(CapLr), "cap_lr", "η_cap");
        if (TrunkWeightDecay is { } tw) OptionCheck.NonNegative(tw, nameof(TrunkWeightDecay), "trunk_weight_decay", "λ_trunk");
        if (CapWeightDecay is { } cw) OptionCheck.NonNegative(cw, nameof(CapWeightDecay), "cap_weight_decay", "λ_cap");
        OptionCheck.StateDType(TrunkStateDType, nameof(TrunkStateDType));
        OptionCheck.Policy(NonFinitePolicy, nameof(NonFinitePolicy));
    }

    internal override void Validate()
    {
        ValidateHead();
        ValidateTail();
    }

    /// <summary>The trunk's learning rate after resolution (0.75·η only in a hybrid split).</summary>
    public double ResolvedTrunkLr(bool hybrid) => TrunkLr ?? (hybrid ? 0.75 * Lr : Lr);

    /// <summary>The cap's learning rate after resolution.</summary>
    public double ResolvedCapLr => CapLr ?? Lr;

    /// <summary>The trunk's weight decay after resolution.</summary>
    public double ResolvedTrunkWeightDecay => TrunkWeightDecay ?? WeightDecay;

    /// <summary>The cap's weight decay after resolution.</summary>
    public double ResolvedCapWeightDecay => CapWeightDecay ?? WeightDecay;
}

/// <summary>
/// STAC, "SignSGD Trunk, AdamW Cap" (upstream <c>stac-optimizer</c> 0.1.2 API, 0.1.4 numerics): the model's trainable
/// layers are split by <see cref="StacPartition"/>; the trunk (all but the last N layers) takes sign-of-momentum steps,
/// the cap (the last N) is torch AdamW. Groups run trunk first, then cap. Per trunk parameter with gradient g:
/// <code>
/// θ ← θ·(1 − η_t·λ_t)                         (if λ_t ≠ 0)
/// b ← μ·b + (1 − μ)·g;  d = sign(b)            (μ = 0: d = sign(g), no state)
/// θ ← θ − η_t·d                                (sign(0) = sign(NaN) = 0)
/// </code>
/// Non-finite gradients skip the whole step by default (0.1.3+), decided over both groups before anything changes.
/// </summary>
public sealed class Stac : Optimizer
{
    sealed record Prepared(StacOptions Options, StacPartition Partition, IReadOnlyList<(IReadOnlyList<Parameter>, OptimizerOptions, string?)> Groups);

    /// <summary>Partitions <paramref name="model"/> and builds the trunk and cap groups.</summary>
    /// <param name="model">The model tree.</param>
    /// <param name="options">Options (default: upstream's defaults).</param>
    /// <param name="kernelPath">CPU code path.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside its range; checked in upstream's order (lr, eps, weight_decay, betas, trunk_momentum, last_n_layers, then the resolved trunk/cap values).</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameter, or a parameter already lives in another optimizer.</exception>
    /// <param name="backend">Where the arenas live and the kernels run; <c>null</c> means <see cref="ExecutionBackend.Cpu"/>. With an accelerator, <paramref name="kernelPath"/> must stay Auto.</param>
    /// <exception cref="PlatformNotSupportedException"><paramref name="backend"/> is an accelerator this machine does not have (the message says why); no parameter was touched.</exception>
    public Stac(Module model, StacOptions? options = null, KernelPath kernelPath = KernelPath.Auto, ExecutionBackend? backend = null)
        : this(Prepare(model, options ?? new StacOptions()), kernelPath, backend) { }

    Stac(Prepared prepared, KernelPath kernelPath, ExecutionBackend? backend) : base("STAC", kernelPath, prepared.Groups, backend: backend)
    {
        Partition = prepared.Partition;
    }

    static Prepared Prepare(Module model, StacOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.ValidateHead();
        var partition = StacPartition.Create(model, options.LastNLayers);
        options.ValidateTail();
        var groups = new List<(IReadOnlyList<Parameter>, OptimizerOptions, string?)>();
        if (partition.TrunkLayers.Count > 0) groups.Add((partition.TrunkParameters, options, "trunk"));
        if (partition.CapLayers.Count > 0) groups.Add((partition.CapParameters, options, "cap"));
        return new Prepared(options, partition, groups);
    }

    /// <summary>The trunk/cap split this optimizer was built with.</summary>
    public StacPartition Partition { get; }

    /// <summary>Names of the trunk layers (<c>&lt;root&gt;</c> for the root's own parameters).</summary>
    public IReadOnlyList<string> TrunkLayerNames => Partition.TrunkLayerNames;

    /// <summary>Names of the cap layers.</summary>
    public IReadOnlyList<string> CapLayerNames => Partition.CapLayerNames;

    /// <summary>Qualified names of the trunk parameters.</summary>
    public IReadOnlyList<string> TrunkParameterNames => Partition.TrunkParameterNames;

    /// <summary>Qualified names of the cap parameters.</summary>
    public IReadOnlyList<string> CapParameterNames => Partition.CapParameterNames;

    /// <summary>
    /// The options of both groups. STAC keeps one record for trunk and cap because each side reads its own fields of it
    /// (<see cref="StacOptions.TrunkLr"/>, <see cref="StacOptions.CapLr"/>, the weight decays, betas, momentum), so a schedule
    /// can still move each side separately through those fields; upstream's per-group <c>lr</c>/<c>weight_decay</c> map to
    /// them. <see cref="Optimizer.SetGroupOptions"/> with either group index and <see cref="Optimizer.LoadStateDict"/>
    /// therefore replace the options of both groups at once (a state dict whose groups disagree is refused), and neither
    /// may change <see cref="StacOptions.LastNLayers"/>: the partition was fixed at construction. A new
    /// <see cref="StacOptions.Lr"/> also moves a trunk learning rate that defaults to 0.75·η.
    /// </summary>
    public StacOptions Options => (StacOptions)_groups[0].Options;

    private protected override bool OptionsShareAllGroups => true;

    private protected override (string Option, string Message)? OptionsChangeProblem(OptimizerOptions current, OptimizerOptions proposed)
    {
        int was = ((StacOptions)current).LastNLayers, now = ((StacOptions)proposed).LastNLayers;
        return was == now ? null
            : (nameof(StacOptions.LastNLayers), $"Invalid LastNLayers: {now} (expected {was}, the value the trunk/cap partition was built with; build a new optimizer to change it)");
    }

    /// <summary>Always throws: adding parameters after construction would make the trunk/cap partition depend on history.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void AddParamGroup(IEnumerable<Parameter> parameters)
        => throw new NotSupportedException("STAC does not support AddParamGroup(); construct a new optimizer so the trunk/cap partition stays deterministic.");

    private protected override StacPartitionNames? PartitionNames => Partition.Names;

    private protected override bool HasStepCounter(string? role) => role != "trunk";

    private protected override BufferSpec[] StateLayout(OptimizerOptions options, DType paramDType, string? role)
    {
        var o = (StacOptions)options;
        if (role == "cap") return AdamW.Layout(o.Amsgrad, paramDType);
        return o.TrunkMomentum != 0.0 ? [new BufferSpec("trunk_momentum_buffer", o.TrunkStateDType ?? paramDType)] : [];
    }

    private protected override void StepGroup(Group group, ref long adaptiveElements, ref long steppedElements)
    {
        var o = (StacOptions)group.Options;
        if (group.Role == "cap")
        {
            AdamW.StepArenas(group, o.ResolvedCapLr, o.Beta1, o.Beta2, o.Eps, o.ResolvedCapWeightDecay, o.Amsgrad, o.Maximize, KernelPath, Device, ref steppedElements);
            return;
        }
        double lr = o.ResolvedTrunkLr(Partition.IsHybrid);
        foreach (var a in group.Arenas)
        {
            a.EnsureStateForGradients();
            a.BuildRuns();
            var buffer = a.Buffers.Length > 0 ? a.Buffers[0] : null;
            var s = StepScalars.StacTrunk(a.ParamDType, buffer?.DType ?? a.ParamDType, lr, o.TrunkMomentum, o.ResolvedTrunkWeightDecay, o.Maximize);
            for (int r = 0; r < a.RunCount; r++)
            {
                int offset = a.RunOffset(r), length = a.RunLength(r);
                if (Device is { } device)
                    device.StacTrunkStep(a.Device!.Values, a.Device.Grads, offset, a.Device.Buffers.Length > 0 ? a.Device.Buffers[0] : null, offset, length, s);
                else
                    StacTrunkKernel.Step(a.Values, a.Grads, offset, buffer, offset, length, s, KernelPath);
                steppedElements += length;
            }
        }
    }
}
