using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Tests.Kernels;

/// <summary>
/// HomeAdam's group decision needs the minimum stored v̂ numerator of a segment on every path: +∞ for an empty
/// segment, NaN as soon as any stored value is NaN (whichever chunk holds it), and the least value otherwise.
/// </summary>
public class HomeAdamMinimumTests
{
    static readonly KernelPath[] Paths = [KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads, KernelPath.Auto];

    static (TensorBuffer Grad, TensorBuffer M, TensorBuffer V, HomeAdamScalars S) Segment(DType param, DType state, int length)
    {
        var grad = new TensorBuffer(param, length);
        var m = new TensorBuffer(state, length);
        var v = new TensorBuffer(state, length);
        for (int i = 0; i < length; i++) grad.Set(i, 1.0 + i % 7);
        // β2 = 0.5 and v = 0: the stored v is 0.5·g², exact in every dtype, so the expected minimum is known.
        var s = StepScalars.HomeAdam(state, param, 1e-3, 0.9, 0.5, 1e-8, 0.0, 1e-6, 0.9, 0.5);
        return (grad, m, v, s);
    }

    [Theory]
    [InlineData(DType.Float32, DType.Float32)]
    [InlineData(DType.Float64, DType.Float64)]
    [InlineData(DType.Float64, DType.BFloat16)]
    [InlineData(DType.Float32, DType.Float16)]
    public void An_empty_segment_has_minimum_positive_infinity(DType param, DType state)
    {
        foreach (var path in Paths)
        {
            var (grad, m, v, s) = Segment(param, state, 0);
            Assert.Equal(double.PositiveInfinity, HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, v, 0, 0, s, path));
        }
    }

    [Theory]
    [InlineData(DType.Float32, DType.Float32)]
    [InlineData(DType.Float64, DType.Float64)]
    [InlineData(DType.Float64, DType.BFloat16)]
    [InlineData(DType.Float32, DType.Float16)]
    public void The_minimum_is_the_least_stored_value_and_NaN_from_any_chunk_wins(DType param, DType state)
    {
        const int length = 300_001;
        foreach (var path in Paths)
        {
            var (grad, m, v, s) = Segment(param, state, length);
            grad.Set(length - 3, 0.25);
            Assert.Equal(0.5 * 0.25 * 0.25, HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, v, 0, length, s, path));

            foreach (int at in new[] { 0, length / 2 + 100, length - 1 })
            {
                (grad, m, v, s) = Segment(param, state, length);
                grad.Set(at, double.NaN);
                Assert.True(double.IsNaN(HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, v, 0, length, s, path)), $"{path}: NaN at {at} was lost");
            }
        }
    }
}
