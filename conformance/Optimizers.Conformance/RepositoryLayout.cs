namespace Optimizers.Conformance;

/// <summary>Finds the repository (the folder holding Optimizers.sln) from where the program or the tests run.</summary>
public static class RepositoryLayout
{
    public const string SolutionFile = "Optimizers.sln";

    public static string? FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        }
        return null;
    }

    /// <summary>conformance/golden/upstream-public.json of this checkout.</summary>
    public static string PublicGolden() =>
        Path.Combine(FindRoot() ?? throw new DirectoryNotFoundException($"No {SolutionFile} above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}."),
            "conformance", "golden", "upstream-public.json");
}
