using System.Text;
using Optimizers.Checkpoints;
using static Optimizers.Tests.Checkpoints.CheckpointScenarios;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests.Checkpoints;

/// <summary>Corrupted files and mismatched optimizers are refused with a message that says what is wrong, and nothing changes.</summary>
public sealed class CheckpointRefusalTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ckpt-refusal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string SavedCheckpoint(string scenario, string name = "ckpt.safetensors")
    {
        string path = Path.Combine(_dir, name);
        var b = All[scenario](1);
        Run(b, 0, 5);
        Checkpoint.Save(b.Optimizer, path);
        return path;
    }

    /// <summary>A target with state of its own, its fingerprint, and an assertion that loading <paramref name="path"/> throws and changes nothing.</summary>
    static TException RefusedWithoutChange<TException>(Built target, string path) where TException : Exception
    {
        var before = Fingerprint(target.Optimizer, target.Parameters);
        var options = Enumerable.Range(0, target.Optimizer.GroupCount).Select(g => CheckpointRoundTripTests.OptionsText(target.Optimizer.GroupOptions(g))).ToList();
        var e = Assert.Throws<TException>(() => Checkpoint.Load(target.Optimizer, path));
        Assert.Equal(before, Fingerprint(target.Optimizer, target.Parameters));
        Assert.Equal(options, Enumerable.Range(0, target.Optimizer.GroupCount).Select(g => CheckpointRoundTripTests.OptionsText(target.Optimizer.GroupOptions(g))));
        return e;
    }

    static Built Stepped(string scenario)
    {
        var b = All[scenario](2);
        Run(b, 0, 2);
        return b;
    }

    static long DataStart(string path) => SafeTensors.Open(path).DataStart;

    [Fact]
    public void A_flipped_byte_in_a_state_buffer_fails_the_checksum()
    {
        string path = SavedCheckpoint("HomeAdamEW state Float32");
        var file = SafeTensors.Open(path);
        var moment = file.Find("state.0.0.exp_avg")!;
        var bytes = File.ReadAllBytes(path);
        bytes[file.DataStart + moment.Begin + 5] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var e = RefusedWithoutChange<SafeTensorsFormatException>(Stepped("HomeAdamEW state Float32"), path);
        Assert.Contains("checksum mismatch", e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void A_changed_digit_in_the_saved_options_fails_the_checksum()
    {
        string path = SavedCheckpoint("AdamW float32");
        var bytes = File.ReadAllBytes(path);
        // Lr 0.01 → 0.02: still valid JSON and valid options, so only the checksum can tell.
        byte[] needle = "\\u0022Lr\\u0022:0.01"u8.ToArray();
        int at = IndexOf(bytes, needle);
        Assert.True(at >= 0, "the options JSON holds Lr 0.01");
        bytes[at + needle.Length - 1] = (byte)'2';
        File.WriteAllBytes(path, bytes);

        var e = RefusedWithoutChange<SafeTensorsFormatException>(Stepped("AdamW float32"), path);
        Assert.Contains("checksum mismatch", e.Message);
    }

    [Fact]
    public void Flipping_any_byte_of_a_small_checkpoint_is_refused()
    {
        // Every byte matters: the length prefix, the header (JSON syntax, names, offsets, metadata), the padding, the data.
        string path = SavedCheckpoint("STAC trunk state BFloat16");
        var original = File.ReadAllBytes(path);
        var target = Stepped("STAC trunk state BFloat16");
        var before = Fingerprint(target.Optimizer, target.Parameters);
        int dataStart = (int)DataStart(path);
        var positions = Enumerable.Range(0, 8).Concat(Enumerable.Range(8, dataStart - 8).Where(i => i % 7 == 0)).Concat(Enumerable.Range(dataStart, original.Length - dataStart).Where(i => i % 5 == 0));
        foreach (int i in positions)
        {
            var bytes = (byte[])original.Clone();
            bytes[i] ^= 0x04;
            File.WriteAllBytes(path, bytes);
            Exception? e = Record.Exception(() => Checkpoint.Load(target.Optimizer, path));
            Assert.True(e is SafeTensorsFormatException, $"flipping byte {i} gave {e?.GetType().Name ?? "no error"}: {e?.Message}");
        }
        Assert.Equal(before, Fingerprint(target.Optimizer, target.Parameters));
    }

    [Fact]
    public void A_truncated_file_is_refused_with_a_clear_error()
    {
        string path = SavedCheckpoint("HomeAdam state Float16");
        var original = File.ReadAllBytes(path);
        int dataStart = (int)DataStart(path);
        foreach (int length in new[] { 0, 5, 8, 40, dataStart - 1, dataStart, dataStart + 3, original.Length - 1 })
        {
            File.WriteAllBytes(path, original[..length]);
            var e = RefusedWithoutChange<SafeTensorsFormatException>(Stepped("HomeAdam state Float16"), path);
            Assert.Contains("truncated", e.Message);
            Assert.StartsWith(path, e.Message);
        }
    }

    [Fact]
    public void A_missing_file_is_a_file_not_found_error()
        => Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(Stepped("AdamW float32").Optimizer, Path.Combine(_dir, "absent.safetensors")));

    [Fact]
    public void A_plain_safetensors_file_is_not_taken_for_a_checkpoint()
    {
        string path = Path.Combine(_dir, "plain.safetensors");
        SafeTensors.Write(path, [new SafeTensor("x", SafeTensorDType.F32, [2], new float[] { 1, 2 })]);
        var e = RefusedWithoutChange<SafeTensorsFormatException>(Stepped("AdamW float32"), path);
        Assert.Contains("no 'format' key", e.Message);
    }

    [Fact]
    public void Another_optimizer_kind_is_refused()
    {
        string path = SavedCheckpoint("AdamW float32");
        var e = RefusedWithoutChange<ArgumentException>(Stepped("AdamSRF state Float32"), path);
        Assert.Contains("does not fit this optimizer", e.Message);
        Assert.Contains("it was saved by AdamW, this optimizer is AdamSRF", e.Message);
    }

    [Fact]
    public void Another_state_dtype_is_refused()
    {
        string path = SavedCheckpoint("HomeAdam state BFloat16");
        var e = RefusedWithoutChange<ArgumentException>(Stepped("HomeAdam state Float32"), path);
        Assert.Contains("exp_avg:BFloat16", e.Message);
        Assert.Contains("exp_avg:Float32", e.Message);
    }

    [Fact]
    public void Another_trunk_state_dtype_is_refused()
    {
        string path = SavedCheckpoint("STAC trunk state Float16");
        var e = RefusedWithoutChange<ArgumentException>(Stepped("STAC trunk state Float64"), path);
        Assert.Contains("trunk_momentum_buffer:Float16", e.Message);
    }

    [Fact]
    public void Another_stac_partition_is_refused()
    {
        string path = SavedCheckpoint("STAC float64, amsgrad cap of two layers");
        var target = new Stac(StackedNet(DType.Float64), new StacOptions { LastNLayers = 1, Amsgrad = true, TrunkMomentum = 0.8 });
        var ps = AllParameters(target);
        var e = RefusedWithoutChange<ArgumentException>(new Built(target, ps), path);
        Assert.Contains("STAC partition trunk [stem, block.0] / cap [block.2, head]", e.Message);
        Assert.Contains("this optimizer has trunk [stem, block.0, block.2] / cap [head]", e.Message);
    }

    [Fact]
    public void Other_shapes_dtypes_counts_and_names_are_refused()
    {
        string path = SavedCheckpoint("AdamW float32");
        AdamW Build(params Parameter[] ps) => new(ps, new AdamWOptions { Lr = 1e-2, WeightDecay = 0.1 });
        Built Of(params Parameter[] ps) { var o = Build(ps); var b = new Built(o, [.. ps]); Run(b, 0, 2); return b; }

        var e = RefusedWithoutChange<ArgumentException>(Of(new Parameter("w", [5, 3]), new Parameter("b", [5]), new Parameter("late", [4]), new Parameter("empty", [0])), path);
        Assert.Contains("parameter 'w' has shape [3, 5] in the state dict, [5, 3] here", e.Message);

        e = RefusedWithoutChange<ArgumentException>(Of(new Parameter("w", [3, 5], DType.Float64), new Parameter("b", [5], DType.Float64), new Parameter("late", [4], DType.Float64), new Parameter("empty", [0], DType.Float64)), path);
        Assert.Contains("parameter 'w' has dtype Float32 in the state dict, Float64 here", e.Message);

        e = RefusedWithoutChange<ArgumentException>(Of(new Parameter("w", [3, 5]), new Parameter("b", [5]), new Parameter("late", [4])), path);
        Assert.Contains("group 0 has 4 parameters, this optimizer's has 3", e.Message);

        e = RefusedWithoutChange<ArgumentException>(Of(new Parameter("w", [3, 5]), new Parameter("bias", [5]), new Parameter("late", [4]), new Parameter("empty", [0])), path);
        Assert.Contains("group 0 parameter 1 is named 'b', here it is 'bias'", e.Message);

        var twoGroups = new AdamW([new ParamGroup<AdamWOptions>([new Parameter("w", [3, 5]), new Parameter("b", [5])]), new ParamGroup<AdamWOptions>([new Parameter("late", [4]), new Parameter("empty", [0])])]);
        e = RefusedWithoutChange<ArgumentException>(new Built(twoGroups, AllParameters(twoGroups)), path);
        Assert.Contains("it has 1 parameter groups, this optimizer has 2", e.Message);
    }

    static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    [Fact]
    public void A_tensor_the_metadata_does_not_describe_is_refused_by_name()
    {
        // Rewrite a valid checkpoint with one extra tensor and a checksum that matches, so only the structure is wrong.
        string path = SavedCheckpoint("AdamW float32");
        var file = SafeTensors.Open(path);
        var tensors = file.Tensors.Select(t => new SafeTensor(t.Name, t.DType, t.Shape, file.ReadData(t))).ToList();
        tensors.Add(new SafeTensor("state.0.9.exp_avg", SafeTensorDType.F32, [1], new float[] { 1 }));
        var metadata = file.Metadata.ToDictionary();
        metadata["checksum"] = ChecksumOf(metadata, tensors);
        SafeTensors.Write(path, tensors, metadata);

        var e = RefusedWithoutChange<SafeTensorsFormatException>(Stepped("AdamW float32"), path);
        Assert.Equal("state.0.9.exp_avg", e.TensorName);
        Assert.Contains("not described by the metadata", e.Message);
    }

    /// <summary>The checksum rule as documented on <see cref="Checkpoint"/>, written out independently.</summary>
    internal static string ChecksumOf(Dictionary<string, string> metadata, List<SafeTensor> tensors)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        void Field(string s) { sha.AppendData(Encoding.UTF8.GetBytes(s)); sha.AppendData([0]); }
        foreach (var k in metadata.Keys.Where(k => k != "checksum").OrderBy(k => k, StringComparer.Ordinal)) { Field(k); Field(metadata[k]); }
        long offset = 0;
        foreach (var t in tensors)
        {
            long end = offset + t.Data.Length * SafeTensors.ElementSize(t.DType);
            Field(t.Name); Field(t.DType.ToString()); Field(string.Join(",", t.Shape)); Field(offset.ToString()); Field(end.ToString());
            offset = end;
        }
        foreach (var t in tensors)
        {
            var bytes = new byte[Buffer.ByteLength(t.Data)];
            Buffer.BlockCopy(t.Data, 0, bytes, 0, bytes.Length);
            sha.AppendData(bytes);
        }
        return "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
