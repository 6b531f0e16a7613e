using System.Text.Json;

namespace Optimizers.Conformance.Trajectories;

/// <summary>A whole <c>optimizer-trajectories/1</c> file: recorded runs plus recorded bad-input behaviour.</summary>
/// <param name="Format">Always <c>optimizer-trajectories/1</c>.</param>
/// <param name="Provenance">The header objects (<c>upstream</c>, <c>torch</c>, <c>generated_with</c>, <c>reference_platform</c>) kept verbatim.</param>
public sealed record TrajectoryFile(
    string Format,
    IReadOnlyDictionary<string, JsonElement> Provenance,
    IReadOnlyList<TrajectoryCase> Cases,
    IReadOnlyList<ErrorRecord> Errors);

/// <summary>Element type of a recorded tensor.</summary>
public enum RecordedDType { Float32, Float64, BFloat16, Float16 }

/// <summary>One recorded run of one optimizer.</summary>
/// <param name="Optimizer"><c>AdamW</c>, <c>AdamSRF</c>, <c>HomeAdam</c>, <c>HomeAdamEW</c> or <c>STAC</c>.</param>
/// <param name="Hyper">The constructor keyword arguments that were passed (upstream names).</param>
/// <param name="Groups">Upstream's parameter groups after construction, defaults filled in: what actually ran.</param>
/// <param name="ParamDType">Parameter dtype; the state dtype comes from each group.</param>
/// <param name="Model">STAC only: the module tree in registration order.</param>
/// <param name="Partition">STAC only: upstream's resulting trunk/cap split.</param>
public sealed record TrajectoryCase(
    string Id,
    string? Note,
    string Optimizer,
    long Seed,
    IReadOnlyDictionary<string, JsonElement> Hyper,
    IReadOnlyList<RecordedGroup> Groups,
    RecordedDType ParamDType,
    IReadOnlyList<RecordedParam> Params,
    IReadOnlyList<RecordedModule>? Model,
    RecordedPartition? Partition,
    IReadOnlyList<RecordedStep> Steps);

/// <summary>A parameter group as upstream resolved it. <see cref="Options"/> holds every other key (lr, betas, tau, ...).</summary>
public sealed record RecordedGroup(IReadOnlyList<int> ParamIndices, IReadOnlyDictionary<string, JsonElement> Options)
{
    public double Double(string key) => ReadNumber(Options[key]);
    public double? DoubleOrNull(string key) =>
        Options.TryGetValue(key, out var e) && e.ValueKind != JsonValueKind.Null ? ReadNumber(e) : null;
    public (double Beta1, double Beta2) Betas(string key = "betas")
    {
        var b = Options[key];
        return (ReadNumber(b[0]), ReadNumber(b[1]));
    }
    public bool Bool(string key, bool fallback = false) =>
        Options.TryGetValue(key, out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : fallback;
    public string? String(string key) =>
        Options.TryGetValue(key, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
    /// <summary>A dtype-valued option (<c>state_dtype</c>, <c>trunk_state_dtype</c>); <c>null</c> means "follow the parameter".</summary>
    public RecordedDType? DType(string key) => String(key) is { } s ? TrajectoryReader.ParseDType(s) : null;
    public bool Has(string key) => Options.ContainsKey(key);

    internal static double ReadNumber(JsonElement e) => TrajectoryReader.ReadNumber(e);
}

/// <summary>A parameter: its name, shape (<c>[]</c> = 0-d) and initial value (flat, row-major).</summary>
public sealed record RecordedParam(string Name, IReadOnlyList<int> Shape, double[] Init)
{
    public int Length => Init.Length;
}

/// <summary>One module of a STAC model tree, with its own (non-recursive) parameters.</summary>
public sealed record RecordedModule(string Name, string Type, IReadOnlyList<RecordedModuleParam> Params);

/// <summary>A module's own parameter. <see cref="AliasOf"/> names the parameter this one is tied to, if any.</summary>
public sealed record RecordedModuleParam(string Name, string Qualified, IReadOnlyList<int> Shape, bool RequiresGrad, string? AliasOf);

/// <summary>Upstream's STAC split.</summary>
public sealed record RecordedPartition(
    IReadOnlyList<string> TrunkLayerNames,
    IReadOnlyList<string> CapLayerNames,
    IReadOnlyList<string> TrunkParameterNames,
    IReadOnlyList<string> CapParameterNames);

/// <summary>One recorded step: the gradients that went in (<c>null</c> = no gradient), and what came out.</summary>
/// <param name="State">Optimizer state per parameter index after the step, upstream keys (<c>step</c>, <c>exp_avg</c>, ...).</param>
/// <param name="Extra">The remaining <c>extra</c> keys verbatim (<c>groups</c>, <c>adaptive_mask</c>, <c>skipped</c>, ...).</param>
public sealed record RecordedStep(
    IReadOnlyList<double[]?> Grads,
    IReadOnlyList<double[]> ParamsAfter,
    IReadOnlyDictionary<int, ParamState> State,
    IReadOnlyDictionary<string, JsonElement> Extra)
{
    /// <summary>STAC: whether upstream skipped this whole step because a gradient was non-finite.</summary>
    public bool? Skipped => Extra.TryGetValue("skipped", out var e) && e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean() : null;
}

/// <summary>The state of one parameter in upstream's vocabulary. Scalars (step, beta powers) are one-element arrays.</summary>
public sealed class ParamState : Dictionary<string, double[]>
{
    public ParamState() : base(StringComparer.Ordinal) { }
    public ParamState(IDictionary<string, double[]> from) : base(from, StringComparer.Ordinal) { }
}

/// <summary>Recorded bad-input behaviour: what upstream raised (or did) for these arguments.</summary>
/// <param name="Stage"><c>constructor</c>, <c>step</c>, <c>add_param_group</c>, <c>load_state_dict</c>, ...</param>
/// <param name="Exception">Python exception type name (<c>ValueError</c>, <c>TypeError</c>, <c>RuntimeError</c>, ...), or <c>null</c> when upstream accepted the input.</param>
/// <param name="Result">What upstream reported besides the exception (for example which parameters changed), verbatim.</param>
public sealed record ErrorRecord(
    string Id,
    string Optimizer,
    string Stage,
    IReadOnlyDictionary<string, JsonElement> Args,
    string? Exception,
    string? Message,
    JsonElement? Result,
    string? Note);
