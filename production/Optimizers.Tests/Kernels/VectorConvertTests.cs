using System.Runtime.Intrinsics;
using Optimizers.Kernels.Simd;
using Optimizers.Numerics;

namespace Optimizers.Tests.Kernels;

/// <summary>
/// The vector float16 and bfloat16 conversions give the bits of the scalar casts (Half)f, (float)Half, (BFloat16)f
/// and (float)BFloat16, at every width: every exponent with every pattern of the bits that decide the rounding,
/// every float16 pattern, NaN payloads, subnormals, overflow and ties.
/// </summary>
public class VectorConvertTests
{
    /// <summary>Float patterns that reach every rounding case: all exponents and signs, the low 14 mantissa bits exhaustively under a few high patterns, and random ones.</summary>
    static IEnumerable<uint> FloatPatterns()
    {
        foreach (uint sign in new[] { 0u, 0x8000_0000u })
            for (uint exponent = 0; exponent < 256; exponent++)
                foreach (uint high in new[] { 0u, 0x1FFu, 0x155u, 0x100u, 0x0AAu })
                    for (uint low = 0; low < 1u << 14; low += exponent is >= 96 and <= 145 ? 1u : 97u)
                        yield return sign | exponent << 23 | high << 14 | low;
        var random = new Random(5);
        for (int i = 0; i < 200_000; i++) yield return (uint)random.NextInt64(0, 1L << 32);
    }

    static void CheckFloats(Func<float[], ushort[]> vectorToHalf, Func<float[], ushort[]> vectorToBFloat16, int lanes)
    {
        var batch = new List<uint>(lanes);
        foreach (uint bits in FloatPatterns())
        {
            batch.Add(bits);
            if (batch.Count < lanes) continue;
            float[] values = [.. batch.Select(BitConverter.UInt32BitsToSingle)];
            ushort[] half = vectorToHalf(values), bf16 = vectorToBFloat16(values);
            for (int i = 0; i < lanes; i++)
            {
                ushort expectedHalf = BitConverter.HalfToUInt16Bits((Half)values[i]);
                ushort expectedBf16 = ((BFloat16)values[i]).Bits;
                if (half[i] != expectedHalf) Assert.Fail($"{lanes} lanes: (Half)0x{batch[i]:X8} = 0x{expectedHalf:X4}, vector gave 0x{half[i]:X4}");
                if (bf16[i] != expectedBf16) Assert.Fail($"{lanes} lanes: (BFloat16)0x{batch[i]:X8} = 0x{expectedBf16:X4}, vector gave 0x{bf16[i]:X4}");
            }
            batch.Clear();
        }
    }

    static void CheckHalves(Func<ushort[], float[]> vectorFromHalf, Func<ushort[], float[]> vectorFromBFloat16, int lanes)
    {
        for (int first = 0; first < 1 << 16; first += lanes)
        {
            ushort[] bits = [.. Enumerable.Range(first, lanes).Select(i => (ushort)i)];
            float[] fromHalf = vectorFromHalf(bits), fromBf16 = vectorFromBFloat16(bits);
            for (int i = 0; i < lanes; i++)
            {
                uint expectedHalf = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf(bits[i]));
                uint expectedBf16 = BitConverter.SingleToUInt32Bits((float)BFloat16.FromBits(bits[i]));
                Assert.True(BitConverter.SingleToUInt32Bits(fromHalf[i]) == expectedHalf, $"(float)Half 0x{bits[i]:X4}: expected 0x{expectedHalf:X8}, vector gave 0x{BitConverter.SingleToUInt32Bits(fromHalf[i]):X8}");
                Assert.True(BitConverter.SingleToUInt32Bits(fromBf16[i]) == expectedBf16, $"(float)BFloat16 0x{bits[i]:X4}: expected 0x{expectedBf16:X8}");
            }
        }
    }

    [Fact]
    public void Float_to_16_bits_matches_the_scalar_casts_at_width_512()
        => CheckFloats(f => Lanes(VectorConvert512.SingleToHalf(Vector512.Create(f))), f => Lanes(VectorConvert512.SingleToBFloat16(Vector512.Create(f))), Vector512<float>.Count);

    [Fact]
    public void Float_to_16_bits_matches_the_scalar_casts_at_width_256()
        => CheckFloats(f => Lanes(VectorConvert256.SingleToHalf(Vector256.Create(f))), f => Lanes(VectorConvert256.SingleToBFloat16(Vector256.Create(f))), Vector256<float>.Count);

    [Fact]
    public void Float_to_16_bits_matches_the_scalar_casts_at_width_128()
        => CheckFloats(f => Lanes(VectorConvert128.SingleToHalf(Vector128.Create(f))), f => Lanes(VectorConvert128.SingleToBFloat16(Vector128.Create(f))), Vector128<float>.Count);

    [Fact]
    public void Every_16_bit_pattern_widens_like_the_scalar_casts_at_every_width()
    {
        CheckHalves(h => Lanes(VectorConvert512.HalfToSingle(Vector256.Create(h))), h => Lanes(VectorConvert512.BFloat16ToSingle(Vector256.Create(h))), Vector512<float>.Count);
        CheckHalves(h => Lanes(VectorConvert256.HalfToSingle(Vector128.Create(h))), h => Lanes(VectorConvert256.BFloat16ToSingle(Vector128.Create(h))), Vector256<float>.Count);
        CheckHalves(h => Lanes(VectorConvert128.HalfToSingle(Vector64.Create(h))), h => Lanes(VectorConvert128.BFloat16ToSingle(Vector64.Create(h))), Vector128<float>.Count);
    }

    static ushort[] Lanes(Vector256<ushort> v) { var a = new ushort[Vector256<ushort>.Count]; v.CopyTo(a); return a; }
    static ushort[] Lanes(Vector128<ushort> v) { var a = new ushort[Vector128<ushort>.Count]; v.CopyTo(a); return a; }
    static ushort[] Lanes(Vector64<ushort> v) { var a = new ushort[Vector64<ushort>.Count]; v.CopyTo(a); return a; }
    static float[] Lanes(Vector512<float> v) { var a = new float[Vector512<float>.Count]; v.CopyTo(a); return a; }
    static float[] Lanes(Vector256<float> v) { var a = new float[Vector256<float>.Count]; v.CopyTo(a); return a; }
    static float[] Lanes(Vector128<float> v) { var a = new float[Vector128<float>.Count]; v.CopyTo(a); return a; }
}
