using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Tests.Kernels;

/// <summary>Runs alone: other tests flooding the thread pool make its queue grow a segment, an allocation that is the pool's, not a kernel's.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public class AllocationCollection;

/// <summary>No kernel path allocates per call (the threaded path reuses its per-thread dispatcher and jobs).</summary>
[Collection(nameof(AllocationCollection))]
public class KernelAllocationTests
{
    public static TheoryData<KernelPath, DType, DType> Paths()
    {
        var data = new TheoryData<KernelPath, DType, DType>();
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads, KernelPath.Auto })
        {
            data.Add(path, DType.Float32, DType.Float32);
            data.Add(path, DType.Float64, DType.BFloat16);
            data.Add(path, DType.Float32, DType.Float16);
            data.Add(path, DType.Float32, DType.Float64);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_kernel_call_allocates_nothing(KernelPath path, DType paramType, DType stateType)
    {
        // Large enough that Auto also runs on threads.
        const int length = 1 << 18;
        var param = new TensorBuffer(paramType, length);
        var grad = new TensorBuffer(paramType, length);
        var m = new TensorBuffer(stateType, length);
        var v = new TensorBuffer(stateType, length);
        var adamM = new TensorBuffer(paramType, length);
        var adamV = new TensorBuffer(paramType, length);
        var adamMax = new TensorBuffer(paramType, length);
        for (int i = 0; i < length; i++) grad.Set(i, Math.Sin(i));
        var homeAdam = StepScalars.HomeAdam(stateType, paramType, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1e-6, 0.9, 0.999);
        var adamW = StepScalars.AdamW(paramType, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1, amsgrad: true, maximize: false);
        var trunk = StepScalars.StacTrunk(paramType, stateType, 1e-3, 0.9, 0.01, maximize: false);

        void Calls()
        {
            HomeAdamFamilyKernel.Step(param, grad, 0, m, v, 0, length, homeAdam, BranchRule.ElementWise, path);
            HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, v, 0, length, homeAdam, path);
            HomeAdamFamilyKernel.Apply(param, 0, m, v, 0, length, homeAdam, BranchRule.Adaptive, path);
            AdamWKernel.Step(param, grad, 0, adamM, adamV, adamMax, 0, length, adamW, path);
            StacTrunkKernel.Step(param, grad, 0, m, 0, length, trunk, path);
        }

        Calls();
        Calls();
        // A per-call allocation shows in every round. The thread pool may, rarely, create a worker thread on the
        // thread that queues work (after idle workers retired): that is the pool's, once, and shows in one round.
        var rounds = new long[4];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) Calls();
            rounds[round] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.True(rounds.Min() == 0, $"{path} {paramType}/{stateType}: bytes allocated per round of 25 kernel calls: {string.Join(", ", rounds)}");
    }
}
