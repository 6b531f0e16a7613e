using System.Diagnostics;
using Optimizers.Checkpoints;
using Optimizers.CheckpointKillTest;

namespace Optimizers.Tests.Checkpoints;

/// <summary>
/// A process killed while it saves a checkpoint leaves the previous checkpoint intact: the save goes to a temporary file
/// that replaces the checkpoint only once it is complete and on disk.
/// </summary>
public sealed class CheckpointKillTests(Xunit.Abstractions.ITestOutputHelper output)
{
    // 4M float32 elements: 48 MB per checkpoint (parameter, exp_avg, exp_avg_sq), so a save lasts long enough to be hit.
    const int Elements = 4 << 20;

    [Fact]
    public void Killing_the_process_in_the_middle_of_a_save_leaves_the_previous_checkpoint_loadable()
    {
        string helper = Path.Combine(AppContext.BaseDirectory, "Optimizers.CheckpointKillTest.dll");
        Assert.True(File.Exists(helper), $"{helper} is missing; the test project references the helper project to get it.");
        for (int trial = 0; trial < 3; trial++)
        {
            string dir = Directory.CreateTempSubdirectory("ckpt-kill-").FullName;
            try
            {
                string path = Path.Combine(dir, "checkpoint.safetensors");
                int target = 2 + trial;
                var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                psi.ArgumentList.Add(helper);
                psi.ArgumentList.Add(path);
                psi.ArgumentList.Add(Elements.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using var process = Process.Start(psi)!;
                var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
                var started = Stopwatch.StartNew();
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.Enqueue($"{started.Elapsed.TotalSeconds:F2} stderr: {e.Data}"); };
                process.BeginErrorReadLine();
                bool tempSeen;
                string diagnosis = "";
                try
                {
                    string? line;
                    while ((line = process.StandardOutput.ReadLine()) is not null)
                    {
                        log.Enqueue($"{started.Elapsed.TotalSeconds:F2} {line}");
                        if (line == $"saving {target}") break;
                    }
                    Assert.True(line is not null, $"the helper exited before save {target}: {string.Join(" | ", log)}");
                    Assert.True(File.Exists(path), $"checkpoint {target - 1} should exist before save {target} starts");
                    // Kill once the temporary file of save k has bytes in it, i.e. in the middle of writing.
                    var clock = Stopwatch.StartNew();
                    while (!(tempSeen = Directory.EnumerateFiles(dir, "*.tmp").Any(f => new FileInfo(f).Length > 0)) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
                        Thread.Sleep(1);
                    diagnosis = $"{string.Join(" | ", log)}; exit {(process.HasExited ? process.ExitCode.ToString() : "none")}; after {clock.Elapsed.TotalSeconds:F1} s the helper had {(process.HasExited ? "exited" : "not exited")}; files: {string.Join(", ", Directory.EnumerateFiles(dir).Select(Path.GetFileName))}";
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }
                finally
                {
                    if (!process.HasExited) process.Kill(entireProcessTree: true);
                }

                var (optimizer, _) = KillTestModel.Create(Elements);
                Checkpoint.Load(optimizer, path); // throws on a torn or partly written file
                double step = optimizer.StateDict().Groups[0].Parameters[0]!.Step;
                // A temporary file left behind means the rename had not happened: the checkpoint must be the previous one.
                bool tempLeft = Directory.EnumerateFiles(dir, "*.tmp").Any();
                Assert.True(tempSeen, $"the kill should land while the temporary file is being written; {diagnosis}");
                output.WriteLine($"trial {trial}: killed during save {target}; temporary file left: {tempLeft}; checkpoint step {step}; {string.Join(" | ", log)}");
                if (tempLeft) Assert.Equal(target - 1, step);
                else Assert.Equal(target, step);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
