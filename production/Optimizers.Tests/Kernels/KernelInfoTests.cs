using System.Runtime.Intrinsics;
using Optimizers.Kernels;

namespace Optimizers.Tests.Kernels;

public class KernelInfoTests
{
    [Fact]
    public void Describe_names_the_width_this_process_runs_and_the_thread_count()
    {
        string description = KernelInfo.Describe();
        string expectedWidth = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256"
            : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";
        Assert.StartsWith(expectedWidth, description);
        Assert.EndsWith($"{Environment.ProcessorCount} thread{(Environment.ProcessorCount == 1 ? "" : "s")}", description);
    }

    [Fact]
    public void An_undefined_path_is_rejected_before_anything_changes()
    {
        var param = new Storage.TensorBuffer(DType.Float32, 4);
        var grad = new Storage.TensorBuffer(DType.Float32, 4);
        grad.Set(0, 1.0);
        var s = StepScalars.StacTrunk(DType.Float32, DType.Float32, 0.1, 0.0, 0.0, maximize: false);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => StacTrunkKernel.Step(param, grad, 0, null, 0, 4, s, (KernelPath)42));
        Assert.Equal("path", e.ParamName);
        Assert.Equal(0.0, param.Get(0));
    }

    [Fact]
    public void A_threaded_call_on_a_segment_outside_its_state_arena_changes_nothing()
    {
        const int length = 1000;
        var param = new Storage.TensorBuffer(DType.Float32, length);
        var grad = new Storage.TensorBuffer(DType.Float32, length);
        var m = new Storage.TensorBuffer(DType.Float32, length);
        var v = new Storage.TensorBuffer(DType.Float32, length - 1);
        for (int i = 0; i < length; i++) grad.Set(i, 1.0);
        var s = StepScalars.HomeAdam(DType.Float32, DType.Float32, 0.1, 0.9, 0.999, 1e-8, 0.0, 1e-6, 0.9, 0.999);
        Assert.ThrowsAny<ArgumentException>(() => HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, v, 0, length, s, KernelPath.Threads));
        for (int i = 0; i < length - 1; i++)
        {
            Assert.Equal(0.0, m.Get(i));
            Assert.Equal(0.0, v.Get(i));
        }
    }
}
