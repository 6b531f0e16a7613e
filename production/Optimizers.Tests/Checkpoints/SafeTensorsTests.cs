using System.Buffers.Binary;
using System.Text;
using Optimizers.Checkpoints;
using Optimizers.Numerics;

namespace Optimizers.Tests.Checkpoints;

/// <summary>The safetensors layer on its own: the byte layout it writes, and every kind of malformed file it refuses.</summary>
public sealed class SafeTensorsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Every_dtype_0d_and_empty_tensors_round_trip_with_the_documented_layout()
    {
        string path = PathOf("all.safetensors");
        var tensors = new List<SafeTensor>
        {
            new("f32", SafeTensorDType.F32, [2, 3], new float[] { 1, -2, float.NaN, float.PositiveInfinity, -0f, float.Epsilon }),
            new("f64", SafeTensorDType.F64, [], new[] { Math.PI }),
            new("bf16", SafeTensorDType.BF16, [3], new[] { (BFloat16)1.5f, (BFloat16)(-3e38f), BFloat16.FromBits(0x0001) }),
            new("f16", SafeTensorDType.F16, [1, 2], new[] { (Half)0.1f, Half.MinValue }),
            new("empty", SafeTensorDType.F32, [0, 4], Array.Empty<float>()),
            new("i64", SafeTensorDType.I64, [], new[] { long.MinValue }),
        };
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["note"] = "ünïcode \"quoted\"" });

        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.Equal(' ', (char)bytes[8 + (int)n - 1]);
        // Data: 24 + 8 + 6 + 4 + 0 + 8 bytes, packed in the order given.
        Assert.Equal(8 + (long)n + 50, bytes.Length);
        Assert.Equal(BitConverter.GetBytes(Math.PI), bytes[(8 + (int)n + 24)..(8 + (int)n + 32)]);

        var file = SafeTensors.Open(path);
        Assert.Equal("ünïcode \"quoted\"", file.Metadata["note"]);
        Assert.Equal(["f32", "f64", "bf16", "f16", "empty", "i64"], file.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var info = file.Find(t.Name)!;
            Assert.Equal(t.DType, info.DType);
            Assert.Equal(t.Shape, info.Shape);
            Assert.Equal(Raw(t.Data), Raw(file.ReadData(info)));
        }
    }

    static byte[] Raw(Array data)
    {
        var bytes = new List<byte>();
        SafeTensors.ForEachSlice(data, s => bytes.AddRange(s.ToArray()));
        return bytes.ToArray();
    }

    [Fact]
    public void The_writer_refuses_inconsistent_tensors_and_leaves_the_target_alone()
    {
        string path = PathOf("target.safetensors");
        SafeTensors.Write(path, [new SafeTensor("x", SafeTensorDType.F32, [1], new float[] { 7 })]);
        var before = File.ReadAllBytes(path);
        void Refused(SafeTensor bad, string message)
        {
            var e = Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, [bad]));
            Assert.Contains(message, e.Message);
            Assert.Equal(before, File.ReadAllBytes(path));
        }
        Refused(new SafeTensor("x", SafeTensorDType.F64, [1], new float[] { 1 }), "Tensor 'x' is F64 but its data is Single[]");
        Refused(new SafeTensor("x", SafeTensorDType.F32, [2, 2], new float[] { 1 }), "Tensor 'x' has shape [2, 2] (4 elements) but 1 values");
        Refused(new SafeTensor("__metadata__", SafeTensorDType.F32, [1], new float[] { 1 }), "Invalid tensor name '__metadata__'");
        Refused(new SafeTensor("x", SafeTensorDType.F32, [-1], new float[] { 1 }), "every dimension must be ≥ 0");
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Write(path,
            [new SafeTensor("x", SafeTensorDType.F32, [1], new float[] { 1 }), new SafeTensor("x", SafeTensorDType.F32, [1], new float[] { 1 })]));
        Assert.Contains("appears more than once", e.Message);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    /// <summary>A file from a hand-written header and data, for the malformed cases the writer never produces.</summary>
    string Craft(string header, int dataBytes, ulong? headerLength = null)
    {
        string path = PathOf($"crafted-{Guid.NewGuid():N}.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static SafeTensorsFormatException Refused(string path, string? tensor, string message)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Open(path));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        Assert.StartsWith(path, e.Message);
        if (tensor is not null) Assert.Contains($"tensor '{tensor}'", e.Message);
        Assert.Contains(message, e.Message);
        return e;
    }

    [Fact]
    public void A_well_formed_crafted_file_is_accepted() // so that the refusals below are about the one defect each carries
    {
        var file = SafeTensors.Open(Craft("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}""", 16));
        Assert.Equal(["a", "b"], file.Tensors.Select(t => t.Name));
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Header_length_out_of_range_is_refused()
    {
        Refused(Craft("{}", 0, headerLength: 1), null, "the header length is 1; expected 2 ≤ N ≤ 100000000");
        Refused(Craft("{}", 0, headerLength: ulong.MaxValue), null, "the header length is 18446744073709551615");
        Refused(Craft("{}", 0, headerLength: 50), null, "the header length is 50 but only 2 bytes follow it (truncated file)");
    }

    [Fact]
    public void A_header_that_is_not_the_expected_json_is_refused()
    {
        Refused(Craft("{\"a\":", 0), null, "the header is not valid UTF-8 JSON");
        Refused(Craft("[1,2]", 0), null, "the header is not a JSON object");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "a", "appears more than once");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1]}}""", 4), "a", "needs dtype, shape and data_offsets");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}""", 4), "a", "unexpected field 'extra'");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4), "a", "shape holds -1; expected integers ≥ 0");
        Refused(Craft("""{"__metadata__":{"k":1}}""", 0), null, "metadata value 'k' is Number");
    }

    [Fact]
    public void Unknown_dtypes_and_shapes_that_disagree_with_the_byte_length_are_refused()
    {
        Refused(Craft("""{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}""", 4), "a", "unsupported dtype 'U8'");
        Refused(Craft("""{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}""", 4), "a", "unsupported dtype 'f32'");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8), "a", "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8");
        Refused(Craft("""{"a":{"dtype":"F64","shape":[],"data_offsets":[0,4]}}""", 4), "a", "needs 8 bytes");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4), "a", "end before they begin");
    }

    [Fact]
    public void Offsets_out_of_range_overlapping_or_leaving_gaps_are_refused()
    {
        Refused(Craft("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4), "a", "run past the data region, which has 4 bytes (truncated file)");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "b", "overlap the previous tensor, which ends at 8");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12), "b", "leave a gap after byte 4");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8), "a", "leave a gap after byte 0");
        Refused(Craft("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12), null, "the tensors cover 4 bytes but 12 bytes follow the header");
    }
}
