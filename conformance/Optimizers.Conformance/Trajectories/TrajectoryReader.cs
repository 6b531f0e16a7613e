using System.Globalization;
using System.Text.Json;

namespace Optimizers.Conformance.Trajectories;

/// <summary>Reads <c>optimizer-trajectories/1</c> files (see conformance/golden/FORMAT.md).</summary>
public static class TrajectoryReader
{
    public const string FormatName = "optimizer-trajectories/1";

    public static TrajectoryFile Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static TrajectoryFile Read(Stream stream, string sourceName = "<stream>")
    {
        using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        var root = doc.RootElement;
        var format = root.GetProperty("format").GetString();
        if (format != FormatName)
            throw new InvalidDataException($"{sourceName}: format is '{format}', expected '{FormatName}'.");

        var provenance = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var key in new[] { "upstream", "torch", "generated_with", "reference_platform", "encoding", "generator" })
            if (root.TryGetProperty(key, out var v)) provenance[key] = v.Clone();

        var cases = root.TryGetProperty("cases", out var cs) ? cs.EnumerateArray().Select(ReadCase).ToList() : [];
        var errors = root.TryGetProperty("errors", out var es) ? es.EnumerateArray().Select(ReadError).ToList() : [];
        return new TrajectoryFile(format!, provenance, cases, errors);
    }

    static TrajectoryCase ReadCase(JsonElement c)
    {
        var id = c.GetProperty("id").GetString()!;
        try
        {
            var parameters = c.GetProperty("params").EnumerateArray()
                .Select(p => new RecordedParam(
                    p.GetProperty("name").GetString()!,
                    p.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToList(),
                    ReadVector(p.GetProperty("init"))))
                .ToList();
            var groups = c.GetProperty("resolved_groups").EnumerateArray().Select(ReadGroup).ToList();
            var steps = c.GetProperty("steps").EnumerateArray().Select(ReadStep).ToList();
            return new TrajectoryCase(
                id,
                c.TryGetProperty("note", out var note) ? note.GetString() : null,
                c.GetProperty("optimizer").GetString()!,
                c.TryGetProperty("seed", out var seed) ? seed.GetInt64() : 0,
                ToDictionary(c.GetProperty("hyper")),
                groups,
                ParseDType(c.GetProperty("dtype").GetString()!),
                parameters,
                c.TryGetProperty("model", out var model) ? model.EnumerateArray().Select(ReadModule).ToList() : null,
                c.TryGetProperty("partition", out var part) ? ReadPartition(part) : null,
                steps);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"case '{id}': {e.Message}", e);
        }
    }

    static RecordedGroup ReadGroup(JsonElement g)
    {
        var indices = g.GetProperty("param_indices").EnumerateArray().Select(x => x.GetInt32()).ToList();
        var options = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in g.EnumerateObject())
            if (p.Name != "param_indices") options[p.Name] = p.Value.Clone();
        return new RecordedGroup(indices, options);
    }

    static RecordedStep ReadStep(JsonElement s)
    {
        var grads = s.GetProperty("grads").EnumerateArray()
            .Select(g => g.ValueKind == JsonValueKind.Null ? null : ReadVector(g)).ToList();
        var after = s.GetProperty("params_after").EnumerateArray().Select(ReadVector).ToList();
        var state = new Dictionary<int, ParamState>();
        var extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (s.TryGetProperty("extra", out var x))
        {
            foreach (var p in x.EnumerateObject())
            {
                if (p.Name == "state")
                {
                    foreach (var entry in p.Value.EnumerateObject())
                    {
                        var ps = new ParamState();
                        foreach (var buffer in entry.Value.EnumerateObject())
                            ps[buffer.Name] = ReadVector(buffer.Value);
                        state[int.Parse(entry.Name, CultureInfo.InvariantCulture)] = ps;
                    }
                }
                else extra[p.Name] = p.Value.Clone();
            }
        }
        return new RecordedStep(grads, after, state, extra);
    }

    static RecordedModule ReadModule(JsonElement m) => new(
        m.GetProperty("name").GetString()!,
        m.TryGetProperty("type", out var t) ? t.GetString()! : "",
        m.GetProperty("params").EnumerateArray().Select(p => new RecordedModuleParam(
            p.GetProperty("name").GetString()!,
            p.GetProperty("qualified").GetString()!,
            p.TryGetProperty("shape", out var sh) ? sh.EnumerateArray().Select(x => x.GetInt32()).ToList() : [],
            !p.TryGetProperty("requires_grad", out var rg) || rg.GetBoolean(),
            p.TryGetProperty("alias_of", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null)).ToList());

    static RecordedPartition ReadPartition(JsonElement p)
    {
        static List<string> Names(JsonElement e, string key) =>
            e.TryGetProperty(key, out var v) ? v.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        return new RecordedPartition(Names(p, "trunk_layer_names"), Names(p, "cap_layer_names"),
            Names(p, "trunk_parameter_names"), Names(p, "cap_parameter_names"));
    }

    static ErrorRecord ReadError(JsonElement e) => new(
        e.GetProperty("id").GetString()!,
        e.GetProperty("optimizer").GetString()!,
        e.GetProperty("stage").GetString()!,
        e.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? ToDictionary(a) : new Dictionary<string, JsonElement>(),
        e.TryGetProperty("exception", out var ex) && ex.ValueKind == JsonValueKind.String ? ex.GetString() : null,
        e.TryGetProperty("message", out var msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString() : null,
        e.TryGetProperty("result", out var r) && r.ValueKind != JsonValueKind.Null ? r.Clone() : null,
        e.TryGetProperty("note", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);

    static Dictionary<string, JsonElement> ToDictionary(JsonElement o)
    {
        var d = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in o.EnumerateObject()) d[p.Name] = p.Value.Clone();
        return d;
    }

    /// <summary>A flat tensor, or a single number for a 0-d value (<c>step</c>, beta powers).</summary>
    public static double[] ReadVector(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? e.EnumerateArray().Select(ReadNumber).ToArray()
        : [ReadNumber(e)];

    /// <summary>A number, or one of the strings <c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>. Booleans read as 0/1.</summary>
    public static double ReadNumber(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => 1.0,
        JsonValueKind.False => 0.0,
        JsonValueKind.String => e.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
        },
        _ => throw new FormatException($"expected a number, found {e.ValueKind}"),
    };

    public static RecordedDType ParseDType(string name) => name switch
    {
        "float32" or "torch.float32" or "fp32" => RecordedDType.Float32,
        "float64" or "torch.float64" or "fp64" => RecordedDType.Float64,
        "bfloat16" or "torch.bfloat16" or "bf16" => RecordedDType.BFloat16,
        "float16" or "torch.float16" or "half" or "fp16" => RecordedDType.Float16,
        _ => throw new FormatException($"unknown dtype '{name}'"),
    };
}
