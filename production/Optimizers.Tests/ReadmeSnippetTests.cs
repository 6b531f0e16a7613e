using Optimizers.Tests.Checkpoints;

namespace Optimizers.Tests;

/// <summary>The package README's STAC snippet runs, and the README shows exactly the code run here; plus a HomeAdamEW run with telemetry.</summary>
public class ReadmeSnippetTests
{
    [Fact]
    public void The_readme_stac_snippet_partitions_as_its_comment_says()
    {
        // stac:begin
        var model = new Module("Net");
        model.RegisterModule("body", new Module("Linear")).RegisterParameter("weight", new Parameter("body.weight", [4, 4]));
        model.RegisterModule("head", new Module("Linear")).RegisterParameter("weight", new Parameter("head.weight", [1, 4]));
        var stac = new Stac(model, new StacOptions { Lr = 3e-3, LastNLayers = 1, WeightDecay = 1e-2 });
        // stac.TrunkLayerNames == ["body"], stac.CapLayerNames == ["head"]
        // stac:end
        Assert.Equal(["body"], stac.TrunkLayerNames);
        Assert.Equal(["head"], stac.CapLayerNames);
    }

    [Fact]
    public void The_package_readme_shows_the_stac_snippet_that_this_test_runs()
        => PackageReadme.AssertShows("STAC", "ReadmeSnippetTests.cs.txt", "stac");

    [Fact]
    public void An_ew_run_with_telemetry_descends()
    {
        var w = Parameter.Create("w", new float[] { 1f, 2f, 3f }, 3);
        var b = Parameter.Create("b", new float[] { 0f }, 1);
        var optimizer = new HomeAdamEW([w, b], new HomeAdamEWOptions { Lr = 1e-2, Tau = 1e-12 }) { TelemetryEnabled = true };
        for (int step = 0; step < 100; step++)
        {
            var gw = w.AttachGrad<float>();
            for (int i = 0; i < gw.Length; i++) gw[i] = 2f * w.Value<float>()[i];
            b.SetGrad<float>([1f]);
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        Assert.All(w.Value<float>().ToArray().Zip(new[] { 1f, 2f, 3f }), x => Assert.True(Math.Abs(x.First) < x.Second));
        Assert.Equal(1.0, optimizer.Telemetry[0].AdaptiveFraction);
    }
}
