using System.Text.RegularExpressions;
using Optimizers.Checkpoints;

namespace Optimizers.Tests.Checkpoints;

/// <summary>The package README's quickstart runs, and the README shows exactly the code run here.</summary>
public sealed class QuickstartTests
{
    [Fact]
    public void The_quickstart_trains_and_its_checkpoint_restores_the_run()
    {
        // quickstart:begin
        // Fit w so that w·x = 1.4 for x = (1, 2, 3): a loss (w·x − 1.4)² with its gradient worked out by hand.
        var w = Parameter.Create("w", new float[] { 0f, 0f, 0f }, 3);
        var optimizer = new HomeAdamEW([w], new HomeAdamEWOptions { Lr = 0.05 });
        float[] x = [1f, 2f, 3f];
        float Loss() { var v = w.Value<float>(); float r = v[0] * x[0] + v[1] * x[1] + v[2] * x[2] - 1.4f; return r * r; }
        float initialLoss = Loss();
        for (int step = 0; step < 200; step++)
        {
            var v = w.Value<float>();
            float residual = v[0] * x[0] + v[1] * x[1] + v[2] * x[2] - 1.4f;
            var grad = w.AttachGrad<float>();              // zero-filled when first attached
            for (int i = 0; i < 3; i++) grad[i] = 2f * residual * x[i];
            optimizer.Step();
            optimizer.ZeroGrad();                           // drop the gradient; attach a fresh one next step
        }
        Console.WriteLine($"loss {initialLoss} -> {Loss()}");

        // Save the optimizer state and the parameters in one safetensors file (atomic, checksummed) ...
        string path = Path.Combine(Path.GetTempPath(), "quickstart.safetensors");
        optimizer.SaveCheckpoint(path);
        // ... and resume later, in a new process, into the same parameters and optimizer built the same way.
        var resumedW = Parameter.Create("w", new float[] { 0f, 0f, 0f }, 3);
        var resumed = new HomeAdamEW([resumedW], new HomeAdamEWOptions { Lr = 0.05 });
        resumed.LoadCheckpoint(path);
        // quickstart:end

        Assert.True(Loss() < initialLoss / 100, $"the quickstart should train: loss {initialLoss} -> {Loss()}");
        Assert.Equal(w.Value<float>().ToArray(), resumedW.Value<float>().ToArray());
        Assert.Equal(TestModels.Fingerprint(optimizer, [w]), TestModels.Fingerprint(resumed, [resumedW]));
        File.Delete(path);
    }

    [Fact]
    public void The_package_readme_shows_the_quickstart_that_this_test_runs()
        => PackageReadme.AssertShows("Quickstart", "Checkpoints/QuickstartTests.cs.txt", "quickstart");
}

/// <summary>Compares a code block of the package README with the region of a test source that runs it.</summary>
internal static class PackageReadme
{
    /// <summary>
    /// The first csharp block after <c>## {section}</c> in the README must hold the statements between
    /// <c>// {marker}:begin</c> and <c>// {marker}:end</c> of <paramref name="testSource"/> (a copy in the output folder),
    /// line by line with indentation and usings ignored.
    /// </summary>
    public static void AssertShows(string section, string testSource, string marker)
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Checkpoints", "PackageReadme.md"));
        string source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, testSource));
        var block = Regex.Match(readme, $"## {Regex.Escape(section)}\n.*?```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, $"the README has a ## {section} section with a csharp code block");
        var region = Regex.Match(source, $"// {Regex.Escape(marker)}:begin\n(.*?)// {Regex.Escape(marker)}:end", RegexOptions.Singleline);
        Assert.True(region.Success, $"{testSource} marks its region with // {marker}:begin and // {marker}:end");
        static string[] Statements(string code) => code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Statements(region.Groups[1].Value), Statements(block.Groups[1].Value));
    }
}
