using System.CommandLine;
using Optimizers.Conformance.Cli;

// The conformance harness: `run` (the default) replays the golden trajectories through every registered implementation;
// `replay` replays one file through one implementation; `list` shows cases, implementations and this machine.
var filter = new Option<string?>("--filter") { Description = "Only cases whose id contains this text." };
var impl = new Option<string?>("--impl", "--backend") { Description = "Implementation name (or prefix before ':'), e.g. reference, production, production:simd, model." };
var report = new Option<DirectoryInfo?>("--report") { Description = "Write report.md, report.json and SVG charts into this folder." };
var steps = new Option<int?>("--steps") { Description = "Replay only the first N steps of each case." };
var freeRunning = new Option<bool>("--free-running") { Description = "Start from the initial values only and carry error bounds across steps (default: teacher-forced)." };
var json = new Option<FileInfo?>("--json") { Description = "Write the replay result as JSON." };
var file = new Argument<FileInfo>("file") { Description = "An optimizer-trajectories/1 file." };

var run = new Command("run", "Replay conformance/golden/upstream-public.json through every available implementation (the default).")
{
    filter, impl, report, steps, freeRunning,
};
run.SetAction(p => Commands.Run(p.GetValue(filter), p.GetValue(impl), p.GetValue(report), p.GetValue(steps), p.GetValue(freeRunning)));

var replayImpl = new Option<string>("--impl", "--backend") { Description = "Implementation name, e.g. reference, production, production:simd, model.", Required = true };
var replay = new Command("replay", "Replay one trajectory file through one implementation; exit 0 only if every case passes.")
{
    file, replayImpl, freeRunning, json, filter, steps, report,
};
replay.SetAction(p => Commands.Replay(p.GetValue(file)!, p.GetValue(replayImpl)!, p.GetValue(freeRunning), p.GetValue(json),
    p.GetValue(filter), p.GetValue(steps), p.GetValue(report)));

var list = new Command("list", "List the cases, the implementations and what this machine supports.") { filter };
list.SetAction(p => Commands.List(p.GetValue(filter)));

var root = new RootCommand("Conformance harness: production and reference held against upstream's recorded trajectories.")
{
    run, replay, list, filter, impl, report, steps, freeRunning,
};
root.SetAction(p => Commands.Run(p.GetValue(filter), p.GetValue(impl), p.GetValue(report), p.GetValue(steps), p.GetValue(freeRunning)));
// Redirected output has no terminal width; the tables and case lines need more than 80 columns to stay one line each.
// Colour codes would end up in logs and files.
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 160;
    Spectre.Console.AnsiConsole.Profile.Capabilities.Ansi = false;
    Spectre.Console.AnsiConsole.Profile.Capabilities.ColorSystem = Spectre.Console.ColorSystem.NoColors;
}
return root.Parse(args).Invoke();
