// Template for VectorConvert256.cs and VectorConvert128.cs (generate-widths.sh): edit this file only.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// Loads, stores and conversions of one block at width 512. A block is Vector512&lt;float&gt;.Count elements,
/// so each stream of a block is one float vector, or two double vectors (x0 the lower half, x1 the upper);
/// x1 is unused when the type is float. Half and bfloat16 are stored as 16-bit patterns, computed as float.
/// Every conversion gives the bits of its scalar counterpart in Elements.cs.
/// </summary>
internal static class VectorConvert512
{
    public static int BlockLength => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TS, TC>(ref TS source, nuint index, out Vector512<TC> x0, out Vector512<TC> x1)
    {
        x1 = default;
        if (typeof(TS) == typeof(float))
            x0 = Vector512.LoadUnsafe(ref Unsafe.As<TS, float>(ref source), index).As<float, TC>();
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref source);
            x0 = Vector512.LoadUnsafe(ref d, index).As<double, TC>();
            x1 = Vector512.LoadUnsafe(ref d, index + (nuint)Vector512<double>.Count).As<double, TC>();
        }
        else if (typeof(TS) == typeof(Half))
            x0 = HalfToSingle(Vector256.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
        else
            x0 = BFloat16ToSingle(Vector256.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TC>(ref TS destination, nuint index, Vector512<TC> x0, Vector512<TC> x1)
    {
        if (typeof(TS) == typeof(float))
            x0.As<TC, float>().StoreUnsafe(ref Unsafe.As<TS, float>(ref destination), index);
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref destination);
            x0.As<TC, double>().StoreUnsafe(ref d, index);
            x1.As<TC, double>().StoreUnsafe(ref d, index + (nuint)Vector512<double>.Count);
        }
        else if (typeof(TS) == typeof(Half))
            SingleToHalf(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
        else
            SingleToBFloat16(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
    }

    /// <summary>What a store to <typeparamref name="TS"/> and a load back give: the stored type's rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<TC> RoundTrip<TS, TC>(Vector512<TC> x)
    {
        if (typeof(TS) == typeof(Half)) return HalfToSingle(SingleToHalf(x.As<TC, float>())).As<float, TC>();
        if (typeof(TS) == typeof(Numerics.BFloat16)) return BFloat16ToSingle(SingleToBFloat16(x.As<TC, float>())).As<float, TC>();
        return x;
    }

    /// <summary>A block from one floating type to another: exact widening, or narrowing rounded to nearest even as (float)double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Convert<TFrom, TTo>(Vector512<TFrom> a0, Vector512<TFrom> a1, out Vector512<TTo> b0, out Vector512<TTo> b1)
    {
        if (typeof(TFrom) == typeof(TTo))
        {
            b0 = a0.As<TFrom, TTo>();
            b1 = a1.As<TFrom, TTo>();
        }
        else if (typeof(TFrom) == typeof(double))
        {
            b0 = Vector512.Narrow(a0.As<TFrom, double>(), a1.As<TFrom, double>()).As<float, TTo>();
            b1 = default;
        }
        else
        {
            (Vector512<double> lower, Vector512<double> upper) = Vector512.Widen(a0.As<TFrom, float>());
            b0 = lower.As<double, TTo>();
            b1 = upper.As<double, TTo>();
        }
    }

    /// <summary>float16 bits to float32, exactly as (float)Half: subnormals scaled exactly, NaN quieted with its payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector256<ushort> bits)
    {
        (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(bits);
        Vector512<uint> h = Vector512.Create(lower, upper);
        Vector512<uint> sign = (h & Vector512.Create(0x8000u)) << 16;
        Vector512<uint> exponent = h & Vector512.Create(0x7C00u);
        Vector512<uint> mantissa = h & Vector512.Create(0x03FFu);
        // Rebias the exponent from 15 to 127: add (127 − 15) << 23.
        Vector512<uint> normal = ((h & Vector512.Create(0x7FFFu)) << 13) + Vector512.Create(0x3800_0000u);
        Vector512<uint> quietBit = Vector512.ConditionalSelect(Vector512.Equals(mantissa, Vector512<uint>.Zero), Vector512<uint>.Zero, Vector512.Create(0x0040_0000u));
        Vector512<uint> infinityOrNaN = (mantissa << 13) | Vector512.Create(0x7F80_0000u) | quietBit;
        // A subnormal is mantissa · 2^−24; the int→float conversion and the power-of-two scaling are both exact.
        Vector512<uint> subnormal = (Vector512.ConvertToSingle(mantissa.AsInt32()) * Vector512.Create(5.9604644775390625E-8f)).AsUInt32();
        Vector512<uint> magnitude = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512.Create(0x7C00u)), infinityOrNaN,
            Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512<uint>.Zero), subnormal, normal));
        return (magnitude | sign).AsSingle();
    }

    /// <summary>float32 to float16 bits, rounded to nearest even exactly as (Half)float, including subnormals, overflow and NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ushort> SingleToHalf(Vector512<float> x)
    {
        Vector512<uint> bits = x.AsUInt32();
        Vector512<uint> abs = bits & Vector512.Create(0x7FFF_FFFFu);
        Vector512<uint> sign = (bits >> 16) & Vector512.Create(0x8000u);
        // NaN keeps the top 10 payload bits and becomes quiet.
        Vector512<uint> nan = Vector512.Create(0x7E00u) | ((abs >> 13) & Vector512.Create(0x03FFu));
        // Normal results: rebias the exponent (−112 << 23) and round the 13 dropped bits to nearest even;
        // a carry out of the mantissa correctly bumps the exponent.
        Vector512<uint> normal = (abs - Vector512.Create(0x3800_0000u) + Vector512.Create(0x0FFFu) + ((abs >> 13) & Vector512<uint>.One)) >> 13;
        // Subnormal results: adding 0.5 leaves an ulp of 2^−24, the float16 subnormal spacing, so the float
        // addition itself rounds to nearest even; the bits above 0.5's are the float16 pattern (up to 0x0400).
        Vector512<uint> subnormal = (abs.AsSingle() + Vector512.Create(0.5f)).AsUInt32() - Vector512.Create(0x3F00_0000u);
        // 65520 = 65504 + half an ulp is a tie that rounds to the even neighbour, infinity.
        Vector512<uint> magnitude =
            Vector512.ConditionalSelect(Vector512.GreaterThan(abs, Vector512.Create(0x7F80_0000u)), nan,
            Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(0x477F_F000u)), Vector512.Create(0x7C00u),
            Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(0x3880_0000u)), normal, subnormal)));
        Vector512<uint> half = magnitude | sign;
        return Vector256.Narrow(half.GetLower(), half.GetUpper());
    }

    /// <summary>bfloat16 bits to float32: the upper half of the pattern, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BFloat16ToSingle(Vector256<ushort> bits)
    {
        (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(bits);
        return (Vector512.Create(lower, upper) << 16).AsSingle();
    }

    /// <summary>float32 to bfloat16 bits as (BFloat16)float: round to nearest even on the integer pattern; NaN kept quiet with its sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ushort> SingleToBFloat16(Vector512<float> x)
    {
        Vector512<uint> bits = x.AsUInt32();
        Vector512<uint> isNaN = Vector512.GreaterThan(bits & Vector512.Create(0x7FFF_FFFFu), Vector512.Create(0x7F80_0000u));
        Vector512<uint> quietNaN = (bits >> 16) | Vector512.Create(0x0040u);
        Vector512<uint> rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
        Vector512<uint> result = Vector512.ConditionalSelect(isNaN, quietNaN, rounded);
        return Vector256.Narrow(result.GetLower(), result.GetUpper());
    }
}
