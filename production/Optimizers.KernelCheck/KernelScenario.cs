using System.Runtime.InteropServices;
using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.KernelCheck;

/// <summary>The kernel entry points a scenario can call.</summary>
public enum KernelKind { HomeAdamStep, HomeAdamMoments, HomeAdamApply, AdamW, StacTrunk }

/// <summary>One kernel configuration: entry point, dtype pair and options.</summary>
public sealed record KernelCase(KernelKind Kind, DType Param, DType State, BranchRule Rule = BranchRule.ElementWise,
    bool Amsgrad = false, bool Maximize = false, bool Momentum = true, bool Decay = true, bool LowLerpWeight = true)
{
    static readonly DType[] ParamTypes = [DType.Float32, DType.Float64];
    static readonly DType[] StateTypes = [DType.Float32, DType.Float64, DType.Float16, DType.BFloat16];

    /// <summary>Every entry point × dtype pair × option that changes the code a kernel runs.</summary>
    public static IEnumerable<KernelCase> All()
    {
        foreach (var p in ParamTypes)
            foreach (var st in StateTypes)
            {
                foreach (var rule in new[] { BranchRule.Adaptive, BranchRule.Sgdm, BranchRule.ElementWise })
                {
                    yield return new(KernelKind.HomeAdamStep, p, st, rule, Decay: rule != BranchRule.Sgdm, LowLerpWeight: rule != BranchRule.Adaptive);
                    yield return new(KernelKind.HomeAdamApply, p, st, rule, Decay: rule == BranchRule.Sgdm);
                }
                yield return new(KernelKind.HomeAdamMoments, p, st);
                yield return new(KernelKind.HomeAdamMoments, p, st, LowLerpWeight: false);
                foreach (bool maximize in new[] { false, true })
                    yield return new(KernelKind.StacTrunk, p, st, Maximize: maximize, Decay: !maximize);
            }
        foreach (var p in ParamTypes)
        {
            foreach (bool amsgrad in new[] { false, true })
                foreach (bool maximize in new[] { false, true })
                    yield return new(KernelKind.AdamW, p, p, Amsgrad: amsgrad, Maximize: maximize);
            foreach (bool maximize in new[] { false, true })
                yield return new(KernelKind.StacTrunk, p, p, Maximize: maximize, Momentum: false, Decay: maximize);
        }
    }

    public override string ToString()
        => $"{Kind} {Param}/{State}" + (Kind is KernelKind.HomeAdamStep or KernelKind.HomeAdamApply ? $" {Rule}" : "")
           + (Kind == KernelKind.AdamW ? $" amsgrad={Amsgrad}" : "") + (Kind is KernelKind.AdamW or KernelKind.StacTrunk ? $" maximize={Maximize}" : "")
           + (Kind == KernelKind.StacTrunk ? $" momentum={Momentum}" : "") + (Kind != KernelKind.AdamW ? $" decay={Decay}" : "")
           + (Kind is KernelKind.HomeAdamStep or KernelKind.HomeAdamMoments ? $" lowLerpWeight={LowLerpWeight}" : "");
}

/// <summary>The seeded inputs of one case: arenas padded around a segment at the given offsets.</summary>
public sealed class KernelInputs
{
    public required KernelCase Case { get; init; }
    public required int Length { get; init; }
    public required int ParamOffset { get; init; }
    public required int StateOffset { get; init; }
    public required TensorBuffer Param { get; init; }
    public required TensorBuffer Grad { get; init; }
    public required TensorBuffer M { get; init; }
    public required TensorBuffer V { get; init; }
    public TensorBuffer? MaxV { get; init; }
}

/// <summary>Every buffer after a kernel call, and what the call returned.</summary>
public sealed class KernelRun
{
    public required IReadOnlyList<(string Name, TensorBuffer Buffer)> Buffers { get; init; }
    public long AdaptiveCount { get; init; }
    public double Minimum { get; init; }
}

/// <summary>
/// Builds the buffers of a <see cref="KernelCase"/> from a seed (magnitudes over many decades, special values
/// injected at random indices, arenas padded on both sides of the segment) and calls the kernel on one path.
/// The same seed always gives the same inputs, so runs on different paths can be compared bit for bit.
/// </summary>
public static class KernelScenario
{
    public const int Padding = 5;

    // NaN, ±∞, ±0, subnormals of float32, float64 and float16, values that overflow float16 or round bfloat16 up to ∞.
    static readonly double[] Specials =
    [
        double.NaN, -double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 0.0, 0.0,
        1e-40, -1e-40, 4.9e-324, 1e-310, 3e-6, -3e-8, 70000.0, 65520.0, -65504.0, 3.4e38, 1e-45, 2.9e-39,
    ];

    /// <summary>Creates the inputs, runs the kernel on <paramref name="path"/>, and returns every buffer.</summary>
    public static KernelRun Run(KernelCase c, int length, int seed, KernelPath path, int paramOffset = 3, int stateOffset = 7, double specialRate = 0.06)
        => Execute(Prepare(c, length, seed, paramOffset, stateOffset, specialRate), path);

    /// <summary>The inputs of one case from a seed; the same arguments always give the same bits.</summary>
    public static KernelInputs Prepare(KernelCase c, int length, int seed, int paramOffset = 3, int stateOffset = 7, double specialRate = 0.06)
    {
        // Not HashCode.Combine: it is seeded per process, and the ISA matrix compares runs across processes.
        var random = new Random(unchecked(seed * 1_000_003 + length * 8191 + (int)c.Kind * 127 + (int)c.Param * 31 + (int)c.State));
        int paramLength = paramOffset + length + Padding, stateLength = stateOffset + length + Padding;
        DType state = c.Kind == KernelKind.AdamW ? c.Param : c.State;
        return new KernelInputs
        {
            Case = c, Length = length, ParamOffset = paramOffset, StateOffset = stateOffset,
            Param = Fill(new TensorBuffer(c.Param, paramLength), random, -1, 1, specialRate, positive: false),
            Grad = Fill(new TensorBuffer(c.Param, paramLength), random, -8, 3, specialRate, positive: false, zeroRate: 0.1),
            M = Fill(new TensorBuffer(state, stateLength), random, -6, 1, specialRate, positive: false),
            V = InjectThreshold(Fill(new TensorBuffer(state, stateLength), random, -14, 2, specialRate, positive: true), random),
            MaxV = c.Kind == KernelKind.AdamW && c.Amsgrad ? Fill(new TensorBuffer(state, stateLength), random, -14, 2, specialRate, positive: true) : null,
        };
    }

    /// <summary>Runs the kernel of <paramref name="inputs"/>' case on <paramref name="path"/> over a copy of the inputs.</summary>
    public static KernelRun Execute(KernelInputs inputs, KernelPath path)
    {
        var c = inputs.Case;
        int length = inputs.Length, paramOffset = inputs.ParamOffset, stateOffset = inputs.StateOffset;
        TensorBuffer param = Copy(inputs.Param), grad = Copy(inputs.Grad), m = Copy(inputs.M), v = Copy(inputs.V);
        double beta1 = c.LowLerpWeight ? 0.9 : 0.3, beta2 = 0.999, lr = 1e-3, eps = 1e-8, weightDecay = c.Decay ? 0.01 : 0.0;
        switch (c.Kind)
        {
            case KernelKind.HomeAdamStep or KernelKind.HomeAdamMoments or KernelKind.HomeAdamApply:
            {
                var s = StepScalars.HomeAdam(c.State, c.Param, lr, beta1, beta2, eps, weightDecay, tau: 0,
                    beta1Power: Math.Pow(beta1, 3), beta2Power: Math.Pow(beta2, 3));
                // τ is v̂ of the injected ThresholdV exactly, so the element-wise rule meets v̂ = τ (adaptive) at those elements.
                s = s with { Tau = c.State == DType.Float64 ? ThresholdV / s.BiasCorrection2 : (float)((float)ThresholdV / (float)s.BiasCorrection2) };
                long count = 0;
                double min = 0;
                if (c.Kind == KernelKind.HomeAdamStep)
                    count = HomeAdamFamilyKernel.Step(param, grad, paramOffset, m, v, stateOffset, length, s, c.Rule, path);
                else if (c.Kind == KernelKind.HomeAdamMoments)
                    min = HomeAdamFamilyKernel.UpdateMoments(grad, paramOffset, m, v, stateOffset, length, s, path);
                else
                    count = HomeAdamFamilyKernel.Apply(param, paramOffset, m, v, stateOffset, length, s, c.Rule, path);
                return new KernelRun { Buffers = [("param", param), ("grad", grad), ("exp_avg", m), ("exp_avg_sq", v)], AdaptiveCount = count, Minimum = min };
            }
            case KernelKind.AdamW:
            {
                var vmax = inputs.MaxV is null ? null : Copy(inputs.MaxV);
                var s = StepScalars.AdamW(c.Param, lr, beta1, beta2, eps, weightDecay, step: 3, c.Amsgrad, c.Maximize);
                AdamWKernel.Step(param, grad, paramOffset, m, v, vmax, stateOffset, length, s, path);
                var buffers = new List<(string, TensorBuffer)> { ("param", param), ("grad", grad), ("exp_avg", m), ("exp_avg_sq", v) };
                if (vmax is not null) buffers.Add(("max_exp_avg_sq", vmax));
                return new KernelRun { Buffers = buffers };
            }
            default:
            {
                var s = StepScalars.StacTrunk(c.Param, c.State, lr, c.Momentum ? 0.9 : 0.0, weightDecay, c.Maximize);
                TensorBuffer? buffer = c.Momentum ? m : null;
                StacTrunkKernel.Step(param, grad, paramOffset, buffer, stateOffset, length, s, path);
                return new KernelRun { Buffers = buffer is null ? [("param", param), ("grad", grad)] : [("param", param), ("grad", grad), ("momentum_buffer", buffer)] };
            }
        }
    }

    static TensorBuffer Copy(TensorBuffer source)
    {
        var copy = new TensorBuffer(source.DType, source.Length);
        ReadOnlySpan<byte> from = Bytes(source);
        from.CopyTo(copy.DType switch
        {
            DType.Float32 => MemoryMarshal.AsBytes(copy.Span<float>()),
            DType.Float64 => MemoryMarshal.AsBytes(copy.Span<double>()),
            DType.Float16 => MemoryMarshal.AsBytes(copy.Span<Half>()),
            _ => MemoryMarshal.AsBytes(copy.Span<Numerics.BFloat16>()),
        });
        return copy;
    }

    /// <summary>A second moment exact in every state dtype whose v̂ the HomeAdam cases take as τ.</summary>
    public const double ThresholdV = 1.0 / 1024;

    static TensorBuffer InjectThreshold(TensorBuffer v, Random random)
    {
        for (int i = 0; i < v.Length; i++)
            if (random.Next(32) == 0) v.Set(i, ThresholdV);
        return v;
    }

    /// <summary>Random values sign·10^U(lo, hi) (non-negative when <paramref name="positive"/>), with special values and exact zeros mixed in.</summary>
    static TensorBuffer Fill(TensorBuffer buffer, Random random, double lowDecade, double highDecade, double specialRate, bool positive, double zeroRate = 0.0)
    {
        for (int i = 0; i < buffer.Length; i++)
        {
            double x = Math.Pow(10, lowDecade + (highDecade - lowDecade) * random.NextDouble());
            if (!positive && random.Next(2) == 0) x = -x;
            double roll = random.NextDouble();
            if (roll < specialRate) x = Specials[random.Next(Specials.Length)];
            else if (roll < specialRate + zeroRate) x = random.Next(2) == 0 ? 0.0 : -0.0;
            buffer.Set(i, x);
        }
        return buffer;
    }

    /// <summary>The raw little-endian bytes of a buffer.</summary>
    public static ReadOnlySpan<byte> Bytes(TensorBuffer buffer) => buffer.DType switch
    {
        DType.Float32 => MemoryMarshal.AsBytes<float>(buffer.Span<float>()),
        DType.Float64 => MemoryMarshal.AsBytes<double>(buffer.Span<double>()),
        DType.Float16 => MemoryMarshal.AsBytes<Half>(buffer.Span<Half>()),
        _ => MemoryMarshal.AsBytes<Numerics.BFloat16>(buffer.Span<Numerics.BFloat16>()),
    };

    /// <summary>
    /// The first difference between two runs of one case, or null when they agree bit for bit. A NaN matches any NaN:
    /// when an x86 fused multiply-add meets two NaN operands it returns the one its instruction form lists first, and
    /// the JIT picks the form per call site, so the sign and payload of such a NaN are not fixed even in scalar code.
    /// </summary>
    public static string? FirstDifference(KernelRun expected, KernelRun actual)
    {
        if (expected.AdaptiveCount != actual.AdaptiveCount) return $"adaptive count {actual.AdaptiveCount}, expected {expected.AdaptiveCount}";
        if (!SameValue(expected.Minimum, actual.Minimum))
            return $"minimum {actual.Minimum:R} (0x{BitConverter.DoubleToInt64Bits(actual.Minimum):X16}), expected {expected.Minimum:R} (0x{BitConverter.DoubleToInt64Bits(expected.Minimum):X16})";
        for (int b = 0; b < expected.Buffers.Count; b++)
        {
            var (name, e) = expected.Buffers[b];
            var a = actual.Buffers[b].Buffer;
            ReadOnlySpan<byte> eb = Bytes(e), ab = Bytes(a);
            int size = eb.Length / Math.Max(1, e.Length);
            for (int index = eb.CommonPrefixLength(ab) / size; index < e.Length; index++)
            {
                if (eb.Slice(index * size, size).SequenceEqual(ab.Slice(index * size, size))) continue;
                if (double.IsNaN(e.Get(index)) && double.IsNaN(a.Get(index))) continue;
                return $"{name}[{index}] = {a.Get(index):R} (0x{Convert.ToHexString(ab.Slice(index * size, size))}), expected {e.Get(index):R} (0x{Convert.ToHexString(eb.Slice(index * size, size))})";
            }
        }
        return null;
    }

    static bool SameValue(double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y) || (double.IsNaN(x) && double.IsNaN(y));

    /// <summary>A buffer's bytes with every NaN replaced by one canonical pattern, for hashing (see <see cref="FirstDifference"/>).</summary>
    public static byte[] CanonicalBytes(TensorBuffer buffer)
    {
        byte[] bytes = Bytes(buffer).ToArray();
        int size = bytes.Length / Math.Max(1, buffer.Length);
        for (int i = 0; i < buffer.Length; i++)
            if (double.IsNaN(buffer.Get(i)))
                bytes.AsSpan(i * size, size).Fill(0xFF);
        return bytes;
    }
}
