using System.Text.Json;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>The shared binder of recorded upstream arguments: CPython's binding rules and upstream's defaults.</summary>
public sealed class UpstreamKwargsTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Optimizers.sln")))
                return TrajectoryReader.Read(Path.Combine(dir.FullName, "conformance", "golden", "upstream-public.json"));
        throw new FileNotFoundException("no folder above the test binaries holds Optimizers.sln");
    });

    static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    static Dictionary<string, JsonElement> Args(params (string Key, string Json)[] items) =>
        items.ToDictionary(i => i.Key, i => Json(i.Json), StringComparer.Ordinal);

    [Fact]
    public void Binding_errors_reproduce_CPythons_message_for_every_recorded_binding_TypeError()
    {
        var binding = Golden.Value.Errors.Where(e => e.Exception == "TypeError" && e.Message is { } m
            && (m.Contains("unexpected keyword argument") || m.Contains("positional arguments"))).ToList();
        Assert.NotEmpty(binding);
        foreach (var record in binding)
        {
            var e = Assert.Throws<UpstreamCallException>(() => UpstreamKwargs.Bind(record.Optimizer, record.Args));
            Assert.Equal("TypeError", e.Kind);
            Assert.Equal(record.Message, e.Message);
            Assert.Equal(UpstreamKwargs.ArgumentNamedBy(record.Message), e.Argument);
        }
    }

    [Fact]
    public void Every_recorded_constructor_error_names_an_argument()
    {
        foreach (var record in Golden.Value.Errors.Where(e => e.Stage == "constructor" && e.Exception is not null))
            Assert.True(UpstreamKwargs.ArgumentNamedBy(record.Message) is not null, $"{record.Id}: '{record.Message}' names no argument");
    }

    [Fact]
    public void Positionals_bind_in_signature_order_and_defaults_fill_the_rest()
    {
        var a = UpstreamKwargs.Bind("HomeAdamEW", Args(("positional", "[0.01, [0.8, 0.9], 1e-6, 0.1, 0.5]")));
        Assert.Equal(0.01, a.Double("lr"));
        Assert.Equal((0.8, 0.9), a.Betas());
        Assert.Equal(0.5, a.Double("tau"));
        Assert.Equal("denom", a.String("update_mode"));
        Assert.Equal(DTypeArgumentKind.Floating, a.TorchDType("state_dtype").Kind);
        Assert.Equal("float32", a.TorchDType("state_dtype").Name);

        var twice = Assert.Throws<UpstreamCallException>(() => UpstreamKwargs.Bind("AdamSRF", Args(("positional", "[0.01]"), ("lr", "0.1"))));
        Assert.Equal("lr", twice.Argument);

        var stac = UpstreamKwargs.Bind("STAC", Args());
        Assert.Equal((0.9, 0.999), stac.Betas());
        Assert.Equal(1e-8, stac.Double("eps"));
        Assert.Null(stac.DoubleOrNone("trunk_lr"));
        Assert.Equal(1L, stac.Integer("last_n_layers"));
        var adamW = UpstreamKwargs.Bind("AdamW", Args());
        Assert.Equal(0.01, adamW.Double("weight_decay"));
        Assert.Null(adamW.BoolOrNone("foreach"));
    }

    [Fact]
    public void Non_finite_strings_and_non_integral_last_n_layers()
    {
        var a = UpstreamKwargs.Bind("HomeAdam", Args(("tau", "\"NaN\""), ("lr", "\"Infinity\"")));
        Assert.True(double.IsNaN(a.Double("tau")));
        Assert.Equal(double.PositiveInfinity, a.Double("lr"));
        var e = Assert.Throws<UpstreamCallException>(() => UpstreamKwargs.Bind("STAC", Args(("last_n_layers", "1.5"))).Integer("last_n_layers"));
        Assert.Equal(("TypeError", "last_n_layers"), (e.Kind, e.Argument));
    }

    [Theory]
    [InlineData("\" Match_Parameter \"", DTypeArgumentKind.FollowParameter, null)]
    [InlineData("\"parameter\"", DTypeArgumentKind.FollowParameter, null)]
    [InlineData("null", DTypeArgumentKind.FollowParameter, null)]
    [InlineData("\"BF16\"", DTypeArgumentKind.Floating, "bfloat16")]
    [InlineData("\"half\"", DTypeArgumentKind.Floating, "float16")]
    [InlineData("\"fp64\"", DTypeArgumentKind.Floating, "float64")]
    [InlineData("\"torch.float32\"", DTypeArgumentKind.Floating, "float32")]
    [InlineData("\"fp16\"", DTypeArgumentKind.UnknownString, "fp16")]
    [InlineData("\"int32\"", DTypeArgumentKind.NonFloating, "int32")]
    public void Stac_trunk_state_dtype_accepts_upstreams_aliases(string json, DTypeArgumentKind kind, string? name)
    {
        var parsed = UpstreamKwargs.ParseStacTrunkStateDType(Json(json));
        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(name, parsed.Name);
    }

    [Theory]
    [InlineData("\"float64\"", DTypeArgumentKind.Floating, "float64")]
    [InlineData("\"bfloat16\"", DTypeArgumentKind.Floating, "bfloat16")]
    [InlineData("\"int32\"", DTypeArgumentKind.NonFloating, "int32")]
    [InlineData("\"bf16\"", DTypeArgumentKind.UnknownString, "bf16")]
    [InlineData("null", DTypeArgumentKind.FollowParameter, null)]
    public void Homeadam_state_dtype_is_a_torch_dtype_or_None(string json, DTypeArgumentKind kind, string? name)
    {
        var parsed = UpstreamKwargs.ParseTorchDType(Json(json));
        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(name, parsed.Name);
    }
}
