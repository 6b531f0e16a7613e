using Optimizers.Accelerators;
using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers;

/// <summary>
/// What every optimizer of this library shares: parameter groups re-homed into contiguous arenas, lazy per-parameter state,
/// the non-finite-gradient policy, telemetry, <see cref="ZeroGrad"/> and state dicts. A step either completes for every
/// parameter or changes nothing: every check runs over every group before the first kernel call.
/// </summary>
/// <remarks>
/// <para><b>Backends.</b> An optimizer runs on the CPU (default) or, when built with an accelerator
/// <see cref="ExecutionBackend"/>, on an OpenCL or CUDA device. There every group's parameters, gradients and state are
/// device-resident arenas and a step launches the same per-segment kernels with the same host scalars, giving the CPU's
/// bits. The host keeps a staging copy of each arena; data crosses only at these documented points:</para>
/// <list type="bullet">
/// <item><c>Step()</c> uploads every gradient (gradients are written on the host through <see cref="Parameter"/>), and
/// first uploads values or state the host changed since the last step.</item>
/// <item><see cref="Parameter.Value{T}"/> of a parameter of this optimizer downloads the values of every arena if the device
/// holds newer ones, and then counts the host copy as the current one (the span is writable): the next <c>Step()</c>
/// uploads it. Reading values every step therefore costs one download and one upload of the values.</item>
/// <item><see cref="StateDict"/> (and checkpoint saving) downloads the state if the device holds newer state;
/// <see cref="LoadStateDict"/> writes the host copy, which the next step uploads. The format is the CPU's.</item>
/// <item>Under <see cref="NonFinitePolicy.SkipStep"/> or <see cref="NonFinitePolicy.Throw"/>, or with telemetry, each step
/// reads back one flag per parameter (the non-finite check runs on the device); telemetry also reads one counter per
/// group. HomeAdam's group decision never leaves the device.</item>
/// </list>
/// <para>Dispose the optimizer to free device memory; it downloads values and state first, so parameters and
/// <see cref="StateDict"/> still show the final results.</para>
/// </remarks>
public abstract class Optimizer : IDisposable
{
    internal sealed class Group
    {
        public required OptimizerOptions Options;
        public required Parameter[] Parameters;
        public required Arena[] Arenas;
        public required (int Arena, int Member)[] Location;
        public string? Role;
        public readonly GroupTelemetry Telemetry = new();
        public HomeAdamDeviceGroup? DeviceDecision;
        // Held here, not in Telemetry, until the step is known to proceed: a throwing step must leave the last telemetry intact.
        public int NonFiniteCount;
    }

    private protected readonly List<Group> _groups = [];
    readonly GroupTelemetry[] _telemetryView;

    // Accelerator only: the backend, scratch for the per-step device reads, and which copy of the values and of the state
    // is current (both, after an upload or download; one of them after a step or a host write).
    AcceleratorKernelBackend? _device;
    readonly bool _ownsDevice;
    DeviceFlags? _nonFiniteFlags;
    uint[] _nonFiniteFlagValues = [];
    DeviceCounter? _adaptiveCounter;
    bool _hostValuesCurrent = true, _deviceValuesCurrent = true, _hostStateCurrent = true, _deviceStateCurrent = true;
    bool _disposed;

    private protected Optimizer(string kind, KernelPath kernelPath, IReadOnlyList<(IReadOnlyList<Parameter> Parameters, OptimizerOptions Options, string? Role)> groups,
        bool allowEmpty = false, ExecutionBackend? backend = null)
    {
        Kind = kind;
        if (!Enum.IsDefined(kernelPath)) throw new ArgumentOutOfRangeException(nameof(kernelPath), $"Invalid kernelPath: {(int)kernelPath} (expected Auto, Scalar, Simd or Threads).");
        KernelPath = kernelPath;
        backend ??= ExecutionBackend.Cpu;
        if (backend.Kind != ExecutionBackendKind.Cpu && kernelPath != KernelPath.Auto)
            throw new ArgumentException($"Invalid kernelPath: {kernelPath}; it chooses a CPU code path and only Auto is valid with the {backend.Kind} backend.", nameof(kernelPath));
        Backend = backend.Kind;

        // Every check first: nothing is re-homed until the whole configuration is known to be valid.
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        int total = 0;
        NonFinitePolicy? policy = null;
        foreach (var (parameters, options, _) in groups)
        {
            ArgumentNullException.ThrowIfNull(options);
            options.Validate();
            policy ??= options.NonFinitePolicy;
            if (policy != options.NonFinitePolicy)
                throw new ArgumentException($"Invalid NonFinitePolicy: groups disagree ({policy} vs {options.NonFinitePolicy}); the policy is decided for the whole optimizer, so every group must use the same value.", nameof(OptimizerOptions.NonFinitePolicy));
            foreach (var p in parameters ?? throw new ArgumentNullException(nameof(groups)))
            {
                if (p is null) throw new ArgumentNullException(nameof(groups), "A parameter list contains null.");
                if (!seen.Add(p)) throw new ArgumentException($"Parameter '{p.Name}' appears more than once; each parameter may be in one group, once.", "parameters");
                if (p.Owner is not null) throw new ArgumentException($"Parameter '{p.Name}' already lives in another optimizer's arena; create a new Parameter (e.g. a copy) for a second optimizer.", "parameters");
                total++;
            }
        }
        if (total == 0 && !allowEmpty) throw new ArgumentException("optimizer got an empty parameter list", "parameters");
        foreach (var (parameters, _, _) in groups)
            foreach (var sameType in parameters.GroupBy(p => p.DType))
                if (sameType.Sum(p => (long)p.Length) is var length && length > Array.MaxLength)
                    throw new ArgumentException($"A parameter group holds {length} {sameType.Key} elements; at most {Array.MaxLength} fit one arena (split it into groups).", "parameters");
        NonFinitePolicy = policy ?? NonFinitePolicy.Propagate;

        // Opened before any parameter is re-homed, so a missing device leaves every parameter as it was.
        _device = backend.Open(out _ownsDevice);
        DeviceName = _device?.DeviceName ?? "CPU";

        foreach (var (parameters, options, role) in groups)
        {
            var ps = parameters.ToArray();
            var dtypes = ps.Select(p => p.DType).Distinct().ToArray();
            var arenas = new Arena[dtypes.Length];
            var location = new (int, int)[ps.Length];
            for (int a = 0; a < dtypes.Length; a++)
            {
                var members = ps.Where(p => p.DType == dtypes[a]).ToArray();
                arenas[a] = new Arena(this, dtypes[a], members, StateLayout(options, dtypes[a], role));
            }
            for (int i = 0; i < ps.Length; i++)
            {
                int a = Array.IndexOf(dtypes, ps[i].DType);
                location[i] = (a, Array.IndexOf(arenas[a].Members, ps[i]));
            }
            _groups.Add(new Group { Options = options, Parameters = ps, Arenas = arenas, Location = location, Role = role });
        }
        _telemetryView = _groups.Select(g => g.Telemetry).ToArray();
        if (_device is not null) AttachDevice(_device);
    }

    void AttachDevice(AcceleratorKernelBackend device)
    {
        try
        {
            foreach (var g in _groups)
                foreach (var a in g.Arenas) a.AttachDevice(device);
            int members = _groups.Sum(g => g.Parameters.Length);
            _nonFiniteFlags = device.CreateFlags(members);
            _nonFiniteFlagValues = new uint[members];
            _adaptiveCounter = device.CreateCounter();
        }
        catch
        {
            ReleaseDevice();
            throw;
        }
    }

    /// <summary>Where the arenas live and the kernels run (chosen at construction).</summary>
    public ExecutionBackendKind Backend { get; }

    /// <summary>The device the kernels run on (<c>CPU</c> for the CPU backend).</summary>
    public string DeviceName { get; }

    /// <summary>The accelerator, or null on the CPU.</summary>
    private protected AcceleratorKernelBackend? Device => _device;

    /// <summary>The adaptive-branch counter kernels add to during a step taken with telemetry on a device; null otherwise.</summary>
    private protected DeviceCounter? StepAdaptiveCounter { get; private set; }

    /// <summary>
    /// Frees the device memory of an accelerator-backed optimizer (and the device itself when the optimizer opened it),
    /// after downloading values and state, so the parameters and <see cref="StateDict"/> keep the final results. A CPU
    /// optimizer holds nothing to free. <c>Step()</c> throws <see cref="ObjectDisposedException"/> afterwards.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (_device is not null)
        {
            PullValues();
            PullState();
        }
        _disposed = true;
        ReleaseDevice();
        GC.SuppressFinalize(this);
    }

    void ReleaseDevice()
    {
        var device = _device;
        if (device is null) return;
        foreach (var g in _groups)
        {
            g.DeviceDecision?.Dispose();
            g.DeviceDecision = null;
            foreach (var a in g.Arenas) a.DetachDevice();
        }
        _nonFiniteFlags?.Dispose();
        _adaptiveCounter?.Dispose();
        _device = null;
        if (_ownsDevice) device.Dispose();
    }

    // ---- host/device synchronization (see the class remarks) ----------------------------------

    /// <summary>Called by <see cref="Parameter.Value{T}"/>: makes the host values current and the host copy the one to upload.</summary>
    internal void BeforeHostValueAccess()
    {
        if (_device is null) return;
        PullValues();
        _deviceValuesCurrent = false;
    }

    void PullValues()
    {
        if (_device is null || _hostValuesCurrent) return;
        foreach (var g in _groups)
            foreach (var a in g.Arenas) a.Device!.DownloadValues();
        _hostValuesCurrent = true;
    }

    void PullState()
    {
        if (_device is null || _hostStateCurrent) return;
        foreach (var g in _groups)
            foreach (var a in g.Arenas) a.Device!.DownloadState();
        _hostStateCurrent = true;
    }

    void StateWrittenOnHost()
    {
        if (_device is not null) _deviceStateCurrent = false;
    }

    void PrepareDeviceStep()
    {
        foreach (var g in _groups)
            foreach (var a in g.Arenas)
            {
                if (!_deviceValuesCurrent) a.Device!.UploadValues();
                if (!_deviceStateCurrent) a.Device!.UploadState();
                a.Device!.UploadGrads();
            }
        _deviceValuesCurrent = _deviceStateCurrent = true;
    }

    // One flag per parameter, set on the device; read back in one copy because skipping or throwing is host control flow.
    int CountNonFiniteOnDevice(Group group, int firstSlot, ref Parameter? first)
    {
        int count = 0, slot = firstSlot;
        foreach (var a in group.Arenas)
            foreach (var p in a.Members)
            {
                if (p.HasGrad && _nonFiniteFlagValues[slot] != 0)
                {
                    count++;
                    first ??= p;
                }
                slot++;
            }
        return count;
    }

    void FlagNonFiniteOnDevice()
    {
        var device = _device!;
        device.ClearFlags(_nonFiniteFlags!);
        int slot = 0;
        foreach (var g in _groups)
            foreach (var a in g.Arenas)
                for (int i = 0; i < a.Members.Length; i++, slot++)
                    if (a.Members[i].HasGrad) device.FlagNonFinite(a.Device!.Grads, a.Offsets[i], a.Members[i].Length, _nonFiniteFlags!, slot);
        device.ReadFlags(_nonFiniteFlags!, _nonFiniteFlagValues);
    }

    /// <summary>The optimizer's name as upstream spells it (<c>AdamW</c>, <c>AdamSRF</c>, <c>HomeAdam</c>, <c>HomeAdamEW</c>, <c>STAC</c>).</summary>
    public string Kind { get; }

    /// <summary>Which CPU code path the kernels use. Every path gives the same bits.</summary>
    public KernelPath KernelPath { get; }

    /// <summary>What a step does with NaN or ±∞ gradients (from the options).</summary>
    public NonFinitePolicy NonFinitePolicy { get; }

    /// <summary>Number of parameter groups.</summary>
    public int GroupCount => _groups.Count;

    /// <summary>The parameters of group <paramref name="group"/>, in order.</summary>
    public IReadOnlyList<Parameter> GroupParameters(int group) => _groups[group].Parameters;

    /// <summary>The options group <paramref name="group"/> currently runs with.</summary>
    public OptimizerOptions GroupOptions(int group) => _groups[group].Options;

    /// <summary>
    /// Replaces the options of group <paramref name="group"/> between steps (a learning-rate schedule, say). The new
    /// options are validated and must keep the group's state layout and the optimizer's non-finite policy.
    /// </summary>
    /// <param name="group">Group index, 0 ≤ group &lt; <see cref="GroupCount"/>.</param>
    /// <param name="options">The new options, of the type this optimizer uses (usually <c>old with { Lr = ... }</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="group"/> is out of range, or an option is.</exception>
    /// <exception cref="ArgumentException">The options have another type, another NonFinitePolicy, or would change the state layout (state dtype, AMSGrad, trunk momentum on/off) or, for STAC, <c>LastNLayers</c>.</exception>
    /// <remarks>STAC keeps one <see cref="StacOptions"/> for both of its groups (see <see cref="Stac.Options"/>), so there the new options replace those of every group, whichever <paramref name="group"/> is named.</remarks>
    public void SetGroupOptions(int group, OptimizerOptions options)
    {
        if ((uint)group >= (uint)_groups.Count)
            throw new ArgumentOutOfRangeException(nameof(group), $"Invalid group: {group} (expected 0 ≤ group < {_groups.Count}).");
        ArgumentNullException.ThrowIfNull(options);
        var g = _groups[group];
        if (options.GetType() != g.Options.GetType())
            throw new ArgumentException($"Options of type {options.GetType().Name} given to a group of {g.Options.GetType().Name}.", nameof(options));
        options.Validate();
        if (options.NonFinitePolicy != NonFinitePolicy)
            throw new ArgumentException($"Invalid NonFinitePolicy: {options.NonFinitePolicy}; this optimizer decides with {NonFinitePolicy} for every group.", nameof(options));
        if (OptionsChangeProblem(g.Options, options) is { } problem)
            throw new ArgumentException(problem.Message, problem.Option);
        IEnumerable<Group> targets = OptionsShareAllGroups ? _groups : [g];
        foreach (var target in targets)
            foreach (var a in target.Arenas)
                if (!StateLayout(options, a.ParamDType, target.Role).SequenceEqual(a.Specs))
                    throw new ArgumentException("The new options would change the state layout (state dtype, AMSGrad or trunk momentum on/off); build a new optimizer instead.", nameof(options));
        if (OptionsShareAllGroups)
            foreach (var target in _groups) target.Options = options;
        else
            g.Options = options;
    }

    /// <summary>Whether one options record describes every group, so it may only change for all of them at once (STAC).</summary>
    private protected virtual bool OptionsShareAllGroups => false;

    /// <summary>Why <paramref name="proposed"/> may not replace <paramref name="current"/> on a built optimizer (a value its structure was derived from), or null.</summary>
    private protected virtual (string Option, string Message)? OptionsChangeProblem(OptimizerOptions current, OptimizerOptions proposed) => null;

    /// <summary>Steps skipped so far under <see cref="NonFinitePolicy.SkipStep"/>.</summary>
    public long NonFiniteSkippedSteps { get; private set; }

    /// <summary>Collect <see cref="Telemetry"/> during each step (off by default; costs one read of every gradient per step).</summary>
    public bool TelemetryEnabled { get; set; }

    /// <summary>Per-group telemetry of the last step taken with <see cref="TelemetryEnabled"/> set. The objects are updated in place.</summary>
    public IReadOnlyList<GroupTelemetry> Telemetry => _telemetryView;

    /// <summary>Optimizer-specific checks of the gradients about to be used; runs before anything is written.</summary>
    private protected virtual void ValidateBeforeStep() { }

    /// <summary>
    /// Takes one optimization step over every parameter that has a gradient. Parameters without a gradient are skipped
    /// entirely (no decay, no state, no step count).
    /// </summary>
    /// <exception cref="NotSupportedException">A parameter carries a sparse gradient. Nothing changed.</exception>
    /// <exception cref="InvalidOperationException">HomeAdam: a parameter with a gradient has no elements, so its minimum of v̂ is undefined (upstream raises too). Nothing changed.</exception>
    /// <exception cref="NonFiniteGradientException">Under <see cref="NonFinitePolicy.Throw"/>, a gradient holds NaN or ±∞. Nothing changed.</exception>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
                if (p.HasSparseGrad)
                    throw new NotSupportedException($"{Kind} does not support sparse gradients (parameter '{p.Name}'); nothing was changed.");
        ValidateBeforeStep();

        bool telemetry = TelemetryEnabled;

        if (_device is not null) PrepareDeviceStep();

        if (NonFinitePolicy != NonFinitePolicy.Propagate || telemetry)
        {
            int bad = 0, slot = 0;
            Parameter? first = null;
            if (_device is not null) FlagNonFiniteOnDevice();
            foreach (var g in _groups)
            {
                int count = 0;
                if (_device is not null)
                {
                    count = CountNonFiniteOnDevice(g, slot, ref first);
                    slot += g.Parameters.Length;
                }
                else
                    foreach (var a in g.Arenas) count += a.CountNonFinite(ref first, KernelPath);
                g.NonFiniteCount = count;
                bad += count;
            }
            if (bad > 0 && NonFinitePolicy == NonFinitePolicy.Throw)
                throw new NonFiniteGradientException(Kind, first!.Name, bad);
            if (telemetry)
                foreach (var g in _groups) { g.Telemetry.Reset(); g.Telemetry.NonFiniteGradients = g.NonFiniteCount; }
            if (bad > 0 && NonFinitePolicy == NonFinitePolicy.SkipStep)
            {
                NonFiniteSkippedSteps++;
                if (telemetry)
                    foreach (var g in _groups) { g.Telemetry.Skipped = true; g.Telemetry.Steps++; }
                return;
            }
        }

        // From the first launch on, the device holds the newer values and state.
        if (_device is not null) _hostValuesCurrent = _hostStateCurrent = false;
        StepAdaptiveCounter = telemetry && _device is not null ? _adaptiveCounter : null;
        foreach (var g in _groups)
        {
            long adaptive = 0, stepped = 0;
            if (StepAdaptiveCounter is { } counter) _device!.ResetCounter(counter);
            StepGroup(g, ref adaptive, ref stepped);
            if (StepAdaptiveCounter is { } used) adaptive += _device!.ReadCounter(used);
            if (telemetry)
            {
                g.Telemetry.Steps++;
                g.Telemetry.SteppedElements = stepped;
                g.Telemetry.AdaptiveElements = adaptive;
                g.Telemetry.AdaptiveFraction = HasAdaptiveBranch && stepped > 0 ? (double)adaptive / stepped : double.NaN;
            }
        }
    }

    /// <summary>
    /// Clears every gradient of every group. <paramref name="setToNone"/> true (default, as torch 2.x) removes them, so a
    /// parameter that gets no new gradient is skipped by the next step; false zero-fills attached gradients in place (a zero
    /// gradient still steps: decay, moments and counters advance).
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
                if (setToNone) p.ClearGrad(); else p.ZeroGradInPlace();
    }

    // ---- what each optimizer supplies ---------------------------------------------------------

    /// <summary>The per-element state buffers a parameter of <paramref name="paramDType"/> gets under <paramref name="options"/>.</summary>
    private protected abstract BufferSpec[] StateLayout(OptimizerOptions options, DType paramDType, string? role);

    /// <summary>Runs one validated step of one group; adds the elements stepped and those that took the adaptive branch.</summary>
    private protected abstract void StepGroup(Group group, ref long adaptiveElements, ref long steppedElements);

    /// <summary>Whether <see cref="GroupTelemetry.AdaptiveFraction"/> means something (HomeAdam family).</summary>
    private protected virtual bool HasAdaptiveBranch => false;

    /// <summary>Whether this optimizer keeps β-power running products (HomeAdam family).</summary>
    private protected virtual bool HasBetaPowers => false;

    /// <summary>Whether a parameter's state holds a step counter (everything but STAC's trunk).</summary>
    private protected virtual bool HasStepCounter(string? role) => true;

    private protected virtual StacPartitionNames? PartitionNames => null;

    // ---- state dicts ----------------------------------------------------------------------------

    /// <summary>A deep copy of the whole optimizer state: options, buffers, counters, running products, partition.</summary>
    public OptimizerState StateDict()
    {
        PullState();
        var groups = new List<GroupState>(_groups.Count);
        foreach (var g in _groups)
        {
            var states = new ParameterState?[g.Parameters.Length];
            for (int i = 0; i < g.Parameters.Length; i++)
            {
                var (ai, mi) = g.Location[i];
                var a = g.Arenas[ai];
                if (!a.HasState[mi]) continue;
                var buffers = new Dictionary<string, StateTensor>(StringComparer.Ordinal);
                for (int b = 0; b < a.Specs.Length; b++)
                    buffers[a.Specs[b].Name] = new StateTensor(a.Specs[b].DType, CopyOut(a.Buffers[b], a.Offsets[mi], a.Members[mi].Length));
                states[i] = new ParameterState(a.Steps[mi], HasBetaPowers ? a.Power1[mi] : null, HasBetaPowers ? a.Power2[mi] : null, buffers);
            }
            groups.Add(new GroupState(g.Options, g.Role, g.Parameters.Select(p => p.Name).ToArray(),
                g.Parameters.Select(p => (IReadOnlyList<int>)p.Shape.ToArray()).ToArray(), g.Parameters.Select(p => p.DType).ToArray(), states));
        }
        return new OptimizerState(Kind, groups, NonFiniteSkippedSteps, PartitionNames);
    }

    /// <summary>
    /// Restores a snapshot taken by <see cref="StateDict"/> (of this or an identically laid out optimizer); the saved options
    /// replace the current ones, as torch does. Every difference is checked before anything changes.
    /// </summary>
    /// <exception cref="ArgumentException">The snapshot differs in optimizer kind, partition, group count, parameter names,
    /// shapes or dtypes, options type, or state layout (buffer names, dtypes or lengths); the message says what differs.</exception>
    public void LoadStateDict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Refuse(string what) => throw new ArgumentException($"Cannot load the state dict: {what}.", nameof(state));
        if (state.Optimizer != Kind) Refuse($"it was saved by {state.Optimizer}, this optimizer is {Kind}");
        if (!SamePartition(state.Partition, PartitionNames))
            Refuse($"it was saved for the STAC partition trunk [{Join(state.Partition?.TrunkLayerNames)}] / cap [{Join(state.Partition?.CapLayerNames)}], this optimizer has trunk [{Join(PartitionNames?.TrunkLayerNames)}] / cap [{Join(PartitionNames?.CapLayerNames)}]");
        if (state.Groups.Count != _groups.Count) Refuse($"it has {state.Groups.Count} parameter groups, this optimizer has {_groups.Count}");
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            var s = state.Groups[gi];
            if (s.Role != g.Role) Refuse($"group {gi} has role {s.Role ?? "none"}, this optimizer's has {g.Role ?? "none"}");
            if (s.Options is null || s.Options.GetType() != g.Options.GetType()) Refuse($"group {gi} options are {s.Options?.GetType().Name ?? "null"}, this optimizer uses {g.Options.GetType().Name}");
            try { s.Options!.Validate(); }
            catch (ArgumentException e) { Refuse($"group {gi} options are invalid: {e.Message}"); }
            if (s.Options!.NonFinitePolicy != NonFinitePolicy) Refuse($"group {gi} has NonFinitePolicy {s.Options.NonFinitePolicy}, this optimizer uses {NonFinitePolicy}");
            if (OptionsChangeProblem(g.Options, s.Options) is { } problem) Refuse($"group {gi}: {problem.Message}");
            if (OptionsShareAllGroups && gi > 0 && s.Options != state.Groups[0].Options)
                Refuse($"group {gi} options differ from group 0's, and {Kind} keeps one options record for every group");
            if (s.Parameters.Count != g.Parameters.Length || s.ParameterNames.Count != g.Parameters.Length)
                Refuse($"group {gi} has {s.Parameters.Count} parameters, this optimizer's has {g.Parameters.Length}");
            if (s.Shapes.Count != g.Parameters.Length || s.DTypes.Count != g.Parameters.Length)
                Refuse($"group {gi} lists {s.Shapes.Count} shapes and {s.DTypes.Count} dtypes for {g.Parameters.Length} parameters (expected one of each per parameter)");
            for (int i = 0; i < g.Parameters.Length; i++)
            {
                var p = g.Parameters[i];
                if (s.ParameterNames[i] != p.Name) Refuse($"group {gi} parameter {i} is named '{s.ParameterNames[i]}', here it is '{p.Name}'");
                if (!s.Shapes[i].SequenceEqual(p.Shape)) Refuse($"parameter '{p.Name}' has shape [{Join(s.Shapes[i])}] in the state dict, [{Join(p.Shape)}] here");
                if (s.DTypes[i] != p.DType) Refuse($"parameter '{p.Name}' has dtype {s.DTypes[i]} in the state dict, {p.DType} here");
                var (ai, mi) = g.Location[i];
                var a = g.Arenas[ai];
                var layout = StateLayout(s.Options, p.DType, g.Role);
                if (!layout.SequenceEqual(a.Specs))
                    Refuse($"parameter '{p.Name}' would need state [{string.Join(", ", layout.Select(x => $"{x.Name}:{x.DType}"))}] under the saved options, this optimizer keeps [{string.Join(", ", a.Specs.Select(x => $"{x.Name}:{x.DType}"))}]");
                if (s.Parameters[i] is not { } ps) continue;
                if (HasBetaPowers != ps.Beta1Power.HasValue || HasBetaPowers != ps.Beta2Power.HasValue)
                    Refuse($"parameter '{p.Name}' {(HasBetaPowers ? "lacks" : "has")} running products β₁ᵗ, β₂ᵗ");
                if (!(double.IsFinite(ps.Step) && ps.Step >= 0))
                    Refuse($"parameter '{p.Name}' has Step {ps.Step} (expected a finite step ≥ 0)");
                // 0 is reachable: β = 0 is a valid option, and a long run underflows the product in a narrow state dtype.
                if (ps.Beta1Power is { } p1 && !(p1 >= 0 && p1 <= 1))
                    Refuse($"parameter '{p.Name}' has Beta1Power {p1} (expected 0 ≤ β₁ᵗ ≤ 1)");
                if (ps.Beta2Power is { } p2 && !(p2 >= 0 && p2 <= 1))
                    Refuse($"parameter '{p.Name}' has Beta2Power {p2} (expected 0 ≤ β₂ᵗ ≤ 1)");
                if (ps.Buffers.Count != a.Specs.Length) Refuse($"parameter '{p.Name}' has {ps.Buffers.Count} state buffers, this optimizer keeps {a.Specs.Length}");
                foreach (var spec in a.Specs)
                {
                    if (!ps.Buffers.TryGetValue(spec.Name, out var t)) Refuse($"parameter '{p.Name}' has no '{spec.Name}' buffer");
                    else if (t.DType != spec.DType || t.Length != p.Length || !IsArrayOf(t.Data, spec.DType))
                        Refuse($"parameter '{p.Name}' buffer '{spec.Name}' is {t.DType}[{t.Length}] in the state dict, this optimizer keeps {spec.DType}[{p.Length}]");
                }
            }
        }

        // Everything matches: apply.
        PullState();
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            var s = state.Groups[gi];
            g.Options = s.Options;
            for (int i = 0; i < g.Parameters.Length; i++)
            {
                var (ai, mi) = g.Location[i];
                var a = g.Arenas[ai];
                if (s.Parameters[i] is not { } ps) { a.HasState[mi] = false; continue; }
                a.HasState[mi] = true;
                a.Steps[mi] = ps.Step;
                a.Power1[mi] = ps.Beta1Power ?? 1.0;
                a.Power2[mi] = ps.Beta2Power ?? 1.0;
                for (int b = 0; b < a.Specs.Length; b++)
                    CopyIn(ps.Buffers[a.Specs[b].Name].Data, a.Buffers[b], a.Offsets[mi]);
            }
        }
        NonFiniteSkippedSteps = state.NonFiniteSkippedSteps;
        StateWrittenOnHost();
        OnOptionsLoaded();
    }

    /// <summary>Lets an optimizer recompute what it derives from its options after <see cref="LoadStateDict"/>.</summary>
    private protected virtual void OnOptionsLoaded() { }

    static bool SamePartition(StacPartitionNames? a, StacPartitionNames? b)
        => a is null ? b is null : b is not null
           && a.TrunkLayerNames.SequenceEqual(b.TrunkLayerNames) && a.CapLayerNames.SequenceEqual(b.CapLayerNames)
           && a.TrunkParameterNames.SequenceEqual(b.TrunkParameterNames) && a.CapParameterNames.SequenceEqual(b.CapParameterNames);

    static string Join<T>(IEnumerable<T>? xs) => xs is null ? "" : string.Join(", ", xs);

    static bool IsArrayOf(Array data, DType dtype) => dtype switch
    {
        DType.Float32 => data is float[],
        DType.Float64 => data is double[],
        DType.Float16 => data is Half[],
        _ => data is Numerics.BFloat16[],
    };

    static Array CopyOut(TensorBuffer b, int offset, int length) => b.DType switch
    {
        DType.Float32 => b.Span<float>(offset, length).ToArray(),
        DType.Float64 => b.Span<double>(offset, length).ToArray(),
        DType.Float16 => b.Span<Half>(offset, length).ToArray(),
        _ => b.Span<Numerics.BFloat16>(offset, length).ToArray(),
    };

    static void CopyIn(Array data, TensorBuffer b, int offset)
    {
        switch (data)
        {
            case float[] f: f.CopyTo(b.Span<float>(offset, f.Length)); break;
            case double[] d: d.CopyTo(b.Span<double>(offset, d.Length)); break;
            case Half[] h: h.CopyTo(b.Span<Half>(offset, h.Length)); break;
            case Numerics.BFloat16[] x: x.CopyTo(b.Span<Numerics.BFloat16>(offset, x.Length)); break;
        }
    }

    // ---- hooks for the conformance replayer (upstream vocabulary) -------------------------------

    internal (Arena Arena, int Member, string? Role) Locate(Parameter p)
    {
        foreach (var g in _groups)
        {
            int i = Array.IndexOf(g.Parameters, p);
            if (i < 0) continue;
            var (ai, mi) = g.Location[i];
            return (g.Arenas[ai], mi, g.Role);
        }
        throw new ArgumentException($"Parameter '{p.Name}' is not managed by this optimizer.", nameof(p));
    }

    /// <summary>The state of <paramref name="p"/> in upstream's keys (<c>step</c>, <c>exp_avg</c>, ..., <c>beta1_power</c>), or null if it has none.</summary>
    internal Dictionary<string, double[]>? ExportUpstreamState(Parameter p)
    {
        var (a, m, role) = Locate(p);
        if (!a.HasState[m]) return null;
        PullState();
        var d = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (HasStepCounter(role)) d["step"] = [a.Steps[m]];
        if (HasBetaPowers) { d["beta1_power"] = [a.Power1[m]]; d["beta2_power"] = [a.Power2[m]]; }
        for (int b = 0; b < a.Specs.Length; b++)
        {
            var values = new double[p.Length];
            for (int i = 0; i < values.Length; i++) values[i] = a.Buffers[b].Get(a.Offsets[m] + i);
            d[a.Specs[b].Name] = values;
        }
        return d;
    }

    /// <summary>Overwrites (or, with null, removes) the state of <paramref name="p"/> from upstream's keys; values are rounded to each buffer's dtype.</summary>
    internal void ImportUpstreamState(Parameter p, IReadOnlyDictionary<string, double[]>? state)
    {
        var (a, m, role) = Locate(p);
        if (state is null) { a.HasState[m] = false; return; }
        PullState();
        StateWrittenOnHost();
        a.InitState(m);
        if (state.TryGetValue("step", out var step)) a.Steps[m] = step[0];
        if (state.TryGetValue("beta1_power", out var p1)) a.Power1[m] = p1[0];
        if (state.TryGetValue("beta2_power", out var p2)) a.Power2[m] = p2[0];
        for (int b = 0; b < a.Specs.Length; b++)
        {
            if (!state.TryGetValue(a.Specs[b].Name, out var values)) continue;
            if (values.Length != p.Length) throw new ArgumentException($"State '{a.Specs[b].Name}' of '{p.Name}' has {values.Length} values, the parameter {p.Length}.", nameof(state));
            for (int i = 0; i < values.Length; i++) a.Buffers[b].Set(a.Offsets[m] + i, values[i]);
        }
    }
}
