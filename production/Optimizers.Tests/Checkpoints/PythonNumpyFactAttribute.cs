using System.Diagnostics;

namespace Optimizers.Tests.Checkpoints;

/// <summary>
/// A fact that needs Debian's Python with numpy (<see cref="Python"/>); where that is missing the test is reported as
/// skipped with the reason, not silently passed.
/// </summary>
public sealed class PythonNumpyFactAttribute : FactAttribute
{
    /// <summary>Debian's own interpreter, which has numpy (the pyenv python3 first on PATH may not).</summary>
    public const string Python = "/usr/bin/python3.11";

    static readonly Lazy<string?> WhyUnavailable = new(Probe);

    public PythonNumpyFactAttribute()
    {
        if (WhyUnavailable.Value is { } reason) Skip = reason;
    }

    static string? Probe()
    {
        if (!File.Exists(Python)) return $"{Python} does not exist; the numpy interop test needs it.";
        var (exit, _, stderr) = Run(["-c", "import numpy"]);
        return exit == 0 ? null : $"{Python} cannot import numpy: {stderr.Trim()}";
    }

    /// <summary>Runs <see cref="Python"/> with <paramref name="arguments"/>; returns the exit code, stdout and stderr.</summary>
    internal static (int Exit, string Stdout, string Stderr) Run(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }
}
