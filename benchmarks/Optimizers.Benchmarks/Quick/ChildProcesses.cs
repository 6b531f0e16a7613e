using System.Diagnostics;

namespace Optimizers.Benchmarks.Quick;

/// <summary>Re-runs this program with extra environment variables: how the quick run reaches the narrower ISA paths.</summary>
public static class ChildProcesses
{
    /// <summary>Runs this program with <paramref name="arguments"/>; returns the exit code and echoes its output through <paramref name="log"/>.</summary>
    public static int RunSelf(IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, Action<string> log)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable is running.");
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Under 'dotnet app.dll' the host is dotnet itself and the assembly comes first.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return Run(start, log);
    }

    /// <summary>Runs an external program, echoing its lines; -1 when it cannot be started.</summary>
    public static int Run(ProcessStartInfo start, Action<string> log)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log($"could not start {start.FileName}: {e.Message}");
            return -1;
        }
        using (process)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) log(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.WaitForExit();
            return process.ExitCode;
        }
    }
}
