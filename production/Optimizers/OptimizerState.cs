using Optimizers.Numerics;

namespace Optimizers;

/// <summary>
/// A complete, in-memory snapshot of an optimizer: its options, every state buffer (copied, in its own dtype), every step
/// counter and running product, and STAC's partition. <see cref="Optimizer.LoadStateDict"/> restores it so that the run
/// continues bit-identically; a checkpoint writer serializes exactly this.
/// </summary>
/// <param name="Optimizer">The optimizer kind: <c>AdamW</c>, <c>AdamSRF</c>, <c>HomeAdam</c>, <c>HomeAdamEW</c> or <c>STAC</c>.</param>
/// <param name="Groups">One entry per parameter group, in group order.</param>
/// <param name="NonFiniteSkippedSteps">How many steps were skipped under <see cref="NonFinitePolicy.SkipStep"/>.</param>
/// <param name="Partition">STAC only: the trunk/cap split the state belongs to.</param>
public sealed record OptimizerState(
    string Optimizer,
    IReadOnlyList<GroupState> Groups,
    long NonFiniteSkippedSteps,
    StacPartitionNames? Partition = null);

/// <summary>One parameter group's options and per-parameter state.</summary>
/// <param name="Options">The group's options (for STAC, the optimizer's options).</param>
/// <param name="Role">STAC only: <c>trunk</c> or <c>cap</c>; otherwise <c>null</c>.</param>
/// <param name="Parameters">One entry per parameter in group order; <c>null</c> where the parameter has no state yet (it never had a gradient).</param>
/// <param name="ParameterNames">The group's parameter names, in order, to check that a loading optimizer has the same layout.</param>
/// <param name="Shapes">The group's parameter shapes, in order.</param>
/// <param name="DTypes">The group's parameter dtypes, in order.</param>
public sealed record GroupState(
    OptimizerOptions Options,
    string? Role,
    IReadOnlyList<string> ParameterNames,
    IReadOnlyList<IReadOnlyList<int>> Shapes,
    IReadOnlyList<DType> DTypes,
    IReadOnlyList<ParameterState?> Parameters);

/// <summary>The state of one parameter.</summary>
/// <param name="Step">The step counter: an integer for the HomeAdam family; torch's float32 counter for AdamW and STAC's cap; 0 for STAC's trunk (it has none).</param>
/// <param name="Beta1Power">HomeAdam family: the running product β₁ᵗ in the state dtype; otherwise <c>null</c>.</param>
/// <param name="Beta2Power">HomeAdam family: the running product β₂ᵗ in the state dtype; otherwise <c>null</c>.</param>
/// <param name="Buffers">Every state tensor by upstream name (<c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c>, <c>trunk_momentum_buffer</c>).</param>
public sealed record ParameterState(
    double Step,
    double? Beta1Power,
    double? Beta2Power,
    IReadOnlyDictionary<string, StateTensor> Buffers);

/// <summary>A copied state tensor in its own dtype. <see cref="Data"/> is a <c>float[]</c>, <c>double[]</c>, <c>Half[]</c> or <see cref="BFloat16"/><c>[]</c>.</summary>
public sealed record StateTensor(DType DType, Array Data)
{
    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>The values widened exactly to double.</summary>
    public double[] ToDoubles() => Data switch
    {
        float[] f => Array.ConvertAll(f, x => (double)x),
        double[] d => (double[])d.Clone(),
        Half[] h => Array.ConvertAll(h, x => (double)x),
        BFloat16[] b => Array.ConvertAll(b, x => (double)(float)x),
        _ => throw new InvalidOperationException($"Unexpected state array {Data.GetType().Name}."),
    };
}

/// <summary>STAC's partition by name, as stored in a state dict.</summary>
public sealed record StacPartitionNames(
    IReadOnlyList<string> TrunkLayerNames,
    IReadOnlyList<string> CapLayerNames,
    IReadOnlyList<string> TrunkParameterNames,
    IReadOnlyList<string> CapParameterNames);

/// <summary>
/// Per-group telemetry of the most recent <c>Step()</c>, updated in place (no allocation) when
/// <see cref="Optimizer.TelemetryEnabled"/> is set.
/// </summary>
public sealed class GroupTelemetry
{
    /// <summary>Steps observed while telemetry was enabled (taken or skipped).</summary>
    public long Steps { get; internal set; }

    /// <summary>Whether the last step was skipped (<see cref="NonFinitePolicy.SkipStep"/>).</summary>
    public bool Skipped { get; internal set; }

    /// <summary>How many of this group's gradients held NaN or ±∞ in the last step.</summary>
    public int NonFiniteGradients { get; internal set; }

    /// <summary>Elements updated in the last step (parameters with a gradient).</summary>
    public long SteppedElements { get; internal set; }

    /// <summary>Of those, how many took the adaptive branch m̂/(v̂+ε) (HomeAdam family; 0 for AdamW and STAC).</summary>
    public long AdaptiveElements { get; internal set; }

    /// <summary><see cref="AdaptiveElements"/> / <see cref="SteppedElements"/>; NaN when nothing was stepped or the optimizer has no adaptive branch.</summary>
    public double AdaptiveFraction { get; internal set; } = double.NaN;

    /// <summary>
    /// HomeAdam only: the group minimum of v̂ = v/(1 − β₂ᵗ) over the parameters stepped, in the dtype τ was compared in,
    /// which decided the branch (adaptive iff it is not below τ). A single exactly-zero v̂ (an element whose gradient has
    /// been 0 at every step so far) makes it 0 and forces SGDM for the whole group at every τ &gt; 0. NaN for the other
    /// optimizers, when nothing was stepped, or when the minimum itself is NaN.
    /// </summary>
    public double MinVHat { get; internal set; } = double.NaN;

    internal void Reset()
    {
        Skipped = false;
        NonFiniteGradients = 0;
        SteppedElements = 0;
        AdaptiveElements = 0;
        AdaptiveFraction = double.NaN;
        MinVHat = double.NaN;
    }
}
