using System.Runtime.InteropServices;
using Optimizers.Accelerators;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Numerics;
using Optimizers.Storage;

namespace Optimizers.Tests.Accelerators;

/// <summary>
/// common.h's bit-level float16 and bfloat16 conversions (the ones CUDA uses for state) against
/// System.Half and Numerics/BFloat16.cs, exhaustively where it is cheap, bit for bit including NaN payloads.
/// Run as OpenCL on PoCL, so a machine without a GPU proves the CUDA conversions.
/// </summary>
public sealed class ConversionTests(OpenClBackendFixture fixture) : IClassFixture<OpenClBackendFixture>
{
    const string Kernels = """
        KERNEL void half_bits_to_float(GLOBAL const u16* h, GLOBAL float* f, int n)
        { int i = GLOBAL_ID(); if (i < n) f[i] = f16_bits_to_f32(h[i]); }
        KERNEL void float_to_half_bits(GLOBAL const float* f, GLOBAL u16* h, int n)
        { int i = GLOBAL_ID(); if (i < n) h[i] = f16_bits_from_f32(f[i]); }
        KERNEL void float_to_bfloat16(GLOBAL const float* f, GLOBAL u16* h, int n)
        { int i = GLOBAL_ID(); if (i < n) h[i] = bf16_from_f32(f[i]); }
        """;

    static string Source()
    {
        var composed = KernelSource.Compose(KernelDialect.OpenCl, KernelFamily.StacTrunk);
        // Prelude and common.h only: the family text starts with its own banner.
        int family = composed.IndexOf("// STAC's sign-momentum trunk", StringComparison.Ordinal);
        return composed[..family] + Kernels;
    }

    const string Options = OpenClKernelBackend.BaseBuildOptions + " -DPARAM_KIND=0 -DSTATE_KIND=2 -DHALF_VIA_BITS=1";

    [OpenClFact]
    public void EveryHalfWidensLikeSystemHalf()
    {
        var backend = fixture.Backend;
        var halves = new TensorBuffer(DType.Float16, 65536);
        var bits = MemoryMarshal.Cast<Half, ushort>(halves.Span<Half>());
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        using var input = backend.Upload(halves);
        using var output = backend.Allocate(DType.Float32, bits.Length);
        backend.LaunchSource(Source(), Options, "half_bits_to_float", bits.Length,
            [KernelArgument.Of(input.Memory), KernelArgument.Of(output.Memory), KernelArgument.Of(bits.Length)]);
        var widened = KernelConformance.Download(backend, output).Span<float>();
        int mismatches = 0;
        string first = "";
        for (int i = 0; i < bits.Length; i++)
        {
            uint expected = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf((ushort)i));
            uint actual = BitConverter.SingleToUInt32Bits(widened[i]);
            if (expected != actual && mismatches++ == 0) first = $"0x{i:X4}: expected 0x{expected:X8}, device 0x{actual:X8}";
        }
        Assert.True(mismatches == 0, $"{mismatches} float16 values widen differently; first {first}");
    }

    [OpenClFact]
    public void FloatsRoundToHalfAndBFloat16LikeDotNet()
    {
        var backend = fixture.Backend;
        var samples = Samples();
        var floats = new TensorBuffer(DType.Float32, samples.Count);
        samples.CopyTo(floats.Span<float>());
        using var input = backend.Upload(floats);
        using var half = backend.Allocate(DType.Float16, samples.Count);
        using var bf16 = backend.Allocate(DType.BFloat16, samples.Count);
        backend.LaunchSource(Source(), Options, "float_to_half_bits", samples.Count,
            [KernelArgument.Of(input.Memory), KernelArgument.Of(half.Memory), KernelArgument.Of(samples.Count)]);
        backend.LaunchSource(Source(), Options, "float_to_bfloat16", samples.Count,
            [KernelArgument.Of(input.Memory), KernelArgument.Of(bf16.Memory), KernelArgument.Of(samples.Count)]);
        var halfBits = MemoryMarshal.Cast<Half, ushort>(KernelConformance.Download(backend, half).Span<Half>());
        var bf16Bits = KernelConformance.Download(backend, bf16).Span<BFloat16>();
        int halfMismatches = 0, bf16Mismatches = 0;
        string firstHalf = "", firstBf16 = "";
        for (int i = 0; i < samples.Count; i++)
        {
            uint input32 = BitConverter.SingleToUInt32Bits(samples[i]);
            ushort expectedHalf = BitConverter.HalfToUInt16Bits((Half)samples[i]);
            if (expectedHalf != halfBits[i] && halfMismatches++ == 0) firstHalf = $"0x{input32:X8}: expected 0x{expectedHalf:X4}, device 0x{halfBits[i]:X4}";
            ushort expectedBf16 = ((BFloat16)samples[i]).Bits;
            if (expectedBf16 != bf16Bits[i].Bits && bf16Mismatches++ == 0) firstBf16 = $"0x{input32:X8}: expected 0x{expectedBf16:X4}, device 0x{bf16Bits[i].Bits:X4}";
        }
        Assert.True(halfMismatches == 0, $"{halfMismatches} of {samples.Count} floats round to float16 differently; first {firstHalf}");
        Assert.True(bf16Mismatches == 0, $"{bf16Mismatches} of {samples.Count} floats round to bfloat16 differently; first {firstBf16}");
    }

    /// <summary>Every 1021st float32 bit pattern (all classes, NaN payloads included) plus, around every
    /// float16 value, the value itself, the midpoints to its neighbours and one float32 ulp either side of them.</summary>
    static List<float> Samples()
    {
        var samples = new List<float>();
        for (ulong bits = 0; bits <= uint.MaxValue; bits += 1021) samples.Add(BitConverter.UInt32BitsToSingle((uint)bits));
        for (int h = 0; h < 0x7C00; h++)
        {
            float value = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(h + 1)); // 0x7C00 is +inf: the overflow midpoint 65520
            float mid = h + 1 == 0x7C00 ? 65520f : (float)(((double)value + next) / 2);
            foreach (float x in new[] { value, mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid) })
            {
                samples.Add(x);
                samples.Add(-x);
            }
        }
        return samples;
    }
}
