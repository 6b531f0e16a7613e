using System.Text.Json;
using Optimizers.Checkpoints;
using static Optimizers.Tests.Checkpoints.CheckpointScenarios;

namespace Optimizers.Tests.Checkpoints;

/// <summary>A checkpoint is readable from Python with numpy alone: read_checkpoint.py verifies the checksum and returns the same numbers.</summary>
public sealed class CheckpointPythonTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ckpt-python-").FullName;
    static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Checkpoints", "read_checkpoint.py");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static double[] ReadWithNumpy(string path, string tensor)
    {
        var (exit, stdout, stderr) = PythonNumpyFactAttribute.Run([Script, path, tensor]);
        Assert.True(exit == 0, $"read_checkpoint.py failed ({exit}): {stderr}");
        return JsonSerializer.Deserialize<double[]>(stdout, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })!;
    }

    static long[] Bits(IEnumerable<double> xs) => xs.Select(BitConverter.DoubleToInt64Bits).ToArray();

    [PythonNumpyFact]
    public void Numpy_reads_the_same_values_in_every_dtype_and_verifies_the_checksum()
    {
        foreach (var scenario in new[] { "HomeAdam state BFloat16", "HomeAdamEW state Float16", "AdamSRF state Float64", "STAC trunk state BFloat16" })
        {
            string path = Path.Combine(_dir, "numpy.safetensors");
            var b = All[scenario](1);
            Run(b, 0, 5);
            Checkpoint.Save(b.Optimizer, path);
            var state = b.Optimizer.StateDict();
            var ps = state.Groups[0].Parameters[0]!;
            foreach (var (name, buffer) in ps.Buffers)
                Assert.Equal(Bits(buffer.ToDoubles()), Bits(ReadWithNumpy(path, $"state.0.0.{name}")));
            if (ps.Beta1Power is { } p1) Assert.Equal(Bits([p1]), Bits(ReadWithNumpy(path, "state.0.0.beta1_power")));
            Assert.Equal(Bits(TestModels.Values(b.Parameters[0])), Bits(ReadWithNumpy(path, "param.0.0")));
        }
    }

    [PythonNumpyFact]
    public void Numpy_reader_lists_a_checkpoint_and_rejects_a_corrupted_one()
    {
        string path = Path.Combine(_dir, "list.safetensors");
        var b = All["STAC float64, amsgrad cap of two layers"](1);
        Run(b, 0, 3);
        Checkpoint.Save(b.Optimizer, path);
        var (exit, stdout, stderr) = PythonNumpyFactAttribute.Run([Script, path]);
        Assert.True(exit == 0, stderr);
        Assert.Contains("optimizer = STAC", stdout);
        Assert.Contains("state.1.0.max_exp_avg_sq: float64", stdout);
        Assert.Contains("state.1.0.step: float32 []", stdout);

        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 1;
        File.WriteAllBytes(path, bytes);
        (exit, _, stderr) = PythonNumpyFactAttribute.Run([Script, path]);
        Assert.NotEqual(0, exit);
        Assert.Contains("checksum mismatch", stderr);
    }
}
