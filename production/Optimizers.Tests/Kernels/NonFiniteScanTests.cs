using Optimizers.Kernels;
using Optimizers.Kernels.Threading;
using Optimizers.Storage;

namespace Optimizers.Tests.Kernels;

/// <summary>The read-only pass that SkipStep and Throw decide with: every path finds one bad element wherever it sits.</summary>
public class NonFiniteScanTests
{
    static readonly KernelPath[] Paths = [KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads, KernelPath.Auto];

    // Finite values a sloppy check could mistake for non-finite ones (the largest finite, subnormals, −0).
    static TensorBuffer Finite(DType dtype, int length)
    {
        var b = new TensorBuffer(dtype, length);
        double max = dtype == DType.Float32 ? float.MaxValue : double.MaxValue;
        double tiny = dtype == DType.Float32 ? float.Epsilon : double.Epsilon;
        double[] pattern = [1.5, -max, max, tiny, -tiny, -0.0, 0.0, -3e-3];
        for (int i = 0; i < length; i++) b.Set(i, pattern[i % pattern.Length]);
        return b;
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Every_position_of_every_short_length_is_seen_on_every_path(DType dtype)
    {
        double[] bad = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        for (int length = 0; length <= 200; length++)
        {
            var b = Finite(dtype, length + 3);
            foreach (var path in Paths)
            {
                // The segment starts at 1 and has finite neighbours, so values outside it must not count.
                Assert.True(NonFiniteScan.AllFinite(b, 1, length, path), $"length {length}, {path}");
                b.Set(0, double.NaN);
                b.Set(length + 1, double.NaN);
                Assert.True(NonFiniteScan.AllFinite(b, 1, length, path), $"neighbours, length {length}, {path}");
                b.Set(0, 1);
                b.Set(length + 1, 1);
                for (int at = 0; at < length; at++)
                {
                    double keep = b.Get(1 + at);
                    b.Set(1 + at, bad[at % bad.Length]);
                    Assert.False(NonFiniteScan.AllFinite(b, 1, length, path), $"length {length}, at {at}, {path}");
                    b.Set(1 + at, keep);
                }
            }
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Large_segments_split_over_threads_find_a_value_in_any_chunk(DType dtype)
    {
        const int length = (1 << 18) + 77;
        var b = Finite(dtype, length);
        int chunk = ChunkPlan.ChunkLength(length, ChunkPlan.ChunkCount(length, KernelPath.Threads));
        int[] positions = [0, chunk - 1, Math.Min(chunk, length - 1), length / 2, length - 64, length - 1];
        foreach (var path in Paths)
        {
            Assert.True(NonFiniteScan.AllFinite(b, 0, length, path));
            foreach (int at in positions)
            {
                b.Set(at, double.PositiveInfinity);
                Assert.False(NonFiniteScan.AllFinite(b, 0, length, path), $"at {at}, {path}");
                b.Set(at, 2.0);
            }
        }
    }

    [Fact]
    public void A_segment_outside_the_buffer_is_refused()
    {
        var b = new TensorBuffer(DType.Float32, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => NonFiniteScan.AllFinite(b, 5, 6, KernelPath.Auto));
        Assert.Throws<ArgumentOutOfRangeException>(() => NonFiniteScan.AllFinite(b, -1, 2, KernelPath.Scalar));
    }

    [Theory]
    [InlineData(KernelPath.Scalar)]
    [InlineData(KernelPath.Threads)]
    public void The_optimizer_counts_and_names_offenders_inside_one_contiguous_stretch(KernelPath path)
    {
        // t0..t3 adjacent in one arena; t2 has no gradient but stale NaN in its slot of the gradient arena.
        var ps = Enumerable.Range(0, 4).Select(i => new Parameter($"t{i}", [70_000 + i])).ToArray();
        var o = new AdamW(ps, new AdamWOptions { NonFinitePolicy = NonFinitePolicy.SkipStep }, path) { TelemetryEnabled = true };
        foreach (var p in ps) p.AttachGrad<float>().Fill(0.25f);
        ps[2].AttachGrad<float>()[5] = float.NaN;
        ps[2].ClearGrad();
        o.Step();
        Assert.False(o.Telemetry[0].Skipped);
        Assert.Equal(0, o.Telemetry[0].NonFiniteGradients);

        ps[1].AttachGrad<float>()[69_999] = float.NegativeInfinity;
        ps[3].AttachGrad<float>()[0] = float.NaN;
        o.Step();
        Assert.True(o.Telemetry[0].Skipped);
        Assert.Equal(2, o.Telemetry[0].NonFiniteGradients);

        var thrower = new AdamW([new Parameter("a", [3]), new Parameter("b", [100_000])], new AdamWOptions { NonFinitePolicy = NonFinitePolicy.Throw }, path);
        thrower.GroupParameters(0)[0].AttachGrad<float>();
        thrower.GroupParameters(0)[1].AttachGrad<float>()[99_999] = float.NaN;
        var e = Assert.Throws<NonFiniteGradientException>(thrower.Step);
        Assert.Contains("'b'", e.Message);
    }
}
