using System.Runtime.InteropServices;
using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Accelerators;

/// <summary>Whether a backend can run on this machine, and if not, why.</summary>
/// <param name="IsAvailable">True when kernels can be compiled and launched.</param>
/// <param name="Reason">What was found (device name) or what is missing.</param>
public sealed record BackendAvailability(bool IsAvailable, string Reason)
{
    /// <summary>A backend that cannot run, with the reason.</summary>
    public static BackendAvailability Missing(string reason) => new(false, reason);
}

/// <summary>One kernel argument: device memory, a 32-bit integer, or a float32/float64 scalar.</summary>
public readonly struct KernelArgument
{
    KernelArgument(KernelArgumentKind kind, DeviceMemory? memory, long bits)
    {
        Kind = kind;
        Memory = memory;
        Bits = bits;
    }

    /// <summary>What the argument is.</summary>
    public KernelArgumentKind Kind { get; }

    /// <summary>The memory, for <see cref="KernelArgumentKind.Memory"/>.</summary>
    public DeviceMemory? Memory { get; }

    /// <summary>The raw bits of a scalar argument.</summary>
    public long Bits { get; }

    /// <summary>A device pointer / cl_mem argument.</summary>
    public static KernelArgument Of(DeviceMemory memory) => new(KernelArgumentKind.Memory, memory, 0);
    /// <summary>An <c>int</c> argument.</summary>
    public static KernelArgument Of(int value) => new(KernelArgumentKind.Int32, null, value);
    /// <summary>A <c>float</c> argument.</summary>
    public static KernelArgument Of(float value) => new(KernelArgumentKind.Float32, null, BitConverter.SingleToInt32Bits(value));
    /// <summary>A <c>double</c> argument.</summary>
    public static KernelArgument Of(double value) => new(KernelArgumentKind.Float64, null, BitConverter.DoubleToInt64Bits(value));
    /// <summary>A scalar in the kernel's floating type for <paramref name="dtype"/> (float64 → double, otherwise float).</summary>
    public static KernelArgument Scalar(DType dtype, double value) => dtype == DType.Float64 ? Of(value) : Of((float)value);
    /// <summary>A 0/1 flag.</summary>
    public static KernelArgument Flag(bool value) => Of(value ? 1 : 0);

    /// <summary>Size in bytes of the scalar kinds.</summary>
    public int ScalarSize => Kind switch { KernelArgumentKind.Float64 => 8, _ => 4 };
}

/// <summary>Kinds of <see cref="KernelArgument"/>.</summary>
public enum KernelArgumentKind
{
    /// <summary>Device memory.</summary>
    Memory,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>IEEE binary32.</summary>
    Float32,
    /// <summary>IEEE binary64.</summary>
    Float64,
}

/// <summary>
/// HomeAdam's per-group scalars on the device (running minimum of v̂ per compute type, the decision, the
/// last tensor's minimum v), so a step decides without a host round trip. The host only remembers which
/// state dtypes took part, to pick the type the decision compares in.
/// </summary>
public sealed class HomeAdamDeviceGroup : IDisposable
{
    /// <summary>Bytes on the device: float min v̂, decision, float last min v, padding, double min v̂, double last min v.</summary>
    internal const int ByteLength = 32;

    internal HomeAdamDeviceGroup(DeviceMemory scalars) => Scalars = scalars;

    internal DeviceMemory Scalars { get; }

    /// <summary>The widest state dtype folded in since the group began (torch.minimum's promotion); null before any.</summary>
    public DType? CompareIn { get; internal set; }

    /// <summary>The state dtype of the last tensor folded in.</summary>
    public DType? LastState { get; internal set; }

    /// <inheritdoc/>
    public void Dispose() => Scalars.Dispose();
}

/// <summary>A device-side counter of elements that took the adaptive branch (telemetry).</summary>
public sealed class DeviceCounter : IDisposable
{
    internal DeviceCounter(DeviceMemory memory) => Memory = memory;

    internal DeviceMemory Memory { get; }

    /// <inheritdoc/>
    public void Dispose() => Memory.Dispose();
}

/// <summary>One device flag per parameter (u32 each), set by <see cref="AcceleratorKernelBackend.FlagNonFinite"/>.</summary>
public sealed class DeviceFlags : IDisposable
{
    internal DeviceFlags(DeviceMemory memory, int count)
    {
        Memory = memory;
        Count = count;
    }

    internal DeviceMemory Memory { get; }

    /// <summary>Number of flags.</summary>
    public int Count { get; }

    /// <inheritdoc/>
    public void Dispose() => Memory.Dispose();
}

/// <summary>
/// The CPU kernel façade (<see cref="HomeAdamFamilyKernel"/>, <see cref="AdamWKernel"/>,
/// <see cref="StacTrunkKernel"/>) on device arenas: the same arguments, the same validation (before
/// anything is enqueued), the same bits. Subclasses supply memory, compilation and launches.
/// Launches go to one in-order queue (OpenCL) or the null stream (CUDA); an instance is not thread-safe.
/// </summary>
public abstract class AcceleratorKernelBackend : IDisposable
{
    // Scratch reused across launches: safe because one in-order queue orders every use.
    DeviceMemory? _partialMinima;
    DeviceCounter? _unusedCounter;
    HomeAdamDeviceGroup? _unusedGroup;

    /// <summary>A short description of the device the backend runs on.</summary>
    public abstract string DeviceName { get; }

    /// <summary>The dialect the kernels are compiled as.</summary>
    public abstract KernelDialect Dialect { get; }

    /// <summary>Allocates <paramref name="byteLength"/> bytes of device memory (contents undefined).</summary>
    protected abstract DeviceMemory AllocateMemory(long byteLength);

    /// <summary>Copies host bytes to device memory at <paramref name="byteOffset"/>.</summary>
    protected abstract void Write(DeviceMemory memory, long byteOffset, ReadOnlySpan<byte> source);

    /// <summary>Copies device memory at <paramref name="byteOffset"/> to host bytes; returns when they are there.</summary>
    protected abstract void Read(DeviceMemory memory, long byteOffset, Span<byte> destination);

    /// <summary>Enqueues <paramref name="kernel"/> of a family's (parameter, state) build over at least <paramref name="workItems"/> work-items, in work-groups of <see cref="KernelSource.WorkGroupSize"/>.</summary>
    protected abstract void Launch(KernelFamily family, DType param, DType state, string kernel, int workItems, ReadOnlySpan<KernelArgument> arguments);

    /// <summary>Waits until every enqueued launch and copy has finished.</summary>
    public abstract void Synchronize();

    /// <summary>Builds one family's kernels for one (parameter, state) pair now instead of at first launch (build time stays out of the first step).</summary>
    public abstract void Warm(KernelFamily family, DType param, DType state);

    // ---- memory --------------------------------------------------------------------------------

    /// <summary>Allocates a zero-filled device arena.</summary>
    public DeviceBuffer Allocate(DType dtype, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int size = DeviceBuffer.ElementSize(dtype);
        // Zero-byte allocations are errors in both APIs; an empty arena still needs a handle.
        var memory = AllocateMemory(Math.Max((long)length * size, 16));
        var buffer = new DeviceBuffer(memory, dtype, length);
        Clear(buffer);
        return buffer;
    }

    /// <summary>Zero-fills a device arena (gradients before accumulation, fresh state).</summary>
    public void Clear(DeviceBuffer buffer)
    {
        CheckOwned(buffer, nameof(buffer));
        var memory = buffer.Memory;
        // Written from a bounded host block: an arena may be larger than any host array.
        var zeros = new byte[(int)Math.Min(memory.ByteLength, 1 << 20)];
        for (long at = 0; at < memory.ByteLength; at += zeros.Length)
            Write(memory, at, zeros.AsSpan(0, (int)Math.Min(zeros.Length, memory.ByteLength - at)));
    }

    /// <summary>Zero-fills the segment [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of a device arena (lazily created state).</summary>
    public void Clear(DeviceBuffer buffer, int offset, int length)
    {
        CheckOwned(buffer, nameof(buffer));
        CheckSegment(buffer.Length, buffer.Length, offset, length, "cleared");
        int size = DeviceBuffer.ElementSize(buffer.DType);
        long start = (long)offset * size, end = start + (long)length * size;
        var zeros = new byte[(int)Math.Min(end - start, 1 << 20)];
        for (long at = start; at < end; at += zeros.Length)
            Write(buffer.Memory, at, zeros.AsSpan(0, (int)Math.Min(zeros.Length, end - at)));
    }

    /// <summary>Allocates a device arena holding a copy of <paramref name="source"/>.</summary>
    public DeviceBuffer Upload(TensorBuffer source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var memory = AllocateMemory(Math.Max((long)source.Length * DeviceBuffer.ElementSize(source.DType), 16));
        var buffer = new DeviceBuffer(memory, source.DType, source.Length);
        Write(memory, 0, DeviceBuffer.Bytes(source));
        return buffer;
    }

    /// <summary>Copies <paramref name="source"/> into an existing device arena of the same dtype and length.</summary>
    public void Upload(TensorBuffer source, DeviceBuffer destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckOwned(destination, nameof(destination));
        if (source.DType != destination.DType || source.Length != destination.Length)
            throw new ArgumentException($"Host buffer ({source.DType}, {source.Length}) does not match device buffer ({destination.DType}, {destination.Length}).", nameof(source));
        Write(destination.Memory, 0, DeviceBuffer.Bytes(source));
    }

    /// <summary>Copies a device arena back into a host buffer of the same dtype and length (waits for pending work).</summary>
    public void Download(DeviceBuffer source, TensorBuffer destination)
    {
        CheckOwned(source, nameof(source));
        ArgumentNullException.ThrowIfNull(destination);
        if (source.DType != destination.DType || source.Length != destination.Length)
            throw new ArgumentException($"Device buffer ({source.DType}, {source.Length}) does not match host buffer ({destination.DType}, {destination.Length}).", nameof(destination));
        Read(source.Memory, 0, DeviceBuffer.Bytes(destination));
    }

    /// <summary>Wraps memory the caller owns (or the backend allocated) as an arena; used by backends that accept external pointers.</summary>
    protected static DeviceBuffer View(DeviceMemory memory, DType dtype, int length) => new(memory, dtype, length);

    // ---- HomeAdam family -----------------------------------------------------------------------

    /// <summary>Device scalars for one HomeAdam parameter group (any mix of state dtypes).</summary>
    public HomeAdamDeviceGroup CreateHomeAdamGroup()
    {
        var group = new HomeAdamDeviceGroup(AllocateMemory(HomeAdamDeviceGroup.ByteLength));
        BeginHomeAdamGroup(group);
        return group;
    }

    /// <summary>A zeroed adaptive-branch counter.</summary>
    public DeviceCounter CreateCounter()
    {
        var counter = new DeviceCounter(AllocateMemory(sizeof(uint)));
        ResetCounter(counter);
        return counter;
    }

    /// <summary>Sets a counter back to zero.</summary>
    public void ResetCounter(DeviceCounter counter)
    {
        ArgumentNullException.ThrowIfNull(counter);
        Write(counter.Memory, 0, new byte[sizeof(uint)]);
    }

    /// <summary>Reads a counter (waits for pending work).</summary>
    public long ReadCounter(DeviceCounter counter)
    {
        ArgumentNullException.ThrowIfNull(counter);
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        Read(counter.Memory, 0, bytes);
        return MemoryMarshal.Read<uint>(bytes);
    }

    /// <summary>Starts a group's step: minimum +∞, decision cleared.</summary>
    public void BeginHomeAdamGroup(HomeAdamDeviceGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        Launch(KernelFamily.HomeAdamFamily, DType.Float32, DType.Float32, "homeadam_group_begin", 1, [KernelArgument.Of(group.Scalars)]);
        group.CompareIn = null;
        group.LastState = null;
    }

    /// <summary>
    /// Decides the group's branch on the device from its minimum v̂ and τ, both in the widest state dtype
    /// folded in (τ is rounded to it here, as torch casts it). <paramref name="capturable"/> selects
    /// upstream's capturable rule (a NaN minimum gives SGDM) over the default (a NaN minimum does not veto: adaptive).
    /// </summary>
    public void DecideHomeAdamGroup(HomeAdamDeviceGroup group, double tau, bool capturable)
    {
        ArgumentNullException.ThrowIfNull(group);
        DType compareIn = group.CompareIn ?? DType.Float32;
        Launch(KernelFamily.HomeAdamFamily, DType.Float32, compareIn, "homeadam_decide", 1,
            [KernelArgument.Of(group.Scalars), KernelArgument.Scalar(compareIn, Rounding.To(compareIn, tau)), KernelArgument.Flag(capturable)]);
    }

    /// <summary>Reads the group's scalars (waits): minimum v̂ over every state dtype, whether it decided adaptive, the last tensor's minimum v.</summary>
    public (double MinVHat, bool Adaptive, double LastTensorMinV) ReadHomeAdamGroup(HomeAdamDeviceGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var bytes = new byte[HomeAdamDeviceGroup.ByteLength];
        Read(group.Scalars, 0, bytes);
        double narrowMin = BitConverter.ToSingle(bytes, 0), wideMin = BitConverter.ToDouble(bytes, 16);
        double min = double.IsNaN(narrowMin) || double.IsNaN(wideMin) ? double.NaN : Math.Min(narrowMin, wideMin);
        double last = group.LastState == DType.Float64 ? BitConverter.ToDouble(bytes, 24) : BitConverter.ToSingle(bytes, 8);
        return (min, BitConverter.ToSingle(bytes, 4) != 0, last);
    }

    /// <summary>
    /// <see cref="HomeAdamFamilyKernel.Step"/> on the device: moments, then the update under
    /// <paramref name="rule"/>. Adaptive-branch elements are added to <paramref name="adaptiveCount"/> when given.
    /// </summary>
    public void HomeAdamStep(DeviceBuffer param, DeviceBuffer grad, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, BranchRule rule, DeviceCounter? adaptiveCount = null)
    {
        CheckHomeAdam(param, grad, paramOffset, m, v, stateOffset, length);
        CheckRule(rule);
        if (length == 0) return;
        DType state = m.DType;
        Launch(KernelFamily.HomeAdamFamily, param.DType, state, "homeadam_step", length,
        [
            KernelArgument.Of(param.Memory), KernelArgument.Of(grad.Memory), KernelArgument.Of(paramOffset),
            KernelArgument.Of(m.Memory), KernelArgument.Of(v.Memory), KernelArgument.Of(stateOffset), KernelArgument.Of(length),
            KernelArgument.Scalar(state, s.LerpWeight), KernelArgument.Scalar(state, s.Beta2), KernelArgument.Scalar(state, s.OneMinusBeta2),
            KernelArgument.Scalar(state, s.BiasCorrection2), KernelArgument.Scalar(state, s.StepSize), KernelArgument.Scalar(state, s.Eps),
            KernelArgument.Scalar(state, s.Tau), KernelArgument.Scalar(param.DType, s.DecayFactor), KernelArgument.Flag(s.HasDecay),
            KernelArgument.Of((int)rule), KernelArgument.Of(UnusedGroup().Scalars),
            KernelArgument.Flag(adaptiveCount is not null), KernelArgument.Of((adaptiveCount ?? UnusedCounter()).Memory),
        ]);
    }

    /// <summary>
    /// <see cref="HomeAdamFamilyKernel.UpdateMoments"/> on the device. Instead of returning the minimum
    /// stored v, folds min(v)/bc2 into <paramref name="group"/>'s running minimum of v̂ (NaN-propagating,
    /// +∞ for an empty segment) and keeps min(v) as the group's last tensor minimum.
    /// </summary>
    public void HomeAdamUpdateMoments(DeviceBuffer grad, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, HomeAdamDeviceGroup group)
    {
        CheckHomeAdam(grad, grad, paramOffset, m, v, stateOffset, length);
        ArgumentNullException.ThrowIfNull(group);
        DType state = m.DType;
        // homeadam_moments: each work-group walks one contiguous chunk; every work-item leaves one partial minimum.
        int groups = Math.Min((length + KernelSource.WorkGroupSize - 1) / KernelSource.WorkGroupSize, MomentsWorkGroups);
        int chunk = groups == 0 ? 0 : RoundUpToWorkGroup((length + groups - 1) / groups);
        int partials = groups * KernelSource.WorkGroupSize;
        var scratch = PartialMinima(Math.Max(partials, 1) * 8L);
        if (length > 0)
        {
            Launch(KernelFamily.HomeAdamFamily, grad.DType, state, "homeadam_moments", partials,
            [
                KernelArgument.Of(grad.Memory), KernelArgument.Of(paramOffset),
                KernelArgument.Of(m.Memory), KernelArgument.Of(v.Memory), KernelArgument.Of(stateOffset), KernelArgument.Of(length), KernelArgument.Of(chunk),
                KernelArgument.Scalar(state, s.LerpWeight), KernelArgument.Scalar(state, s.Beta2), KernelArgument.Scalar(state, s.OneMinusBeta2),
                KernelArgument.Of(scratch),
            ]);
        }
        Launch(KernelFamily.HomeAdamFamily, grad.DType, state, "homeadam_fold_min", KernelSource.WorkGroupSize,
            [KernelArgument.Of(scratch), KernelArgument.Of(partials), KernelArgument.Scalar(state, s.BiasCorrection2), KernelArgument.Of(group.Scalars)]);
        group.CompareIn = group.CompareIn is { } previous ? Rounding.Wider(previous, state) : state;
        group.LastState = state;
    }


    /// <summary><see cref="HomeAdamFamilyKernel.Apply"/> on the device with a rule known on the host (AdamSRF, HomeAdamEW, or a decided HomeAdam).</summary>
    public void HomeAdamApply(DeviceBuffer param, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, BranchRule rule, DeviceCounter? adaptiveCount = null)
    {
        CheckHomeAdam(param, param, paramOffset, m, v, stateOffset, length);
        CheckRule(rule);
        ApplyCore(param, paramOffset, m, v, stateOffset, length, s, (int)rule, UnusedGroup(), adaptiveCount);
    }

    /// <summary><see cref="HomeAdamFamilyKernel.Apply"/> on the device under the decision <see cref="DecideHomeAdamGroup"/> left in <paramref name="group"/>.</summary>
    public void HomeAdamApply(DeviceBuffer param, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, HomeAdamDeviceGroup group, DeviceCounter? adaptiveCount = null)
    {
        CheckHomeAdam(param, param, paramOffset, m, v, stateOffset, length);
        ArgumentNullException.ThrowIfNull(group);
        ApplyCore(param, paramOffset, m, v, stateOffset, length, s, RuleGroupDecision, group, adaptiveCount);
    }

    const int RuleGroupDecision = 3;

    // Enough work-groups to fill a large GPU; more would only lengthen the fold over the partial minima.
    const int MomentsWorkGroups = 256;

    static int RoundUpToWorkGroup(int workItems)
        => (workItems + KernelSource.WorkGroupSize - 1) / KernelSource.WorkGroupSize * KernelSource.WorkGroupSize; // homeadam_family.cl.h RULE_GROUP_DECISION

    void ApplyCore(DeviceBuffer param, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length,
        in HomeAdamScalars s, int rule, HomeAdamDeviceGroup group, DeviceCounter? adaptiveCount)
    {
        if (length == 0) return;
        DType state = m.DType;
        Launch(KernelFamily.HomeAdamFamily, param.DType, state, "homeadam_apply", length,
        [
            KernelArgument.Of(param.Memory), KernelArgument.Of(paramOffset),
            KernelArgument.Of(m.Memory), KernelArgument.Of(v.Memory), KernelArgument.Of(stateOffset), KernelArgument.Of(length),
            KernelArgument.Scalar(state, s.BiasCorrection2), KernelArgument.Scalar(state, s.StepSize), KernelArgument.Scalar(state, s.Eps),
            KernelArgument.Scalar(state, s.Tau), KernelArgument.Scalar(param.DType, s.DecayFactor), KernelArgument.Flag(s.HasDecay),
            KernelArgument.Of(rule), KernelArgument.Of(group.Scalars),
            KernelArgument.Flag(adaptiveCount is not null), KernelArgument.Of((adaptiveCount ?? UnusedCounter()).Memory),
        ]);
    }

    // ---- non-finite gradients -------------------------------------------------------------------

    /// <summary>Allocates <paramref name="count"/> cleared non-finite flags.</summary>
    public DeviceFlags CreateFlags(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var flags = new DeviceFlags(AllocateMemory(Math.Max(count, 1) * (long)sizeof(uint)), count);
        ClearFlags(flags);
        return flags;
    }

    /// <summary>Sets every flag back to 0.</summary>
    public void ClearFlags(DeviceFlags flags)
    {
        ArgumentNullException.ThrowIfNull(flags);
        Write(flags.Memory, 0, new byte[flags.Count * sizeof(uint)]);
    }

    /// <summary>Sets flag <paramref name="slot"/> when the gradient segment holds NaN or ±∞ (leaves it alone otherwise).</summary>
    public void FlagNonFinite(DeviceBuffer grad, int offset, int length, DeviceFlags flags, int slot)
    {
        CheckOwned(grad, nameof(grad));
        ArgumentNullException.ThrowIfNull(flags);
        if (grad.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"Gradients are Float32 or Float64, not {grad.DType}.", nameof(grad));
        CheckSegment(grad.Length, grad.Length, offset, length, "gradient");
        if ((uint)slot >= (uint)flags.Count)
            throw new ArgumentOutOfRangeException(nameof(slot), $"Invalid slot: {slot} (expected 0 ≤ slot < {flags.Count}).");
        if (length == 0) return;
        Launch(KernelFamily.GradientCheck, grad.DType, grad.DType, "gradient_flag_nonfinite", length,
            [KernelArgument.Of(grad.Memory), KernelArgument.Of(offset), KernelArgument.Of(length), KernelArgument.Of(flags.Memory), KernelArgument.Of(slot)]);
    }

    /// <summary>Reads every flag (waits for pending work).</summary>
    public void ReadFlags(DeviceFlags flags, Span<uint> destination)
    {
        ArgumentNullException.ThrowIfNull(flags);
        if (destination.Length < flags.Count)
            throw new ArgumentException($"The destination holds {destination.Length} flags; {flags.Count} are needed.", nameof(destination));
        Read(flags.Memory, 0, MemoryMarshal.AsBytes(destination[..flags.Count]));
    }

    // ---- AdamW ---------------------------------------------------------------------------------

    /// <summary><see cref="AdamWKernel.Step"/> on the device.</summary>
    public void AdamWStep(DeviceBuffer param, DeviceBuffer grad, int paramOffset, DeviceBuffer m, DeviceBuffer v, DeviceBuffer? maxExpAvgSq,
        int stateOffset, int length, in AdamWScalars s)
    {
        CheckOwned(param, nameof(param));
        CheckOwned(grad, nameof(grad));
        CheckOwned(m, nameof(m));
        CheckOwned(v, nameof(v));
        if (maxExpAvgSq is not null) CheckOwned(maxExpAvgSq, nameof(maxExpAvgSq));
        if (grad.DType != param.DType || m.DType != param.DType || v.DType != param.DType || (maxExpAvgSq is not null && maxExpAvgSq.DType != param.DType))
            throw new ArgumentException($"AdamW keeps its state in the parameter dtype {param.DType}; every buffer must match it.", nameof(m));
        if (param.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"AdamW parameters must be Float32 or Float64, not {param.DType}.", nameof(param));
        if (s.Amsgrad && maxExpAvgSq is null)
            throw new ArgumentNullException(nameof(maxExpAvgSq), "AMSGrad needs the max_exp_avg_sq buffer.");
        CheckSegment(param.Length, grad.Length, paramOffset, length, "parameter");
        CheckSegment(m.Length, v.Length, stateOffset, length, "state");
        if (s.Amsgrad) CheckSegment(maxExpAvgSq!.Length, maxExpAvgSq.Length, stateOffset, length, "max_exp_avg_sq");
        if (length == 0) return;
        DType t = param.DType;
        Launch(KernelFamily.AdamW, t, t, "adamw_step", length,
        [
            KernelArgument.Of(param.Memory), KernelArgument.Of(grad.Memory), KernelArgument.Of(paramOffset),
            KernelArgument.Of(m.Memory), KernelArgument.Of(v.Memory), KernelArgument.Of((maxExpAvgSq ?? m).Memory),
            KernelArgument.Of(stateOffset), KernelArgument.Of(length),
            KernelArgument.Scalar(t, s.Beta1), KernelArgument.Scalar(t, s.OneMinusBeta1), KernelArgument.Scalar(t, s.Beta2), KernelArgument.Scalar(t, s.OneMinusBeta2),
            KernelArgument.Scalar(t, s.NegStepSize), KernelArgument.Scalar(t, s.BiasCorrection2Sqrt), KernelArgument.Scalar(t, s.Eps),
            KernelArgument.Scalar(t, s.DecayFactor), KernelArgument.Flag(s.Amsgrad), KernelArgument.Flag(s.Maximize),
        ]);
    }

    // ---- STAC trunk ----------------------------------------------------------------------------

    /// <summary><see cref="StacTrunkKernel.Step"/> on the device.</summary>
    public void StacTrunkStep(DeviceBuffer param, DeviceBuffer grad, int paramOffset, DeviceBuffer? buffer, int stateOffset, int length, in StacTrunkScalars s)
    {
        CheckOwned(param, nameof(param));
        CheckOwned(grad, nameof(grad));
        if (buffer is not null) CheckOwned(buffer, nameof(buffer));
        if (grad.DType != param.DType) throw new ArgumentException($"Gradient dtype {grad.DType} differs from parameter dtype {param.DType}.", nameof(grad));
        if (param.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, buffer {buffer?.DType}.", nameof(param));
        if (s.HasMomentum && buffer is null) throw new ArgumentNullException(nameof(buffer), "A non-zero trunk momentum needs its buffer.");
        CheckSegment(param.Length, grad.Length, paramOffset, length, "parameter");
        if (s.HasMomentum) CheckSegment(buffer!.Length, buffer.Length, stateOffset, length, "momentum");
        if (length == 0) return;
        // Without momentum the buffer is never touched; the parameter's own build serves.
        DType state = s.HasMomentum ? buffer!.DType : param.DType;
        Launch(KernelFamily.StacTrunk, param.DType, state, "stac_trunk_step", length,
        [
            KernelArgument.Of(param.Memory), KernelArgument.Of(grad.Memory), KernelArgument.Of(paramOffset),
            KernelArgument.Of((s.HasMomentum ? buffer! : param).Memory), KernelArgument.Of(s.HasMomentum ? stateOffset : 0), KernelArgument.Of(length),
            KernelArgument.Scalar(state, s.Momentum), KernelArgument.Scalar(state, s.OneMinusMomentum),
            KernelArgument.Scalar(param.DType, s.NegLr), KernelArgument.Scalar(param.DType, s.DecayFactor),
            KernelArgument.Flag(s.HasDecay), KernelArgument.Flag(s.HasMomentum), KernelArgument.Flag(s.Maximize),
        ]);
    }

    // ---- validation and scratch ----------------------------------------------------------------

    void CheckOwned(DeviceBuffer buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (!ReferenceEquals(buffer.Owner, this))
            throw new ArgumentException("The buffer belongs to another backend instance.", name);
        ObjectDisposedException.ThrowIf(buffer.Memory.IsDisposed, buffer);
    }

    void CheckHomeAdam(DeviceBuffer param, DeviceBuffer grad, int paramOffset, DeviceBuffer m, DeviceBuffer v, int stateOffset, int length)
    {
        CheckOwned(param, nameof(param));
        CheckOwned(grad, nameof(grad));
        CheckOwned(m, nameof(m));
        CheckOwned(v, nameof(v));
        if (grad.DType != param.DType) throw new ArgumentException($"Gradient dtype {grad.DType} differs from parameter dtype {param.DType}.", nameof(grad));
        if (v.DType != m.DType) throw new ArgumentException($"exp_avg_sq dtype {v.DType} differs from exp_avg dtype {m.DType}.", nameof(v));
        if (param.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"Unsupported dtypes: parameter {param.DType}, state {m.DType}.", nameof(param));
        CheckSegment(param.Length, grad.Length, paramOffset, length, "parameter");
        CheckSegment(m.Length, v.Length, stateOffset, length, "state");
    }

    static void CheckRule(BranchRule rule)
    {
        if (rule is not (BranchRule.Adaptive or BranchRule.Sgdm or BranchRule.ElementWise))
            throw new ArgumentOutOfRangeException(nameof(rule), rule, "rule must be Adaptive, Sgdm or ElementWise.");
    }

    static void CheckSegment(int arenaLength, int otherLength, int offset, int length, string arena)
    {
        if ((uint)offset > (uint)arenaLength || (uint)length > (uint)(arenaLength - offset) || length > otherLength - offset)
            throw new ArgumentOutOfRangeException(nameof(length), $"Segment [{offset}, {(long)offset + length}) is outside the {arena} arena of {Math.Min(arenaLength, otherLength)} elements.");
    }

    DeviceMemory PartialMinima(long bytes)
    {
        if (_partialMinima is null || _partialMinima.ByteLength < bytes)
        {
            _partialMinima?.Dispose();
            _partialMinima = AllocateMemory(Math.Max(bytes, 4096));
        }
        return _partialMinima;
    }

    // Stands in for the counter argument when telemetry is off; the kernels never touch it then.
    DeviceCounter UnusedCounter() => _unusedCounter ??= CreateCounter();

    // Stands in for the group argument when the rule is known on the host; the kernels never read it then.
    HomeAdamDeviceGroup UnusedGroup() => _unusedGroup ??= CreateHomeAdamGroup();

    /// <summary>Frees the scratch memory; subclasses free their native objects after calling this.</summary>
    public virtual void Dispose()
    {
        _partialMinima?.Dispose();
        _unusedCounter?.Dispose();
        _unusedGroup?.Dispose();
        GC.SuppressFinalize(this);
    }
}
