using System.Globalization;
using System.Text.Json;

namespace Optimizers.Conformance.Replay;

// Python's own argument binding, re-stated for the five upstream constructors, so that every adapter
// (reference, production) reads recorded keyword arguments the same way and reports the same
// TypeError that CPython raises before the optimizer's own code runs. Nothing here validates values:
// range checks belong to each implementation, because they are part of what is being tested.

/// <summary>An error that upstream raises while binding or interpreting arguments, before any optimizer code runs.</summary>
/// <param name="kind">Python exception type name: <c>TypeError</c>, <c>ValueError</c> or <c>AttributeError</c>.</param>
/// <param name="argument">The upstream argument the error is about.</param>
/// <param name="message">CPython's (or upstream's) message.</param>
public sealed class UpstreamCallException(string kind, string argument, string message) : Exception(message)
{
    /// <summary>Python exception type name.</summary>
    public string Kind { get; } = kind;

    /// <summary>Upstream argument name.</summary>
    public string Argument { get; } = argument;
}

/// <summary>How a dtype-valued argument (<c>state_dtype</c>, <c>trunk_state_dtype</c>) was given.</summary>
public enum DTypeArgumentKind
{
    /// <summary>Python <c>None</c>, or STAC's <c>"parameter"</c>/<c>"match_parameter"</c>: follow each parameter's dtype.</summary>
    FollowParameter,
    /// <summary>A floating torch dtype; <see cref="DTypeArgument.Name"/> is its canonical name.</summary>
    Floating,
    /// <summary>A torch dtype that is not floating point (<c>int32</c>, <c>bool</c>, ...).</summary>
    NonFloating,
    /// <summary>A string that names no dtype this optimizer accepts.</summary>
    UnknownString,
}

/// <summary>A parsed dtype-valued argument. <see cref="Name"/> is canonical (<c>float32</c>, <c>float64</c>, <c>bfloat16</c>, <c>float16</c>, <c>int32</c>, ...) or, for an unknown string, the raw text.</summary>
public sealed record DTypeArgument(DTypeArgumentKind Kind, string? Name)
{
    /// <summary>Follow the parameter's dtype (Python <c>None</c>).</summary>
    public static DTypeArgument FollowParameter { get; } = new(DTypeArgumentKind.FollowParameter, null);
}

/// <summary>One parameter group given through <c>params=[{...}]</c>: which recorded parameters it holds (if said) and its overrides.</summary>
public sealed record UpstreamParamGroup(IReadOnlyList<int>? ParamIndices, IReadOnlyDictionary<string, JsonElement> Overrides);

/// <summary>A constructor signature of an upstream optimizer, in Python's terms.</summary>
/// <param name="ClassName">Python class name, used in CPython's messages.</param>
/// <param name="First">The first, required argument: <c>params</c> (torch optimizers) or <c>model</c> (STAC).</param>
/// <param name="Positional">Arguments after <see cref="First"/> that may be given positionally, in order.</param>
/// <param name="KeywordOnly">Arguments after <c>*</c>.</param>
/// <param name="Defaults">Default of every optional argument, as JSON (<c>null</c> = Python <c>None</c>).</param>
public sealed record UpstreamSignature(
    string ClassName,
    string First,
    IReadOnlyList<string> Positional,
    IReadOnlyList<string> KeywordOnly,
    IReadOnlyDictionary<string, JsonElement> Defaults)
{
    /// <summary>Whether <paramref name="name"/> is an argument of this constructor.</summary>
    public bool Accepts(string name) => name == First || Positional.Contains(name) || KeywordOnly.Contains(name);
}

/// <summary>Constructor arguments bound the way CPython binds them, with upstream's defaults filled in.</summary>
public sealed class UpstreamArguments
{
    readonly IReadOnlyDictionary<string, JsonElement> given;

    internal UpstreamArguments(UpstreamSignature signature, IReadOnlyDictionary<string, JsonElement> given)
    {
        Signature = signature;
        this.given = given;
    }

    /// <summary>The constructor these arguments were bound to.</summary>
    public UpstreamSignature Signature { get; }

    /// <summary>Whether the caller passed <paramref name="name"/> (positionally or by keyword).</summary>
    public bool WasGiven(string name) => given.ContainsKey(name);

    /// <summary>The bound value, or upstream's default.</summary>
    public JsonElement Raw(string name) =>
        given.TryGetValue(name, out var v) ? v
        : Signature.Defaults.TryGetValue(name, out var d) ? d
        : throw new KeyNotFoundException($"{Signature.ClassName} has no argument '{name}' with a default");

    /// <summary>A float argument (<c>"NaN"</c>, <c>"Infinity"</c> strings allowed).</summary>
    public double Double(string name) => UpstreamKwargs.ReadDouble(Raw(name), name);

    /// <summary>A float argument whose default is <c>None</c>.</summary>
    public double? DoubleOrNone(string name) => Raw(name).ValueKind == JsonValueKind.Null ? null : Double(name);

    /// <summary>A bool argument (Python truthiness of a JSON bool).</summary>
    public bool Bool(string name) => Raw(name).ValueKind == JsonValueKind.True;

    /// <summary>A bool argument whose default is <c>None</c> (torch AdamW's <c>foreach</c>).</summary>
    public bool? BoolOrNone(string name) => Raw(name).ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        _ => false,
    };

    /// <summary>A string argument (<c>update_mode</c>), verbatim.</summary>
    public string? String(string name) => Raw(name).ValueKind == JsonValueKind.String ? Raw(name).GetString() : Raw(name).ToString();

    /// <summary>The <c>betas</c> pair. Python unpacks or indexes it, so a wrong length fails there.</summary>
    public (double Beta1, double Beta2) Betas(string name = "betas")
    {
        var raw = Raw(name);
        if (raw.ValueKind != JsonValueKind.Array || raw.GetArrayLength() != 2)
            throw new UpstreamCallException("ValueError", name, $"{name} must be a pair of floats, got {raw}");
        return (UpstreamKwargs.ReadDouble(raw[0], name), UpstreamKwargs.ReadDouble(raw[1], name));
    }

    /// <summary>An integer argument (<c>last_n_layers</c>). A non-integral number fails where Python would use it as a slice index.</summary>
    public long Integer(string name)
    {
        var raw = Raw(name);
        if (raw.ValueKind == JsonValueKind.Number && raw.TryGetInt64(out var n)) return n;
        throw new UpstreamCallException("TypeError", name, "slice indices must be integers or None or have an __index__ method");
    }

    /// <summary>A homeadam <c>state_dtype</c>: a torch dtype or <c>None</c>; any other string is not a dtype.</summary>
    public DTypeArgument TorchDType(string name) => UpstreamKwargs.ParseTorchDType(Raw(name));

    /// <summary>STAC 0.1.4's <c>trunk_state_dtype</c>: a dtype, <c>None</c>, or a trimmed, case-insensitive alias.</summary>
    public DTypeArgument StacTrunkStateDType(string name = "trunk_state_dtype") => UpstreamKwargs.ParseStacTrunkStateDType(Raw(name));

    /// <summary>The <c>params</c> argument when it is a list of group dicts; <c>null</c> when it was not given as such.</summary>
    public IReadOnlyList<UpstreamParamGroup>? ParamGroups()
    {
        if (!given.TryGetValue("params", out var p) || p.ValueKind != JsonValueKind.Array) return null;
        var groups = new List<UpstreamParamGroup>();
        foreach (var g in p.EnumerateArray())
        {
            if (g.ValueKind != JsonValueKind.Object) return null;
            List<int>? indices = null;
            var overrides = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var kv in g.EnumerateObject())
            {
                if (kv.Name == "param_indices") indices = kv.Value.EnumerateArray().Select(x => x.GetInt32()).ToList();
                else overrides[kv.Name] = kv.Value.Clone();
            }
            groups.Add(new UpstreamParamGroup(indices, overrides));
        }
        return groups;
    }

    /// <summary>Whether <c>params</c> was given as an empty list (torch: "optimizer got an empty parameter list").</summary>
    public bool ParamsGivenEmpty => given.TryGetValue("params", out var p) && p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 0;
}

/// <summary>Upstream constructor signatures and CPython's binding rules for them.</summary>
public static class UpstreamKwargs
{
    /// <summary>Keys of an error record's <c>args</c> that describe the scenario rather than constructor arguments.</summary>
    public static IReadOnlySet<string> ScenarioKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "positional", "grad", "groups", "sparse_in", "nan_in", "inf_in", "closure", "model", "last",
    };

    /// <summary>STAC 0.1.4's string aliases for <c>trunk_state_dtype</c> and the dtype each names.</summary>
    public static IReadOnlyDictionary<string, string> StacTrunkStateDTypeAliases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bf16"] = "bfloat16", ["bfloat16"] = "bfloat16",
        ["float16"] = "float16", ["half"] = "float16",
        ["float32"] = "float32", ["fp32"] = "float32",
        ["float64"] = "float64", ["fp64"] = "float64",
    };

    /// <summary>STAC 0.1.4's strings meaning "follow the parameter dtype".</summary>
    public static IReadOnlySet<string> StacFollowParameterAliases { get; } = new HashSet<string>(StringComparer.Ordinal) { "parameter", "match_parameter" };

    // torch dtype names (torch.<name>) and whether they are floating point; "float"/"double"/"half" are torch's own aliases.
    static readonly Dictionary<string, (string Canonical, bool Floating)> TorchDTypes = new(StringComparer.Ordinal)
    {
        ["float32"] = ("float32", true), ["float"] = ("float32", true),
        ["float64"] = ("float64", true), ["double"] = ("float64", true),
        ["float16"] = ("float16", true), ["half"] = ("float16", true),
        ["bfloat16"] = ("bfloat16", true),
        ["int8"] = ("int8", false), ["uint8"] = ("uint8", false),
        ["int16"] = ("int16", false), ["short"] = ("int16", false),
        ["int32"] = ("int32", false), ["int"] = ("int32", false),
        ["int64"] = ("int64", false), ["long"] = ("int64", false),
        ["bool"] = ("bool", false),
        ["complex64"] = ("complex64", false), ["complex128"] = ("complex128", false),
    };

    static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    static readonly IReadOnlyDictionary<string, UpstreamSignature> Signatures = BuildSignatures();

    static Dictionary<string, UpstreamSignature> BuildSignatures()
    {
        var family = new Dictionary<string, JsonElement>
        {
            ["lr"] = J("0.001"), ["betas"] = J("[0.9, 0.99]"), ["eps"] = J("1e-07"), ["weight_decay"] = J("0.0"),
            ["state_dtype"] = J("\"float32\""), ["foreach"] = J("true"),
        };
        Dictionary<string, JsonElement> With(params (string Key, string Json)[] extra)
        {
            var d = new Dictionary<string, JsonElement>(family, StringComparer.Ordinal);
            foreach (var (k, v) in extra) d[k] = J(v);
            return d;
        }
        string[] basePositional = ["lr", "betas", "eps", "weight_decay"];
        return new Dictionary<string, UpstreamSignature>(StringComparer.Ordinal)
        {
            // torch 1.13.1 torch/optim/adamw.py
            ["AdamW"] = new("AdamW", "params", ["lr", "betas", "eps", "weight_decay", "amsgrad"], ["maximize", "foreach", "capturable"],
                new Dictionary<string, JsonElement>
                {
                    ["lr"] = J("0.001"), ["betas"] = J("[0.9, 0.999]"), ["eps"] = J("1e-08"), ["weight_decay"] = J("0.01"),
                    ["amsgrad"] = J("false"), ["maximize"] = J("false"), ["foreach"] = J("null"), ["capturable"] = J("false"),
                }),
            // homeadam 0.1.3 (upstream-spec A4)
            ["AdamSRF"] = new("AdamSRF", "params", basePositional, ["state_dtype", "foreach"], With()),
            ["HomeAdam"] = new("HomeAdam", "params", [.. basePositional, "tau"], ["state_dtype", "foreach", "capturable"],
                With(("tau", "1.0"), ("capturable", "false"))),
            ["HomeAdamEW"] = new("HomeAdamEW", "params", [.. basePositional, "tau"], ["state_dtype", "foreach", "update_mode"],
                With(("tau", "1.0"), ("update_mode", "\"denom\""))),
            // stac-optimizer 0.1.4 (0.1.2's API plus trunk_state_dtype); everything after the model is keyword-only
            ["STAC"] = new("STAC", "model", [],
                ["lr", "trunk_lr", "cap_lr", "last_n_layers", "trunk_momentum", "trunk_state_dtype", "betas", "eps", "weight_decay",
                 "trunk_weight_decay", "cap_weight_decay", "amsgrad", "maximize", "error_if_nonfinite"],
                new Dictionary<string, JsonElement>
                {
                    ["lr"] = J("0.001"), ["trunk_lr"] = J("null"), ["cap_lr"] = J("null"), ["last_n_layers"] = J("1"),
                    ["trunk_momentum"] = J("0.9"), ["trunk_state_dtype"] = J("null"), ["betas"] = J("[0.9, 0.999]"), ["eps"] = J("1e-08"),
                    ["weight_decay"] = J("0.0"), ["trunk_weight_decay"] = J("null"), ["cap_weight_decay"] = J("null"),
                    ["amsgrad"] = J("false"), ["maximize"] = J("false"), ["error_if_nonfinite"] = J("false"),
                }),
        };
    }

    /// <summary>The signature of an upstream optimizer (<c>AdamW</c>, <c>AdamSRF</c>, <c>HomeAdam</c>, <c>HomeAdamEW</c>, <c>STAC</c>).</summary>
    public static UpstreamSignature Signature(string optimizer) =>
        Signatures.TryGetValue(optimizer, out var s) ? s : throw new ArgumentException($"unknown upstream optimizer '{optimizer}'", nameof(optimizer));

    /// <summary>
    /// Binds recorded arguments as CPython would: <c>positional</c> (values after the first argument) then keywords.
    /// Scenario keys (<see cref="ScenarioKeys"/>) are ignored. Too many positionals, an unknown keyword, or a value
    /// given twice raise <see cref="UpstreamCallException"/> with kind <c>TypeError</c> and CPython's message.
    /// </summary>
    public static UpstreamArguments Bind(string optimizer, IReadOnlyDictionary<string, JsonElement> args)
    {
        var sig = Signature(optimizer);
        var bound = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (args.TryGetValue("positional", out var positional) && positional.ValueKind == JsonValueKind.Array)
        {
            var values = positional.EnumerateArray().ToList();
            if (values.Count > sig.Positional.Count)
            {
                int max = 2 + sig.Positional.Count, given = 2 + values.Count;
                throw new UpstreamCallException("TypeError", "positional",
                    $"{sig.ClassName}.__init__() takes from 2 to {max} positional arguments but {given} were given");
            }
            for (int i = 0; i < values.Count; i++) bound[sig.Positional[i]] = values[i].Clone();
        }
        foreach (var (key, value) in args)
        {
            if (ScenarioKeys.Contains(key)) continue;
            if (!sig.Accepts(key))
                throw new UpstreamCallException("TypeError", key, $"{sig.ClassName}.__init__() got an unexpected keyword argument '{key}'");
            if (bound.ContainsKey(key))
                throw new UpstreamCallException("TypeError", key, $"{sig.ClassName}.__init__() got multiple values for argument '{key}'");
            bound[key] = value.Clone();
        }
        return new UpstreamArguments(sig, bound);
    }

    /// <summary>A recorded float: a JSON number or one of <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>.</summary>
    public static double ReadDouble(JsonElement e, string argument) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => e.GetString() switch
        {
            "NaN" or "nan" => double.NaN,
            "Infinity" or "inf" => double.PositiveInfinity,
            "-Infinity" or "-inf" => double.NegativeInfinity,
            var s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                ? d
                : throw new UpstreamCallException("TypeError", argument, $"'<' not supported between instances of 'str' and 'float'"),
        },
        JsonValueKind.True => 1.0,
        JsonValueKind.False => 0.0,
        _ => throw new UpstreamCallException("TypeError", argument, $"'<' not supported between instances of '{e.ValueKind}' and 'float'"),
    };

    /// <summary>A torch dtype given by name (<c>float32</c>, <c>torch.int32</c>, ...) or <c>null</c>. Any other string is not a dtype at all.</summary>
    public static DTypeArgument ParseTorchDType(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return DTypeArgument.FollowParameter;
        var text = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.ToString();
        var name = text.StartsWith("torch.", StringComparison.Ordinal) ? text["torch.".Length..] : text;
        return TorchDTypes.TryGetValue(name, out var t)
            ? new DTypeArgument(t.Floating ? DTypeArgumentKind.Floating : DTypeArgumentKind.NonFloating, t.Canonical)
            : new DTypeArgument(DTypeArgumentKind.UnknownString, text);
    }

    /// <summary>
    /// STAC 0.1.4's <c>trunk_state_dtype</c>: a string is trimmed and lower-cased, then matched against the follow-parameter
    /// words and the aliases; a recorded name that is none of those but is a torch dtype is taken as that dtype (the
    /// recording writes dtypes as names), otherwise it is an unknown string.
    /// </summary>
    public static DTypeArgument ParseStacTrunkStateDType(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null) return DTypeArgument.FollowParameter;
        var text = e.ValueKind == JsonValueKind.String ? e.GetString()! : e.ToString();
        var normalized = text.Trim().ToLowerInvariant();
        if (StacFollowParameterAliases.Contains(normalized)) return DTypeArgument.FollowParameter;
        if (StacTrunkStateDTypeAliases.TryGetValue(normalized, out var alias)) return new DTypeArgument(DTypeArgumentKind.Floating, alias);
        var torchName = text.StartsWith("torch.", StringComparison.Ordinal) ? text["torch.".Length..] : text;
        return TorchDTypes.TryGetValue(torchName, out var t)
            ? new DTypeArgument(t.Floating ? DTypeArgumentKind.Floating : DTypeArgumentKind.NonFloating, t.Canonical)
            : new DTypeArgument(DTypeArgumentKind.UnknownString, text);
    }

    /// <summary>
    /// The upstream argument a recorded error message is about, read from the message itself (upstream's messages name
    /// their argument in a few fixed shapes). <c>null</c> for errors that are not about a constructor argument
    /// (step-time failures, <c>add_param_group</c>).
    /// </summary>
    public static string? ArgumentNamedBy(string? message)
    {
        if (string.IsNullOrEmpty(message)) return null;
        (string Needle, string Argument)[] table =
        [
            ("Invalid learning rate", "lr"), ("Invalid lr:", "lr"),
            ("Invalid beta1", "betas"), ("Invalid beta2", "betas"), ("Invalid beta parameter", "betas"),
            ("Invalid epsilon", "eps"), ("Invalid eps:", "eps"),
            ("Invalid trunk_weight_decay", "trunk_weight_decay"), ("Invalid cap_weight_decay", "cap_weight_decay"),
            ("Invalid weight_decay", "weight_decay"),
            ("Invalid tau", "tau"), ("Invalid update_mode", "update_mode"), ("Unknown update_mode", "update_mode"),
            ("state_dtype must be floating-point", "state_dtype"),
            ("trunk_state_dtype must be", "trunk_state_dtype"),
            ("Invalid trunk_momentum", "trunk_momentum"),
            ("Invalid trunk_lr", "trunk_lr"), ("Invalid cap_lr", "cap_lr"),
            ("last_n_layers must be", "last_n_layers"),
            ("slice indices must be integers", "last_n_layers"),
            ("optimizer got an empty parameter list", "params"),
            ("STAC requires at least one trainable parameter", "model"),
            ("has no attribute 'named_modules'", "model"),
        ];
        foreach (var (needle, argument) in table)
            if (message.Contains(needle, StringComparison.Ordinal)) return argument;
        var quoted = System.Text.RegularExpressions.Regex.Match(message, @"(?:unexpected keyword argument|multiple values for argument) '([^']+)'");
        if (quoted.Success) return quoted.Groups[1].Value;
        if (message.Contains("positional arguments but", StringComparison.Ordinal)) return "positional";
        return null;
    }
}
