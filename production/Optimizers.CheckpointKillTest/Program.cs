using Optimizers.Checkpoints;
using Optimizers.CheckpointKillTest;

// Usage: Optimizers.CheckpointKillTest <checkpoint path> <elements>
// Steps and saves in a loop, printing "saving k" before and "saved k" after the k-th save, so that a test can kill it
// while a save is under way and then check that the file on disk is still a complete, valid checkpoint.
if (args.Length != 2 || !int.TryParse(args[1], out int elements) || elements <= 0)
{
    Console.Error.WriteLine("usage: Optimizers.CheckpointKillTest <checkpoint path> <elements > 0>");
    return 2;
}
var (optimizer, parameters) = KillTestModel.Create(elements);
// Bounded, so that a helper whose test died does not write forever.
for (int k = 1; k <= 100; k++)
{
    KillTestModel.SetGradients(parameters, k);
    optimizer.Step();
    Console.Out.WriteLine($"saving {k}");
    Console.Out.Flush();
    Checkpoint.Save(optimizer, args[0]);
    Console.Out.WriteLine($"saved {k}");
    Console.Out.Flush();
}
return 0;
