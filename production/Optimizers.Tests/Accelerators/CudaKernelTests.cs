using Optimizers.Accelerators;
using Optimizers.Accelerators.Cuda;
using Optimizers.Kernels;
using static Optimizers.Tests.Accelerators.KernelConformance;

namespace Optimizers.Tests.Accelerators;

/// <summary>
/// The same bit-identity checks as on OpenCL, on a CUDA device. They skip on machines without an NVIDIA
/// driver (every machine of this project so far); see paper-notes/backends.md for what that leaves unproven.
/// </summary>
public sealed class CudaKernelTests
{
    [CudaFact]
    public void EveryKernelIsBitIdenticalToTheScalarKernel()
    {
        using var backend = new CudaKernelBackend();
        foreach (var pair in DTypePairs())
        {
            var (param, state) = ((DType)pair[0], (DType)pair[1]);
            foreach (var rule in new[] { BranchRule.Adaptive, BranchRule.Sgdm, BranchRule.ElementWise })
                foreach (var values in new[] { Values.Finite, Values.Special })
                    HomeAdamStep(backend, param, state, rule, values, beta1: 0.9, weightDecay: 0.01);
            foreach (bool capturable in new[] { false, true })
                HomeAdamGroup(backend, param, state, Values.Special, tau: 1e-6, capturable);
            StacTrunk(backend, param, state, momentum: 0.9, weightDecay: 0.01, maximize: false, Values.Special);
        }
        foreach (var type in new[] { DType.Float32, DType.Float64 })
            foreach (bool amsgrad in new[] { false, true })
                AdamW(backend, type, amsgrad, maximize: true, Values.Special);
    }

    [CudaFact]
    public void WrappedExternalPointersAreUsedInPlace()
    {
        using var backend = new CudaKernelBackend();
        using var owned = backend.Allocate(DType.Float32, 1000);
        // Lend the same memory again as if a TorchSharp tensor had handed it over: writes through one are seen by the other.
        using var lent = backend.Wrap(backend.DevicePointer(owned), 1000, DType.Float32);
        var host = new Optimizers.Storage.TensorBuffer(DType.Float32, 1000);
        for (int i = 0; i < host.Length; i++) host.Set(i, i * 0.5);
        backend.Upload(host, lent);
        AssertSameBits(host, Download(backend, owned), "external pointer view");
    }

    [Fact]
    public void AvailabilityExplainsWhatIsMissing()
    {
        var availability = CudaKernelBackend.Availability;
        Assert.False(string.IsNullOrWhiteSpace(availability.Reason));
        if (!availability.IsAvailable)
            Assert.Throws<PlatformNotSupportedException>(() => new CudaKernelBackend());
    }
}
