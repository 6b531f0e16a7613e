using System.Text.Json;
using System.Xml.Linq;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Reporting;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

public sealed class ReportingTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(RepositoryLayout.PublicGolden()));

    [Fact]
    public void Json_has_the_contracted_shape_with_the_first_failure()
    {
        var perturbed = new PerturbingImplementation(2, "params[0]", 1, x => x + 1e-3);
        var report = Replayer.ReplayFile(Golden.Value, perturbed, new ReplayOptions(), filter: c => c.Id.StartsWith("adamw_"));
        using var stream = new MemoryStream();
        JsonReport.Write(stream, report);
        using var doc = JsonDocument.Parse(stream.ToArray());
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(3, cases.Count);
        foreach (var c in cases)
        {
            foreach (var key in new[] { "id", "verdict", "max_rel", "max_ulp", "ambiguous", "first_failure" })
                Assert.True(c.TryGetProperty(key, out _), key);
            var failure = c.GetProperty("first_failure");
            Assert.Equal("fail", c.GetProperty("verdict").GetString());
            Assert.Equal(2, failure.GetProperty("step").GetInt32());
            Assert.Equal("params[0]", failure.GetProperty("buffer").GetString());
            Assert.Equal(1, failure.GetProperty("index").GetInt32());
            Assert.NotEqual(failure.GetProperty("expected").GetDouble(), failure.GetProperty("actual").GetDouble());
        }
        Assert.Equal(Golden.Value.Errors.Count, doc.RootElement.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void Report_folder_holds_markdown_json_and_well_formed_charts()
    {
        var dir = Path.Combine(Path.GetTempPath(), "conformance-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = Replayer.ReplayFile(Golden.Value, new ToleranceModelImplementation(), new ReplayOptions(), filter: c => c.Optimizer is "HomeAdam" or "AdamW");
            var written = ReportWriter.Write(dir, [report], new Dictionary<string, string> { ["vector width exercised"] = "test" });
            Assert.Contains("report.md", written);
            Assert.Contains("report.json", written);
            Assert.Contains("adaptive-fraction-homeadam.svg", written);
            foreach (var svg in written.Where(f => f.EndsWith(".svg")))
            {
                var xml = XDocument.Load(Path.Combine(dir, svg));
                var texts = xml.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
                Assert.Contains("step", texts);
                Assert.Contains("Legend", texts);
                Assert.True(xml.Descendants().Count(e => e.Name.LocalName == "polyline") >= 2, svg);
            }
            var md = File.ReadAllText(Path.Combine(dir, "report.md"));
            Assert.Contains("homeadam_tau_mid_f64", md);
            Assert.Contains("![", md);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Registry_finds_the_model_and_accepts_more()
    {
        var registry = ImplementationRegistry.CreateDefault();
        Assert.NotNull(registry.Find("model"));
        registry.Add("production:fake", "test double", () => new EchoImplementation("production:fake"));
        // The production paths are registered too, so the prefix selects them all, the added one among them.
        var production = registry.Select("production");
        Assert.Contains(production, e => e.Name == "production:fake");
        Assert.All(production, e => Assert.True(e.Name == "production" || e.Name.StartsWith("production:", StringComparison.Ordinal), e.Name));
        Assert.Equal("production:fake", Assert.Single(registry.Select("production:fake")).Name);
        Assert.Throws<ArgumentException>(() => registry.Add("model", "again", () => new ToleranceModelImplementation()));
    }
}
