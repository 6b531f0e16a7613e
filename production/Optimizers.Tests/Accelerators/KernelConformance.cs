using System.Text;
using Optimizers.Accelerators;
using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Tests.Accelerators;

/// <summary>
/// Runs a device backend and the scalar C# kernels (the ground truth) on the same arenas and demands the
/// same bits. An arena holds one segment of every length 0..64 plus a few large odd ones, separated by
/// guard elements poisoned with a NaN the kernels never produce, so a stray write shows up as a difference.
/// </summary>
public static class KernelConformance
{
    public static readonly int[] SegmentLengths = [.. Enumerable.Range(0, 65), 1031, 70_001];
    const int Guard = 2;
    // Not a value any kernel produces from the segments' data: an overwritten guard shows as a difference.
    const double GuardValue = -7.0;

    public static readonly DType[] ParamTypes = [DType.Float32, DType.Float64];
    public static readonly DType[] StateTypes = [DType.Float32, DType.Float64, DType.Float16, DType.BFloat16];

    public static IEnumerable<object[]> DTypePairs()
        => from p in ParamTypes from s in StateTypes select new object[] { p, s };

    /// <summary>Start offset of each segment; the arena length is the last entry.</summary>
    public static int[] Offsets()
    {
        var offsets = new int[SegmentLengths.Length + 1];
        int at = Guard;
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            offsets[k] = at;
            at += SegmentLengths[k] + Guard;
        }
        offsets[^1] = at;
        return offsets;
    }

    public enum Values
    {
        /// <summary>Magnitudes over many decades, both signs.</summary>
        Finite,
        /// <summary>Finite values plus NaN, ±∞, ±0, subnormals of every dtype and exactly zero gradients.</summary>
        Special,
    }

    /// <summary>Fills an arena's segments with seeded values; the guards get the poison.</summary>
    public static TensorBuffer Arena(DType dtype, int seed, Values values, bool nonNegative, double minExponent, double maxExponent)
    {
        var offsets = Offsets();
        var buffer = new TensorBuffer(dtype, offsets[^1]);
        var random = new Random(seed);
        for (int i = 0; i < buffer.Length; i++) buffer.Set(i, GuardValue);
        for (int k = 0; k < SegmentLengths.Length; k++)
            for (int i = offsets[k]; i < offsets[k] + SegmentLengths[k]; i++)
                buffer.Set(i, Draw(random, values, nonNegative, minExponent, maxExponent));
        return buffer;
    }

    static readonly double[] SpecialValues =
    [
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 0.0, 0.0,
        1e-40, -3e-42, 1.4e-45,           // float32 subnormals
        5e-320, -1e-310,                  // float64 subnormals
        3e-6, -6e-8, 5.96e-8, 2.98e-8,    // float16 subnormals and its smallest step (and half of it)
        65504, 65520, -70000,             // float16 largest finite, the rounding edge to infinity, overflow
        1.0000001, 3.4e38, -3.4028235e38, // near float32 overflow
        1.00390625, 1.01171875,           // bfloat16 ties (round to even in both directions)
    ];

    static double Draw(Random random, Values values, bool nonNegative, double minExponent, double maxExponent)
    {
        if (values == Values.Special && random.NextDouble() < 0.25)
        {
            double special = SpecialValues[random.Next(SpecialValues.Length)];
            return nonNegative && !double.IsNaN(special) ? Math.Abs(special) : special;
        }
        double magnitude = Math.Pow(10, minExponent + (maxExponent - minExponent) * random.NextDouble());
        return nonNegative || random.Next(2) == 0 ? magnitude : -magnitude;
    }

    public static TensorBuffer Copy(TensorBuffer source)
    {
        var copy = new TensorBuffer(source.DType, source.Length);
        DeviceBuffer.Bytes(source).CopyTo(DeviceBuffer.Bytes(copy));
        return copy;
    }

    public static TensorBuffer Download(AcceleratorKernelBackend backend, DeviceBuffer buffer)
    {
        var host = new TensorBuffer(buffer.DType, buffer.Length);
        backend.Download(buffer, host);
        return host;
    }

    /// <summary>
    /// Asserts two arenas hold the same bits, listing the first differences. A NaN matches any NaN: IEEE 754
    /// leaves open which operand's NaN an operation returns, and RyuJIT and LLVM order commutative operands
    /// differently, so the sign and payload of a NaN are not part of the contract (paper-notes/backends.md).
    /// </summary>
    public static void AssertSameBits(TensorBuffer expected, TensorBuffer actual, string what)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Length, actual.Length);
        var e = DeviceBuffer.Bytes(expected);
        var a = DeviceBuffer.Bytes(actual);
        if (e.SequenceEqual(a)) return;
        int size = DeviceBuffer.ElementSize(expected.DType);
        var report = new StringBuilder($"{what}: device differs from the scalar C# kernel ({expected.DType}).");
        int shown = 0, total = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (e.Slice(i * size, size).SequenceEqual(a.Slice(i * size, size))) continue;
            if (double.IsNaN(expected.Get(i)) && double.IsNaN(actual.Get(i))) continue;
            total++;
            if (shown++ < 10)
                report.Append($"\n  [{i}] expected {expected.Get(i):R} (0x{Hex(e.Slice(i * size, size))}) actual {actual.Get(i):R} (0x{Hex(a.Slice(i * size, size))})");
        }
        report.Append($"\n  {total} of {expected.Length} elements differ.");
        if (total > 0) Assert.Fail(report.ToString());
    }

    static string Hex(ReadOnlySpan<byte> littleEndian)
    {
        var sb = new StringBuilder();
        for (int i = littleEndian.Length - 1; i >= 0; i--) sb.Append(littleEndian[i].ToString("X2"));
        return sb.ToString();
    }

    /// <summary>Same value, where NaN equals NaN and -0 differs from +0.</summary>
    public static void AssertSameValue(double expected, double actual, string what)
    {
        if (double.IsNaN(expected) && double.IsNaN(actual)) return;
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual),
            $"{what}: expected {expected:R}, device {actual:R}.");
    }

    // ---- scalars -------------------------------------------------------------------------------

    /// <summary>HomeAdam-family scalars at step 3. β1 = 0.3 takes lerp's other fused branch (weight ≥ 0.5).</summary>
    public static HomeAdamScalars HomeAdamScalarsFor(DType param, DType state, double beta1, double weightDecay, double tau)
    {
        double p1 = 1, p2 = 1;
        for (int t = 0; t < 3; t++)
        {
            p1 = StepScalars.NextPower(state, p1, beta1);
            p2 = StepScalars.NextPower(state, p2, 0.999);
        }
        return StepScalars.HomeAdam(state, param, lr: 1e-3, beta1, beta2: 0.999, eps: 1e-8, weightDecay, tau, p1, p2);
    }

    // ---- the checks ----------------------------------------------------------------------------

    /// <summary>Fused step (AdamSRF / HomeAdamEW / HomeAdam with a known rule) on every segment.</summary>
    public static void HomeAdamStep(AcceleratorKernelBackend backend, DType paramType, DType stateType, BranchRule rule, Values values,
        double beta1, double weightDecay)
    {
        var s = HomeAdamScalarsFor(paramType, stateType, beta1, weightDecay, tau: 1e-6);
        var (param, grad, m, v) = HomeAdamArenas(paramType, stateType, values, seed: 11 + (int)rule);
        var (dParam, dGrad, dM, dV) = (backend.Upload(param), backend.Upload(grad), backend.Upload(m), backend.Upload(v));
        using var counter = backend.CreateCounter();
        var offsets = Offsets();
        long expectedAdaptive = 0;
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            expectedAdaptive += HomeAdamFamilyKernel.Step(param, grad, offsets[k], m, v, offsets[k], SegmentLengths[k], s, rule, KernelPath.Scalar);
            backend.HomeAdamStep(dParam, dGrad, offsets[k], dM, dV, offsets[k], SegmentLengths[k], s, rule, counter);
        }
        string what = $"HomeAdam step {paramType}/{stateType} {rule} {values} beta1={beta1} wd={weightDecay}";
        AssertSameBits(param, Download(backend, dParam), what + " param");
        AssertSameBits(m, Download(backend, dM), what + " exp_avg");
        AssertSameBits(v, Download(backend, dV), what + " exp_avg_sq");
        AssertSameBits(grad, Download(backend, dGrad), what + " grad (read only)");
        Assert.Equal(expectedAdaptive, backend.ReadCounter(counter));
        foreach (var b in new[] { dParam, dGrad, dM, dV }) b.Dispose();
    }

    /// <summary>HomeAdam's two passes with the group decision made on the device.</summary>
    public static void HomeAdamGroup(AcceleratorKernelBackend backend, DType paramType, DType stateType, Values values, double tau, bool capturable)
    {
        var s = HomeAdamScalarsFor(paramType, stateType, beta1: 0.9, weightDecay: 0.01, tau);
        var (param, grad, m, v) = HomeAdamArenas(paramType, stateType, values, seed: 29);
        var (dParam, dGrad, dM, dV) = (backend.Upload(param), backend.Upload(grad), backend.Upload(m), backend.Upload(v));
        using var group = backend.CreateHomeAdamGroup();
        using var counter = backend.CreateCounter();
        var offsets = Offsets();

        // Host side: the same decision from the C# minima, in the compute type (float64 state: double, else float).
        bool wide = stateType == DType.Float64;
        double Compute(double x) => wide ? x : (float)x;
        double groupMin = double.PositiveInfinity, lastMin = double.NaN;
        backend.BeginHomeAdamGroup(group);
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            lastMin = HomeAdamFamilyKernel.UpdateMoments(grad, offsets[k], m, v, offsets[k], SegmentLengths[k], s, KernelPath.Scalar);
            double tensorMin = Compute(lastMin / s.BiasCorrection2);
            groupMin = double.IsNaN(groupMin) || double.IsNaN(tensorMin) ? double.NaN : Math.Min(groupMin, tensorMin);
            backend.HomeAdamUpdateMoments(dGrad, offsets[k], dM, dV, offsets[k], SegmentLengths[k], s, group);
        }
        bool adaptive = capturable ? groupMin >= s.Tau : !(groupMin < s.Tau);
        backend.DecideHomeAdamGroup(group, s.Tau, capturable);
        long expectedAdaptive = 0;
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            expectedAdaptive += HomeAdamFamilyKernel.Apply(param, offsets[k], m, v, offsets[k], SegmentLengths[k], s,
                adaptive ? BranchRule.Adaptive : BranchRule.Sgdm, KernelPath.Scalar);
            backend.HomeAdamApply(dParam, offsets[k], dM, dV, offsets[k], SegmentLengths[k], s, group, counter);
        }
        string what = $"HomeAdam group {paramType}/{stateType} {values} tau={tau} capturable={capturable}";
        var scalars = backend.ReadHomeAdamGroup(group);
        AssertSameValue(groupMin, scalars.MinVHat, what + " group minimum of v_hat");
        AssertSameValue(lastMin, scalars.LastTensorMinV, what + " last tensor's minimum v");
        Assert.Equal(adaptive, scalars.Adaptive);
        AssertSameBits(param, Download(backend, dParam), what + " param");
        AssertSameBits(m, Download(backend, dM), what + " exp_avg");
        AssertSameBits(v, Download(backend, dV), what + " exp_avg_sq");
        Assert.Equal(expectedAdaptive, backend.ReadCounter(counter));
        foreach (var b in new[] { dParam, dGrad, dM, dV }) b.Dispose();
    }

    /// <summary>
    /// A group whose tensors have float32 and float64 state: the decision must compare in float64, with τ
    /// rounded to float64 (torch.minimum promotes). τ is put one float64 ulp above the float32 tensor's
    /// minimum v̂, where comparing in float32 would round τ onto the minimum and decide the other way.
    /// </summary>
    public static void HomeAdamMixedGroup(AcceleratorKernelBackend backend, bool capturable)
    {
        var narrow = (Param: Arena(DType.Float32, 61, Values.Finite, false, -3, 1), Grad: Arena(DType.Float32, 62, Values.Finite, false, -6, 1),
            M: Arena(DType.Float32, 63, Values.Finite, false, -6, 1), V: Arena(DType.Float32, 64, Values.Finite, true, -12, 2));
        var wide = (Param: Arena(DType.Float64, 65, Values.Finite, false, -3, 1), Grad: Arena(DType.Float64, 66, Values.Finite, false, -6, 1),
            M: Arena(DType.Float64, 67, Values.Finite, false, -6, 1), V: Arena(DType.Float64, 68, Values.Finite, true, -4, 2));
        var sNarrow = HomeAdamScalarsFor(DType.Float32, DType.Float32, 0.9, 0.01, tau: 0);
        var sWide = HomeAdamScalarsFor(DType.Float64, DType.Float64, 0.9, 0.01, tau: 0);
        var offsets = Offsets();
        int big = SegmentLengths.Length - 1; // the 70 001-element segment of each arena is one tensor

        var devices = new[] { narrow, wide }.Select(a => (P: backend.Upload(a.Param), G: backend.Upload(a.Grad), M: backend.Upload(a.M), V: backend.Upload(a.V))).ToArray();
        double narrowMin = HomeAdamFamilyKernel.UpdateMoments(narrow.Grad, offsets[big], narrow.M, narrow.V, offsets[big], SegmentLengths[big], sNarrow, KernelPath.Scalar);
        double wideMin = HomeAdamFamilyKernel.UpdateMoments(wide.Grad, offsets[big], wide.M, wide.V, offsets[big], SegmentLengths[big], sWide, KernelPath.Scalar);
        double narrowVHat = (float)(narrowMin / sNarrow.BiasCorrection2), wideVHat = wideMin / sWide.BiasCorrection2;
        double groupMin = Math.Min(narrowVHat, wideVHat);
        Assert.True(narrowVHat < wideVHat, "the test needs the float32 tensor to hold the group minimum");
        double tau = Math.BitIncrement(narrowVHat);
        Assert.Equal(narrowVHat, (double)(float)tau); // in float32, τ would sit exactly on the minimum
        bool adaptive = capturable ? groupMin >= tau : !(groupMin < tau);

        using var group = backend.CreateHomeAdamGroup();
        backend.HomeAdamUpdateMoments(devices[0].G, offsets[big], devices[0].M, devices[0].V, offsets[big], SegmentLengths[big], sNarrow, group);
        backend.HomeAdamUpdateMoments(devices[1].G, offsets[big], devices[1].M, devices[1].V, offsets[big], SegmentLengths[big], sWide, group);
        Assert.Equal(DType.Float64, group.CompareIn);
        backend.DecideHomeAdamGroup(group, tau, capturable);
        var scalars = backend.ReadHomeAdamGroup(group);
        AssertSameValue(groupMin, scalars.MinVHat, "mixed group minimum of v_hat");
        AssertSameValue(wideMin, scalars.LastTensorMinV, "mixed group last tensor's minimum v");
        Assert.Equal(adaptive, scalars.Adaptive);

        var rule = adaptive ? BranchRule.Adaptive : BranchRule.Sgdm;
        HomeAdamFamilyKernel.Apply(narrow.Param, offsets[big], narrow.M, narrow.V, offsets[big], SegmentLengths[big], sNarrow, rule, KernelPath.Scalar);
        HomeAdamFamilyKernel.Apply(wide.Param, offsets[big], wide.M, wide.V, offsets[big], SegmentLengths[big], sWide, rule, KernelPath.Scalar);
        backend.HomeAdamApply(devices[0].P, offsets[big], devices[0].M, devices[0].V, offsets[big], SegmentLengths[big], sNarrow, group);
        backend.HomeAdamApply(devices[1].P, offsets[big], devices[1].M, devices[1].V, offsets[big], SegmentLengths[big], sWide, group);
        AssertSameBits(narrow.Param, Download(backend, devices[0].P), "mixed group float32 param");
        AssertSameBits(wide.Param, Download(backend, devices[1].P), "mixed group float64 param");
        AssertSameBits(narrow.V, Download(backend, devices[0].V), "mixed group float32 exp_avg_sq");
        AssertSameBits(wide.V, Download(backend, devices[1].V), "mixed group float64 exp_avg_sq");
        foreach (var d in devices) { d.P.Dispose(); d.G.Dispose(); d.M.Dispose(); d.V.Dispose(); }
    }

    /// <summary>
    /// Several HomeAdam steps with parameters and state resident on the device: only fresh gradients go
    /// up each step (running products advance on the host, as the optimizer classes do), and the arenas
    /// come down once at the end, equal to the CPU's after the same steps.
    /// </summary>
    public static void HomeAdamResidentSteps(AcceleratorKernelBackend backend, DType paramType, DType stateType, bool capturable, int steps)
    {
        var offsets = Offsets();
        var param = Arena(paramType, 71, Values.Finite, false, -3, 1);
        var m = new TensorBuffer(stateType, param.Length);
        var v = new TensorBuffer(stateType, param.Length);
        var (dParam, dM, dV) = (backend.Upload(param), backend.Upload(m), backend.Upload(v));
        using var dGrad = backend.Allocate(paramType, param.Length);
        using var group = backend.CreateHomeAdamGroup();
        double p1 = 1, p2 = 1;
        const double tau = 1e-7;
        for (int step = 0; step < steps; step++)
        {
            // Step 3 brings NaN, infinities and exact zeros: from then on the minimum is NaN, where the two rules part.
            var grad = Arena(paramType, 100 + step, step == 3 ? Values.Special : Values.Finite, false, -5, 0);
            backend.Upload(grad, dGrad);
            p1 = StepScalars.NextPower(stateType, p1, 0.9);
            p2 = StepScalars.NextPower(stateType, p2, 0.999);
            var s = StepScalars.HomeAdam(stateType, paramType, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, tau, p1, p2);

            double groupMin = double.PositiveInfinity;
            backend.BeginHomeAdamGroup(group);
            for (int k = 0; k < SegmentLengths.Length; k++)
            {
                double tensorMin = Rounding.To(stateType, HomeAdamFamilyKernel.UpdateMoments(grad, offsets[k], m, v, offsets[k], SegmentLengths[k], s, KernelPath.Scalar) / s.BiasCorrection2);
                groupMin = double.IsNaN(groupMin) || double.IsNaN(tensorMin) ? double.NaN : Math.Min(groupMin, tensorMin);
                backend.HomeAdamUpdateMoments(dGrad, offsets[k], dM, dV, offsets[k], SegmentLengths[k], s, group);
            }
            bool adaptive = capturable ? groupMin >= s.Tau : !(groupMin < s.Tau);
            backend.DecideHomeAdamGroup(group, tau, capturable);
            for (int k = 0; k < SegmentLengths.Length; k++)
            {
                HomeAdamFamilyKernel.Apply(param, offsets[k], m, v, offsets[k], SegmentLengths[k], s, adaptive ? BranchRule.Adaptive : BranchRule.Sgdm, KernelPath.Scalar);
                backend.HomeAdamApply(dParam, offsets[k], dM, dV, offsets[k], SegmentLengths[k], s, group);
            }
        }
        string what = $"HomeAdam {steps} resident steps {paramType}/{stateType} capturable={capturable}";
        AssertSameBits(param, Download(backend, dParam), what + " param");
        AssertSameBits(m, Download(backend, dM), what + " exp_avg");
        AssertSameBits(v, Download(backend, dV), what + " exp_avg_sq");
        foreach (var b in new[] { dParam, dM, dV }) b.Dispose();
    }

    static (TensorBuffer Param, TensorBuffer Grad, TensorBuffer M, TensorBuffer V) HomeAdamArenas(DType paramType, DType stateType, Values values, int seed)
        => (Arena(paramType, seed, values, false, -3, 1),
            Arena(paramType, seed + 1, values, false, -12, 3),
            Arena(stateType, seed + 2, values, false, -9, 1),
            Arena(stateType, seed + 3, values, true, -20, 2));

    /// <summary>torch 1.13 AdamW on every segment.</summary>
    public static void AdamW(AcceleratorKernelBackend backend, DType type, bool amsgrad, bool maximize, Values values)
    {
        var s = StepScalars.AdamW(type, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 4, amsgrad, maximize);
        var param = Arena(type, 41, values, false, -3, 1);
        var grad = Arena(type, 42, values, false, -12, 3);
        var m = Arena(type, 43, values, false, -9, 1);
        var v = Arena(type, 44, values, true, -20, 2);
        var vmax = Arena(type, 45, values, true, -20, 2);
        var (dParam, dGrad, dM, dV, dMax) = (backend.Upload(param), backend.Upload(grad), backend.Upload(m), backend.Upload(v), backend.Upload(vmax));
        var offsets = Offsets();
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            AdamWKernel.Step(param, grad, offsets[k], m, v, amsgrad ? vmax : null, offsets[k], SegmentLengths[k], s, KernelPath.Scalar);
            backend.AdamWStep(dParam, dGrad, offsets[k], dM, dV, amsgrad ? dMax : null, offsets[k], SegmentLengths[k], s);
        }
        string what = $"AdamW {type} amsgrad={amsgrad} maximize={maximize} {values}";
        AssertSameBits(param, Download(backend, dParam), what + " param");
        AssertSameBits(m, Download(backend, dM), what + " exp_avg");
        AssertSameBits(v, Download(backend, dV), what + " exp_avg_sq");
        AssertSameBits(vmax, Download(backend, dMax), what + " max_exp_avg_sq");
        foreach (var b in new[] { dParam, dGrad, dM, dV, dMax }) b.Dispose();
    }

    /// <summary>STAC's trunk on every segment.</summary>
    public static void StacTrunk(AcceleratorKernelBackend backend, DType paramType, DType bufferType, double momentum, double weightDecay, bool maximize, Values values)
    {
        var s = StepScalars.StacTrunk(paramType, bufferType, lr: 3e-3, momentum, weightDecay, maximize);
        var param = Arena(paramType, 51, values, false, -3, 1);
        var grad = Arena(paramType, 52, values, false, -12, 3);
        var buffer = Arena(bufferType, 53, values, false, -12, 1);
        var (dParam, dGrad, dBuffer) = (backend.Upload(param), backend.Upload(grad), backend.Upload(buffer));
        var offsets = Offsets();
        for (int k = 0; k < SegmentLengths.Length; k++)
        {
            StacTrunkKernel.Step(param, grad, offsets[k], s.HasMomentum ? buffer : null, offsets[k], SegmentLengths[k], s, KernelPath.Scalar);
            backend.StacTrunkStep(dParam, dGrad, offsets[k], s.HasMomentum ? dBuffer : null, offsets[k], SegmentLengths[k], s);
        }
        string what = $"STAC trunk {paramType}/{bufferType} momentum={momentum} wd={weightDecay} maximize={maximize} {values}";
        AssertSameBits(param, Download(backend, dParam), what + " param");
        AssertSameBits(buffer, Download(backend, dBuffer), what + " momentum buffer");
        foreach (var b in new[] { dParam, dGrad, dBuffer }) b.Dispose();
    }
}
