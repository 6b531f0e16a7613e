using Optimizers.Checkpoints;
using static Optimizers.Tests.Checkpoints.CheckpointScenarios;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests.Checkpoints;

/// <summary>Resuming from a checkpoint continues bit-identically to a run that never stopped, for every optimizer kind and state dtype.</summary>
public sealed class CheckpointRoundTripTests : IDisposable
{
    const int StepsBeforeSave = 3, StepsAfterSave = 4;
    readonly string _dir = Directory.CreateTempSubdirectory("ckpt-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static IEnumerable<object[]> Scenarios => Names;

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Resuming_from_a_checkpoint_continues_bit_identically(string scenario)
    {
        string path = Path.Combine(_dir, "resume.safetensors");
        var straight = All[scenario](1);
        Run(straight, 0, StepsBeforeSave);
        Checkpoint.Save(straight.Optimizer, path);
        var atSave = Fingerprint(straight.Optimizer, straight.Parameters);
        Run(straight, StepsBeforeSave, StepsBeforeSave + StepsAfterSave);

        // Other initial values, and state of its own from a few steps, so that anything Load fails to overwrite shows.
        var resumed = All[scenario](2);
        Run(resumed, 2, 6);
        Checkpoint.Load(resumed.Optimizer, path);
        Assert.Equal(atSave, Fingerprint(resumed.Optimizer, resumed.Parameters));
        for (int g = 0; g < straight.Optimizer.GroupCount; g++)
            Assert.Equal(OptionsText(straight.Optimizer.GroupOptions(g)), OptionsText(resumed.Optimizer.GroupOptions(g)));
        Run(resumed, StepsBeforeSave, StepsBeforeSave + StepsAfterSave);

        Assert.Equal(Fingerprint(straight.Optimizer, straight.Parameters), Fingerprint(resumed.Optimizer, resumed.Parameters));
    }

    [Fact]
    public void The_scenarios_cover_every_optimizer_kind_and_state_dtype()
    {
        var built = All.Values.Select(f => f(1)).ToList();
        Assert.Equal(["AdamSRF", "AdamW", "HomeAdam", "HomeAdamEW", "STAC"], built.Select(b => b.Optimizer.Kind).Distinct().Order(StringComparer.Ordinal));
        var stateDTypes = built.SelectMany(b =>
        {
            Run(b, 0, 5);
            return b.Optimizer.StateDict().Groups.SelectMany(g => g.Parameters).Where(p => p is not null).SelectMany(p => p!.Buffers.Values.Select(t => t.DType));
        }).Distinct().Order();
        Assert.Equal([DType.Float32, DType.Float64, DType.BFloat16, DType.Float16], stateDTypes);
    }

    [Fact]
    public void A_checkpoint_without_parameters_restores_the_state_and_leaves_the_parameters_alone()
    {
        string path = Path.Combine(_dir, "state-only.safetensors");
        var source = All["HomeAdam state BFloat16"](1);
        Run(source, 0, 5);
        Checkpoint.Save(source.Optimizer, path, includeParameters: false);
        Assert.Null(SafeTensors.Open(path).Find("param.0.0"));

        var target = All["HomeAdam state BFloat16"](2);
        var parametersBefore = target.Parameters.SelectMany(Bits).ToList();
        target.Optimizer.LoadCheckpoint(path);
        Assert.Equal(parametersBefore, target.Parameters.SelectMany(Bits).ToList());
        Assert.Equal(Fingerprint(source.Optimizer, []), Fingerprint(target.Optimizer, []));
    }

    [Fact]
    public void Options_round_trip_bit_for_bit_including_negative_zero_subnormals_and_nulls()
    {
        // −0 passes the checks (−0 ≥ 0); NaN no longer does (paper-notes/deviations.md). The checkpoint must keep every bit.
        string path = Path.Combine(_dir, "options.safetensors");
        var model = StackedNet(DType.Float32);
        var options = new StacOptions { Lr = 0.1 + 0.2, WeightDecay = -0.0, TrunkLr = 1.0 / 3.0, CapLr = null, Eps = double.Epsilon, NonFinitePolicy = NonFinitePolicy.Throw };
        var source = new Stac(model, options);
        Checkpoint.Save(source, path);
        var target = new Stac(StackedNet(DType.Float32), new StacOptions { NonFinitePolicy = NonFinitePolicy.Throw });
        Checkpoint.Load(target, path);
        var loaded = target.Options;
        Assert.Equal(BitConverter.DoubleToInt64Bits(0.1 + 0.2), BitConverter.DoubleToInt64Bits(loaded.Lr));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(loaded.WeightDecay));
        Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 / 3.0), BitConverter.DoubleToInt64Bits(loaded.TrunkLr!.Value));
        Assert.Null(loaded.CapLr);
        Assert.Equal(double.Epsilon, loaded.Eps);
        Assert.Equal(OptionsText(options), OptionsText(loaded));
    }

    [Fact]
    public void Parameters_files_round_trip_and_refuse_a_missing_or_reshaped_parameter_without_changing_anything()
    {
        string path = Path.Combine(_dir, "weights.safetensors");
        var source = All["AdamW amsgrad, two groups, mixed dtypes"](1);
        Checkpoint.SaveParameters(source.Parameters, path);
        var target = All["AdamW amsgrad, two groups, mixed dtypes"](2);
        Checkpoint.LoadParameters(target.Parameters, path);
        Assert.Equal(source.Parameters.SelectMany(Bits), target.Parameters.SelectMany(Bits));

        var other = new List<Parameter> { Parameter.Create("a.w", new float[15], 5, 3), Parameter.Create("zzz", new float[1], 1) };
        var before = other.SelectMany(Bits).ToList();
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadParameters(other, path));
        Assert.Contains("tensor 'a.w' is F32 [3, 5], the parameter is F32 [5, 3]", e.Message);
        Assert.Equal(before, other.SelectMany(Bits).ToList());
        e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadParameters([Parameter.Create("zzz", new float[1], 1)], path));
        Assert.Contains("has no tensor 'zzz'", e.Message);
    }

    [Fact]
    public void Saving_replaces_the_previous_file_and_leaves_no_temporary_file_behind()
    {
        string path = Path.Combine(_dir, "replace.safetensors");
        var b = All["AdamW float32"](1);
        Run(b, 0, 2);
        Checkpoint.Save(b.Optimizer, path);
        Run(b, 2, 3);
        Checkpoint.Save(b.Optimizer, path);
        Assert.Equal([path], Directory.GetFiles(_dir));
        var check = All["AdamW float32"](3);
        Checkpoint.Load(check.Optimizer, path);
        Assert.Equal(Fingerprint(b.Optimizer, b.Parameters), Fingerprint(check.Optimizer, check.Parameters));
    }

    internal static string OptionsText(OptimizerOptions o) => System.Text.Json.JsonSerializer.Serialize(o, o.GetType(),
        new System.Text.Json.JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
}
