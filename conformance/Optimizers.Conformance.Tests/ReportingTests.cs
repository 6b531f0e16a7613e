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

    // Coinciding series used to hide one another: a one-step case under a longer line, two cases on the same values.
    [Fact]
    public void Every_series_of_a_chart_is_visible_even_where_lines_coincide()
    {
        var spec = new ChartSpec("t", "step", "y", LogY: true, YMin: 1e-4, YMax: 10);
        var longer = new ChartSeries("long", [(0, 0.5), (1, 0.5), (2, 0.5)]);
        var same = new ChartSeries("same values", [(0, 0.5), (1, 0.5), (2, 0.5)]);
        var single = new ChartSeries("one step", [(0, 0.5)]);
        var svg = XDocument.Parse(SvgLineChart.Render(spec, [single, longer, same]));
        var marks = svg.Descendants().Where(e => e.Name.LocalName is "circle" or "rect" or "polygon" or "path").ToList();
        var plotted = svg.Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
        Assert.Equal(2, plotted.Count);
        Assert.NotEqual(plotted[0].Attribute("stroke-dasharray")?.Value, plotted[1].Attribute("stroke-dasharray")?.Value);
        // The one-step series draws no line, so its marker must be the last thing drawn in the plot, on top of the others.
        var lastPlotMark = marks.Where(e => e.Attribute("stroke")?.Value == "#1f77b4").ToList();
        Assert.True(lastPlotMark.Count >= 2, "a marker in the plot and one in the legend");
        var order = svg.Descendants().ToList();
        Assert.True(plotted.All(l => order.IndexOf(l) < order.IndexOf(lastPlotMark[0])));
        Assert.Contains(svg.Descendants().Where(e => e.Name.LocalName == "text"), t => t.Value.Contains("one step (1 step)"));
    }

    [Fact]
    public void Drift_chart_titles_say_free_running_once_and_not_drift()
    {
        var result = new CaseResult("c", "AdamW", Verdict.Pass, 2, 0, 0, 0, 0, null, [],
            [new StepSummary(0, 0, 0, 0.1, 0, null, false), new StepSummary(1, 0, 0, 0.2, 0, null, false)], null);
        var report = new ReplayReport(Cases.CaseRegistry.Source, "production vs reference" + Lockstep.LockstepRunner.DriftSuffix, "tolerance", true, [result], []);
        var title = XDocument.Parse(ReportWriter.ErrorChart(report, "AdamW", [result])).Descendants().First(e => e.Name.LocalName == "text").Value;
        Assert.Contains("free-running", title);
        Assert.DoesNotContain("drift", title);
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
