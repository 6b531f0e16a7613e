using Optimizers.Benchmarks.Bdn;
using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;
using Optimizers.Kernels;

namespace Optimizers.Benchmarks.Tests;

/// <summary>
/// The optimizer-level benchmark rows promise 0 B allocated per step (issue 3). BenchmarkDotNet's dry job times a single
/// cold call, whose count includes one-off runtime work; this counts the calling thread's allocations over many warm
/// steps of exactly the workload those rows run, which is deterministic.
/// </summary>
public class StepAllocationTests
{
    public static TheoryData<OptimizerKind, KernelPath, string> Cases()
    {
        var data = new TheoryData<OptimizerKind, KernelPath, string>();
        foreach (var kind in OptimizerLevelStep.Kinds)
            foreach (var path in new[] { KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads })
                foreach (var shape in new[] { "1000", "10x1000" })
                    data.Add(kind, path, shape);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_warm_step_allocates_nothing_on_the_calling_thread(OptimizerKind kind, KernelPath path, string shape)
    {
        var trainable = OptimizerLevelWorkload.Create(kind, ShapeCase.Parse(shape), path);
        for (int i = 0; i < 50; i++) trainable.Step();
        // The cleanest of four rounds: a per-step allocation shows in every round, while the thread pool may grow its
        // own queues once, on whichever thread hands it work, when the machine is loaded.
        long cleanest = long.MaxValue;
        for (int round = 0; round < 4 && cleanest != 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) trainable.Step();
            cleanest = Math.Min(cleanest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, cleanest);
    }
}
