using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Optimizers.Numerics;

namespace Optimizers.Checkpoints;

/// <summary>
/// Optimizer checkpoints as safetensors files: everything <see cref="Optimizer.StateDict"/> holds (options of every group,
/// every state buffer in its own dtype, step counters, the running products β₁ᵗ, β₂ᵗ in the state dtype, the skipped-step
/// count, STAC's partition) plus, by default, the parameter values, in one file written atomically and guarded by a
/// SHA-256 checksum. Resuming from a checkpoint continues bit-identically to a run that never stopped.
/// </summary>
/// <remarks>
/// <para>Tensors (names use the group index g and the parameter's index i within its group):</para>
/// <list type="table">
/// <item><term><c>param.g.i</c></term><description>the parameter's value, its dtype and shape (when parameters are included).</description></item>
/// <item><term><c>state.g.i.&lt;buffer&gt;</c></term><description><c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c>, <c>trunk_momentum_buffer</c>: the parameter's shape, the buffer's dtype.</description></item>
/// <item><term><c>state.g.i.step</c></term><description>0-d; I64 for the HomeAdam family (upstream counts in a Python int), F32 for AdamW and STAC's cap (torch's float32 counter); absent for STAC's trunk, which has none.</description></item>
/// <item><term><c>state.g.i.beta1_power</c>, <c>state.g.i.beta2_power</c></term><description>0-d, in the state dtype (HomeAdam family).</description></item>
/// </list>
/// <para>A parameter that never had a gradient has no <c>state.g.i.*</c> tensors. Per-parameter scalars are 0-d tensors
/// rather than metadata because their dtype is part of the state (a bfloat16 β₁ᵗ is not a float64 one) and a numpy reader
/// then finds them next to the buffers they belong to.</para>
/// <para>Metadata (all strings): <c>format</c>, <c>format_version</c>, <c>library_version</c>, <c>optimizer</c>,
/// <c>groups</c>, <c>group.g.options</c> (the options record as JSON), <c>group.g.role</c> (STAC: trunk or cap),
/// <c>group.g.parameters</c> (JSON: name, shape, dtype, has_state of each parameter), <c>partition</c> (STAC, JSON),
/// <c>nonfinite_skipped_steps</c>, <c>parameters_included</c>, and <c>checksum</c>.</para>
/// <para>The checksum is <c>sha256:</c> and the hex SHA-256 of: every other metadata entry in code-point order of its key
/// as <c>key \0 value \0</c> (UTF-8), then every tensor in data order (by data_offsets; zero-length tensors that tie,
/// by the UTF-8 bytes of their names) as <c>name \0 dtype \0 shape joined by ',' \0 begin \0 end \0</c>, then the
/// tensor bytes. It covers the options as well as the numbers, so a flipped digit in a learning rate is caught like a
/// flipped bit in a moment. <c>read_checkpoint.py</c> (next to this file) reads and verifies it with numpy.</para>
/// </remarks>
public static class Checkpoint
{
    /// <summary>The value of the <c>format</c> metadata key of an optimizer checkpoint.</summary>
    public const string OptimizerFormat = "optimizers.homeadam/optimizer-checkpoint";

    /// <summary>The value of the <c>format</c> metadata key of a file written by <see cref="SaveParameters"/>.</summary>
    public const string ParametersFormat = "optimizers.homeadam/parameters";

    /// <summary>The layout version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>
    /// Saves the complete state of <paramref name="optimizer"/> (and, with <paramref name="includeParameters"/>, the values
    /// of its parameters) to <paramref name="path"/>, atomically: a crash or kill during the save leaves the previous file
    /// intact. Including the parameters (the default) makes the file a complete resume point; without them the model's
    /// weights must be saved and restored separately (<see cref="SaveParameters"/>), and a crash between the two saves
    /// leaves them out of step.
    /// </summary>
    /// <param name="optimizer">The optimizer to save.</param>
    /// <param name="path">The file to write; its directory must exist. An existing file is replaced.</param>
    /// <param name="includeParameters">Also store every parameter's value (default true).</param>
    /// <remarks>A save that is killed part-way leaves a hidden <c>.&lt;file name&gt;.&lt;id&gt;.tmp</c> beside the checkpoint;
    /// it is never read and can be deleted.</remarks>
    /// <exception cref="IOException">The file could not be written; <paramref name="path"/> is unchanged.</exception>
    public static void Save(Optimizer optimizer, string path, bool includeParameters = true)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var state = optimizer.StateDict();
        var tensors = new List<SafeTensor>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = OptimizerFormat,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["library_version"] = LibraryVersion,
            ["optimizer"] = state.Optimizer,
            ["groups"] = state.Groups.Count.ToString(CultureInfo.InvariantCulture),
            ["nonfinite_skipped_steps"] = state.NonFiniteSkippedSteps.ToString(CultureInfo.InvariantCulture),
            ["parameters_included"] = includeParameters ? "true" : "false",
        };
        if (state.Partition is { } partition)
            metadata["partition"] = JsonSerializer.Serialize(new PartitionEntry(partition.TrunkLayerNames, partition.CapLayerNames, partition.TrunkParameterNames, partition.CapParameterNames), Json);

        for (int g = 0; g < state.Groups.Count; g++)
        {
            var group = state.Groups[g];
            var parameters = optimizer.GroupParameters(g);
            metadata[$"group.{g}.options"] = JsonSerializer.Serialize(group.Options, group.Options.GetType(), Json);
            if (group.Role is not null) metadata[$"group.{g}.role"] = group.Role;
            metadata[$"group.{g}.parameters"] = JsonSerializer.Serialize(
                Enumerable.Range(0, parameters.Count).Select(i => new ParameterEntry(group.ParameterNames[i], group.Shapes[i], group.DTypes[i], group.Parameters[i] is not null)).ToArray(), Json);
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                long[] shape = p.Shape.Select(d => (long)d).ToArray();
                if (includeParameters)
                    tensors.Add(new SafeTensor($"param.{g}.{i}", ToSafe(p.DType), shape,
                        p.DType == DType.Float32 ? p.Value<float>().ToArray() : p.Value<double>().ToArray()));
                if (group.Parameters[i] is not { } ps) continue;
                string prefix = $"state.{g}.{i}.";
                if (HasStepCounter(state.Optimizer, group.Role))
                    tensors.Add(StepCounterDType(state.Optimizer) == SafeTensorDType.I64
                        ? new SafeTensor(prefix + "step", SafeTensorDType.I64, [], new[] { ToInt64(ps.Step, prefix + "step") })
                        : new SafeTensor(prefix + "step", SafeTensorDType.F32, [], new[] { ToExact<float>(ps.Step, SafeTensorDType.F32, prefix + "step") }));
                if (ps.Beta1Power is { } p1 && ps.Beta2Power is { } p2)
                {
                    var powerDType = ToSafe(ps.Buffers.Values.First().DType);
                    tensors.Add(new SafeTensor(prefix + "beta1_power", powerDType, [], Scalar(p1, powerDType, prefix + "beta1_power")));
                    tensors.Add(new SafeTensor(prefix + "beta2_power", powerDType, [], Scalar(p2, powerDType, prefix + "beta2_power")));
                }
                foreach (var (name, buffer) in ps.Buffers)
                    tensors.Add(new SafeTensor(prefix + name, ToSafe(buffer.DType), shape, buffer.Data));
            }
        }
        WriteWithChecksum(path, tensors, metadata);
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save"/> into <paramref name="optimizer"/>: its state, its options (the
    /// saved options replace the current ones, as torch's <c>load_state_dict</c> does) and, when the file holds them, the
    /// parameter values. Everything is read, verified and compared first; on any error nothing is changed.
    /// </summary>
    /// <param name="optimizer">An optimizer built over the same parameters (names, shapes, dtypes, grouping) as the saved one.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <exception cref="SafeTensorsFormatException">The file is truncated, malformed, fails its checksum, or is not an
    /// optimizer checkpoint of this format version; the message names the file and, where one is to blame, the tensor.</exception>
    /// <exception cref="ArgumentException">The checkpoint was saved by a different optimizer kind, STAC partition, group
    /// layout, parameter names, shapes or dtypes, or state layout (e.g. another state dtype); the message says what differs.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="path"/> does not exist.</exception>
    public static void Load(Optimizer optimizer, string path)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (file, data) = ReadVerified(path, OptimizerFormat);
        var reader = new MetadataReader(file);
        var (state, parameterValues) = Parse(file, reader, data);
        try
        {
            optimizer.LoadStateDict(state);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Checkpoint '{path}' does not fit this optimizer. {e.Message}", nameof(optimizer), e);
        }
        // LoadStateDict accepted the saved names, shapes and dtypes, and Parse checked every parameter tensor against
        // them, so these copies cannot fail half-way.
        foreach (var ((g, i), values) in parameterValues)
        {
            var p = optimizer.GroupParameters(g)[i];
            if (values is float[] f) f.CopyTo(p.Value<float>());
            else ((double[])values).CopyTo(p.Value<double>());
        }
    }

    /// <summary>
    /// Saves the values of <paramref name="parameters"/> (a model's weights, without optimizer state) as a plain safetensors
    /// file with one tensor per parameter, named by <see cref="Parameter.Name"/>, atomically and with a checksum.
    /// </summary>
    /// <exception cref="ArgumentException">Two parameters share a name.</exception>
    /// <exception cref="IOException">The file could not be written; <paramref name="path"/> is unchanged.</exception>
    public static void SaveParameters(IEnumerable<Parameter> parameters, string path)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var list = parameters.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in list)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(parameters));
            if (!names.Add(p.Name)) throw new ArgumentException($"Two parameters are named '{p.Name}'; a parameters file needs unique names.", nameof(parameters));
        }
        var tensors = list.Select(p => new SafeTensor(p.Name, ToSafe(p.DType), p.Shape.Select(d => (long)d).ToArray(),
            p.DType == DType.Float32 ? p.Value<float>().ToArray() : p.Value<double>().ToArray())).ToList();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = ParametersFormat,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["library_version"] = LibraryVersion,
        };
        WriteWithChecksum(path, tensors, metadata);
    }

    /// <summary>
    /// Restores parameter values saved by <see cref="SaveParameters"/>: each parameter takes the tensor of its name. Every
    /// parameter must be present with its shape and dtype; tensors of other names are ignored. Checked first; on any error
    /// nothing is changed.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is truncated, malformed or fails its checksum.</exception>
    /// <exception cref="ArgumentException">A parameter is missing from the file or has another shape or dtype there.</exception>
    public static void LoadParameters(IEnumerable<Parameter> parameters, string path)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var list = parameters.ToList();
        var (file, data) = ReadVerified(path, ParametersFormat);
        foreach (var p in list)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(parameters));
            var t = file.Find(p.Name) ?? throw new ArgumentException($"Parameters file '{path}' has no tensor '{p.Name}'.", nameof(parameters));
            if (t.DType != ToSafe(p.DType) || !t.Shape.SequenceEqual(p.Shape.Select(d => (long)d)))
                throw new ArgumentException($"Parameters file '{path}': tensor '{p.Name}' is {t.DType} [{string.Join(", ", t.Shape)}], the parameter is {ToSafe(p.DType)} [{string.Join(", ", p.Shape)}].", nameof(parameters));
        }
        foreach (var p in list)
        {
            if (data[p.Name] is float[] f) f.CopyTo(p.Value<float>());
            else ((double[])data[p.Name]).CopyTo(p.Value<double>());
        }
    }

    // ---- format details ---------------------------------------------------------------------------------------

    static string LibraryVersion => typeof(Checkpoint).Assembly.GetName().Version?.ToString() ?? "unknown";

    static readonly JsonSerializerOptions Json = new()
    {
        // Upstream accepts NaN learning rates and the like; the checkpoint must carry them as they are.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };

    sealed record ParameterEntry(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("shape")] IReadOnlyList<int> Shape,
        [property: JsonPropertyName("dtype")] DType DType,
        [property: JsonPropertyName("has_state")] bool HasState);

    sealed record PartitionEntry(
        [property: JsonPropertyName("trunk_layers")] IReadOnlyList<string> TrunkLayers,
        [property: JsonPropertyName("cap_layers")] IReadOnlyList<string> CapLayers,
        [property: JsonPropertyName("trunk_parameters")] IReadOnlyList<string> TrunkParameters,
        [property: JsonPropertyName("cap_parameters")] IReadOnlyList<string> CapParameters);

    static Type? OptionsType(string kind) => kind switch
    {
        "AdamW" => typeof(AdamWOptions),
        "AdamSRF" => typeof(AdamSrfOptions),
        "HomeAdam" => typeof(HomeAdamOptions),
        "HomeAdamEW" => typeof(HomeAdamEWOptions),
        "STAC" => typeof(StacOptions),
        _ => null,
    };

    // Mirrors each optimizer's state: STAC's trunk keeps no counter; torch's AdamW (and STAC's AdamW cap) counts in a
    // float32 tensor, upstream HomeAdam in a Python int.
    static bool HasStepCounter(string kind, string? role) => !(kind == "STAC" && role == "trunk");

    static SafeTensorDType StepCounterDType(string kind) => kind is "AdamW" or "STAC" ? SafeTensorDType.F32 : SafeTensorDType.I64;

    static SafeTensorDType ToSafe(DType d) => d switch
    {
        DType.Float32 => SafeTensorDType.F32,
        DType.Float64 => SafeTensorDType.F64,
        DType.BFloat16 => SafeTensorDType.BF16,
        _ => SafeTensorDType.F16,
    };

    static DType? FromSafe(SafeTensorDType d) => d switch
    {
        SafeTensorDType.F32 => DType.Float32,
        SafeTensorDType.F64 => DType.Float64,
        SafeTensorDType.BF16 => DType.BFloat16,
        SafeTensorDType.F16 => DType.Float16,
        _ => null,
    };

    /// <summary>A 0-d tensor holding <paramref name="value"/> in <paramref name="dtype"/>, which must represent it exactly.</summary>
    static Array Scalar(double value, SafeTensorDType dtype, string name) => dtype switch
    {
        SafeTensorDType.F32 => new[] { ToExact<float>(value, dtype, name) },
        SafeTensorDType.F64 => new[] { value },
        SafeTensorDType.BF16 => new[] { ToExact<BFloat16>(value, dtype, name) },
        _ => new[] { ToExact<Half>(value, dtype, name) },
    };

    // The running products and float32 counters are kept in double but always hold values of their own dtype; a value
    // that is not would be silently changed by the narrowing, so it is an error rather than a rounding.
    static T ToExact<T>(double value, SafeTensorDType dtype, string name)
    {
        object narrowed = dtype switch
        {
            SafeTensorDType.F32 => (float)value,
            SafeTensorDType.BF16 => (BFloat16)(float)value,
            _ => (Half)(float)value,
        };
        double back = Widen(narrowed);
        if (BitConverter.DoubleToInt64Bits(back) != BitConverter.DoubleToInt64Bits(value) && !(double.IsNaN(back) && double.IsNaN(value)))
            throw new InvalidOperationException($"State value '{name}' = {value.ToString("R", CultureInfo.InvariantCulture)} is not exactly representable in {dtype}; the optimizer state is inconsistent.");
        return (T)narrowed;
    }

    static long ToInt64(double value, string name)
    {
        if (!(value >= 0 && value <= 9007199254740992.0) || Math.Floor(value) != value)
            throw new InvalidOperationException($"Step counter '{name}' = {value.ToString("R", CultureInfo.InvariantCulture)} is not a non-negative integer; the optimizer state is inconsistent.");
        return (long)value;
    }

    static double Widen(object scalar) => scalar switch
    {
        float f => f,
        double d => d,
        BFloat16 b => (float)b,
        Half h => (double)h,
        long l => l,
        _ => throw new InvalidOperationException($"Unexpected scalar {scalar.GetType().Name}."),
    };

    static void WriteWithChecksum(string path, List<SafeTensor> tensors, Dictionary<string, string> metadata)
    {
        var entries = new List<SafeTensorInfo>(tensors.Count);
        long offset = 0;
        foreach (var t in tensors)
        {
            long end = offset + t.Data.LongLength * SafeTensors.ElementSize(t.DType);
            entries.Add(new SafeTensorInfo(t.Name, t.DType, t.Shape, offset, end));
            offset = end;
        }
        entries.Sort(SafeTensors.DataOrder);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashHeader(hash, metadata, entries);
        foreach (var t in tensors) SafeTensors.ForEachSlice(t.Data, hash.AppendData);
        metadata["checksum"] = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        SafeTensors.Write(path, tensors, metadata);
    }

    static void HashHeader(IncrementalHash hash, IReadOnlyDictionary<string, string> metadata, IEnumerable<SafeTensorInfo> entries)
    {
        // Code-point order (= UTF-8 byte order) so that any language can reproduce it; UTF-16 ordinal order differs above U+FFFF.
        foreach (var key in metadata.Keys.Where(k => k != "checksum").OrderBy(k => Encoding.UTF8.GetBytes(k), Utf8Order.Instance))
            AppendFields(hash, key, metadata[key]);
        foreach (var e in entries)
            AppendFields(hash, e.Name, e.DType.ToString(), string.Join(",", e.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))),
                e.Begin.ToString(CultureInfo.InvariantCulture), e.End.ToString(CultureInfo.InvariantCulture));
    }

    static void AppendFields(IncrementalHash hash, params string[] fields)
    {
        foreach (var f in fields)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(f));
            hash.AppendData([0]);
        }
    }

    sealed class Utf8Order : IComparer<byte[]>
    {
        public static readonly Utf8Order Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    /// <summary>Opens <paramref name="path"/>, reads every tensor and verifies the format marker and the checksum.</summary>
    static (SafeTensorsFile File, Dictionary<string, Array> Data) ReadVerified(string path, string format)
    {
        var file = SafeTensors.Open(path);
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Fail(string problem) => throw new SafeTensorsFormatException(path, null, problem);
        if (!file.Metadata.TryGetValue("format", out var actual))
            Fail($"the metadata has no 'format' key, so this is not a file written by this library (expected format '{format}').");
        if (actual != format) Fail($"the file's format is '{actual}', expected '{format}'.");
        if (!file.Metadata.TryGetValue("format_version", out var version) || version != FormatVersion.ToString(CultureInfo.InvariantCulture))
            Fail($"format_version is '{version ?? "missing"}'; this library reads version {FormatVersion}.");
        if (!file.Metadata.TryGetValue("checksum", out var expected)) Fail("the metadata has no 'checksum' key.");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        HashHeader(hash, file.Metadata, file.Tensors);
        var data = new Dictionary<string, Array>(StringComparer.Ordinal);
        file.ReadAll((t, values) =>
        {
            SafeTensors.ForEachSlice(values, hash.AppendData);
            data[t.Name] = values;
        });
        string computed = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        if (computed != expected)
            Fail($"checksum mismatch: the metadata says {expected}, the contents hash to {computed}; the file is corrupted.");
        return (file, data);
    }

    /// <summary>Metadata lookups that fail with the file's name and the key.</summary>
    sealed class MetadataReader(SafeTensorsFile file)
    {
        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Fail(string problem, string? tensor = null) => throw new SafeTensorsFormatException(file.Path, tensor, problem);

        public string Get(string key) => file.Metadata.TryGetValue(key, out var v) ? v : throw new SafeTensorsFormatException(file.Path, null, $"the metadata has no '{key}' key.");

        public long Integer(string key, long max)
        {
            string text = Get(key);
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v > max)
                Fail($"metadata '{key}' is '{text}'; expected an integer from 0 to {max}.");
            return v;
        }

        public T FromJson<T>(string key)
        {
            string text = Get(key);
            try { return JsonSerializer.Deserialize<T>(text, Json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new SafeTensorsFormatException(file.Path, null, $"metadata '{key}' is not valid JSON for this format ({e.Message}).", e); }
        }

        public object OptionsFromJson(string key, Type type)
        {
            string text = Get(key);
            try
            {
                // Every option must be present: a missing one would silently take today's default, which may not be the
                // default the checkpoint was written under.
                using var document = JsonDocument.Parse(text);
                var expectedKeys = JsonDocument.Parse(JsonSerializer.Serialize(Activator.CreateInstance(type), type, Json)).RootElement.EnumerateObject().Select(p => p.Name);
                var missing = expectedKeys.Except(document.RootElement.EnumerateObject().Select(p => p.Name)).ToArray();
                if (missing.Length > 0) Fail($"metadata '{key}' lacks the option(s) {string.Join(", ", missing)}.");
                return JsonSerializer.Deserialize(text, type, Json) ?? throw new JsonException("null");
            }
            catch (JsonException e) { throw new SafeTensorsFormatException(file.Path, null, $"metadata '{key}' is not valid {type.Name} JSON ({e.Message}).", e); }
        }
    }

    /// <summary>Rebuilds the state dict and the parameter values from a verified file, checking that every tensor is where the metadata says.</summary>
    static (OptimizerState State, List<((int Group, int Index), Array Values)> Parameters) Parse(SafeTensorsFile file, MetadataReader meta, Dictionary<string, Array> data)
    {
        string kind = meta.Get("optimizer");
        var optionsType = OptionsType(kind);
        if (optionsType is null) meta.Fail($"metadata 'optimizer' is '{kind}'; expected AdamW, AdamSRF, HomeAdam, HomeAdamEW or STAC.");
        int groupCount = (int)meta.Integer("groups", 1_000_000);
        long skipped = meta.Integer("nonfinite_skipped_steps", long.MaxValue);
        string included = meta.Get("parameters_included");
        if (included is not ("true" or "false")) meta.Fail($"metadata 'parameters_included' is '{included}'; expected true or false.");
        StacPartitionNames? partition = null;
        if (file.Metadata.ContainsKey("partition"))
        {
            var p = meta.FromJson<PartitionEntry>("partition");
            if (p.TrunkLayers is null || p.CapLayers is null || p.TrunkParameters is null || p.CapParameters is null)
                meta.Fail("metadata 'partition' needs trunk_layers, cap_layers, trunk_parameters and cap_parameters.");
            partition = new StacPartitionNames(p.TrunkLayers, p.CapLayers, p.TrunkParameters, p.CapParameters);
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        Array Take(string name, SafeTensorDType? dtype, IReadOnlyList<long> shape)
        {
            var t = file.Find(name);
            if (t is null) meta.Fail("the metadata lists this tensor but the file does not hold it.", name);
            if (dtype is { } d && t.DType != d) meta.Fail($"dtype is {t.DType}, expected {d}.", name);
            if (!t.Shape.SequenceEqual(shape)) meta.Fail($"shape is [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}].", name);
            used.Add(name);
            return data[name];
        }

        var groups = new List<GroupState>(groupCount);
        var parameterValues = new List<((int, int), Array)>();
        for (int g = 0; g < groupCount; g++)
        {
            var options = (OptimizerOptions)meta.OptionsFromJson($"group.{g}.options", optionsType);
            string? role = file.Metadata.GetValueOrDefault($"group.{g}.role");
            var entries = meta.FromJson<ParameterEntry[]>($"group.{g}.parameters");
            var states = new ParameterState?[entries.Length];
            for (int i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                if (e.Name is null || e.Shape is null || e.Shape.Any(d => d < 0) || e.DType is not (DType.Float32 or DType.Float64))
                    meta.Fail($"metadata 'group.{g}.parameters' entry {i} needs a name, a shape of dimensions ≥ 0 and dtype Float32 or Float64.");
                long[] shape = e.Shape.Select(d => (long)d).ToArray();
                if (included == "true") parameterValues.Add(((g, i), Take($"param.{g}.{i}", ToSafe(e.DType), shape)));
                if (!e.HasState) continue;

                string prefix = $"state.{g}.{i}.";
                double step = 0;
                if (HasStepCounter(kind, role))
                {
                    var counter = Take(prefix + "step", StepCounterDType(kind), []);
                    step = counter is long[] l ? l[0] : ((float[])counter)[0];
                }
                double? p1 = null, p2 = null;
                var buffers = new Dictionary<string, StateTensor>(StringComparer.Ordinal);
                foreach (var t in file.Tensors)
                {
                    if (!t.Name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                    string buffer = t.Name[prefix.Length..];
                    if (buffer is "step" or "beta1_power" or "beta2_power") continue;
                    var dtype = FromSafe(t.DType);
                    if (dtype is null) meta.Fail($"a state buffer cannot be {t.DType}.", t.Name);
                    buffers[buffer] = new StateTensor(dtype.Value, Take(t.Name, null, shape));
                }
                if (kind is "AdamSRF" or "HomeAdam" or "HomeAdamEW")
                {
                    if (buffers.Count == 0) meta.Fail($"parameter {g}.{i} has state but no buffers.", prefix + "exp_avg");
                    var powerDType = ToSafe(buffers.Values.First().DType);
                    p1 = Widen(Take(prefix + "beta1_power", powerDType, []).GetValue(0)!);
                    p2 = Widen(Take(prefix + "beta2_power", powerDType, []).GetValue(0)!);
                }
                states[i] = new ParameterState(step, p1, p2, buffers);
            }
            groups.Add(new GroupState(options, role, entries.Select(e => e.Name).ToArray(), entries.Select(e => e.Shape).ToArray(), entries.Select(e => e.DType).ToArray(), states));
        }
        foreach (var t in file.Tensors)
            if (!used.Contains(t.Name)) meta.Fail("the tensor is not described by the metadata (unexpected name, or a group or parameter index out of range).", t.Name);
        return (new OptimizerState(kind, groups, skipped, partition), parameterValues);
    }
}

/// <summary>Checkpoint methods on the optimizer itself, for discoverability; see <see cref="Checkpoint"/>.</summary>
public static class CheckpointExtensions
{
    /// <summary>Saves the optimizer's full state (and, by default, its parameters) to <paramref name="path"/>; see <see cref="Checkpoint.Save"/>.</summary>
    /// <inheritdoc cref="Checkpoint.Save"/>
    public static void SaveCheckpoint(this Optimizer optimizer, string path, bool includeParameters = true) => Checkpoint.Save(optimizer, path, includeParameters);

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/>; see <see cref="Checkpoint.Load"/>.</summary>
    /// <inheritdoc cref="Checkpoint.Load"/>
    public static void LoadCheckpoint(this Optimizer optimizer, string path) => Checkpoint.Load(optimizer, path);
}
