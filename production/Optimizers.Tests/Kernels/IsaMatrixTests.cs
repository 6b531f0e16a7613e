using System.Diagnostics;
using Optimizers.KernelCheck;
using Optimizers.Kernels;

namespace Optimizers.Tests.Kernels;

/// <summary>
/// The ISA matrix: Optimizers.KernelCheck runs every case on every path in a child process with AVX-512, AVX2 or all
/// hardware intrinsics switched off, and its hashes must equal this process's scalar run. The child also reports
/// which width it ran, so a green run proves the narrower paths were exercised.
/// </summary>
public class IsaMatrixTests
{
    static readonly Lazy<string> ScalarHash = new(() => KernelCheckHash.Compute(KernelPath.Scalar));

    [Theory]
    [InlineData("DOTNET_EnableAVX512", "Vector256 (AVX2)")]
    [InlineData("DOTNET_EnableAVX2", "Vector128")]
    [InlineData("DOTNET_EnableHWIntrinsic", "scalar")]
    public void Every_path_under_a_narrower_ISA_matches_the_scalar_kernel(string switchOff, string expectedWidth)
    {
        var (lines, info) = RunKernelCheck(switchOff);
        Assert.StartsWith(expectedWidth, info);
        Assert.Equal(4, lines.Count);
        foreach (var (path, hash) in lines)
            Assert.True(hash == ScalarHash.Value, $"{path} under {switchOff}=0 ({info}) hashes {hash}, the in-process scalar kernel {ScalarHash.Value}");
    }

    [Fact]
    public void Every_path_at_the_full_ISA_matches_the_scalar_kernel()
    {
        foreach (var path in new[] { KernelPath.Simd, KernelPath.Threads, KernelPath.Auto })
            Assert.Equal(ScalarHash.Value, KernelCheckHash.Compute(path));
    }

    static (List<(string Path, string Hash)> Lines, string Info) RunKernelCheck(string switchOff)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Optimizers.KernelCheck.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string name in new[] { "DOTNET_EnableAVX512", "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic" })
            start.Environment.Remove(name);
        start.Environment[switchOff] = "0";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "KernelCheck did not finish in 5 minutes");
        Assert.True(process.ExitCode == 0, $"KernelCheck exited with {process.ExitCode}: {stderr.Result}");
        var lines = new List<(string, string)>();
        string info = "";
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int space = line.IndexOf(' ');
            if (line.StartsWith("info ")) info = line[5..];
            else lines.Add((line[..space], line[(space + 1)..]));
        }
        return (lines, info);
    }
}
