// Generated from VectorConvert512.cs by generate-widths.sh: edit that file, not this one.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// Loads, stores and conversions of one block at width 256. A block is Vector256&lt;float&gt;.Count elements,
/// so each stream of a block is one float vector, or two double vectors (x0 the lower half, x1 the upper);
/// x1 is unused when the type is float. Half and bfloat16 are stored as 16-bit patterns, computed as float.
/// Every conversion gives the bits of its scalar counterpart in Elements.cs.
/// </summary>
internal static class VectorConvert256
{
    public static int BlockLength => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TS, TC>(ref TS source, nuint index, out Vector256<TC> x0, out Vector256<TC> x1)
    {
        x1 = default;
        if (typeof(TS) == typeof(float))
            x0 = Vector256.LoadUnsafe(ref Unsafe.As<TS, float>(ref source), index).As<float, TC>();
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref source);
            x0 = Vector256.LoadUnsafe(ref d, index).As<double, TC>();
            x1 = Vector256.LoadUnsafe(ref d, index + (nuint)Vector256<double>.Count).As<double, TC>();
        }
        else if (typeof(TS) == typeof(Half))
            x0 = HalfToSingle(Vector128.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
        else
            x0 = BFloat16ToSingle(Vector128.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TC>(ref TS destination, nuint index, Vector256<TC> x0, Vector256<TC> x1)
    {
        if (typeof(TS) == typeof(float))
            x0.As<TC, float>().StoreUnsafe(ref Unsafe.As<TS, float>(ref destination), index);
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref destination);
            x0.As<TC, double>().StoreUnsafe(ref d, index);
            x1.As<TC, double>().StoreUnsafe(ref d, index + (nuint)Vector256<double>.Count);
        }
        else if (typeof(TS) == typeof(Half))
            SingleToHalf(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
        else
            SingleToBFloat16(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
    }

    /// <summary>What a store to <typeparamref name="TS"/> and a load back give: the stored type's rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<TC> RoundTrip<TS, TC>(Vector256<TC> x)
    {
        if (typeof(TS) == typeof(Half)) return HalfToSingle(SingleToHalf(x.As<TC, float>())).As<float, TC>();
        if (typeof(TS) == typeof(Numerics.BFloat16)) return BFloat16ToSingle(SingleToBFloat16(x.As<TC, float>())).As<float, TC>();
        return x;
    }

    /// <summary>A block from one floating type to another: exact widening, or narrowing rounded to nearest even as (float)double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Convert<TFrom, TTo>(Vector256<TFrom> a0, Vector256<TFrom> a1, out Vector256<TTo> b0, out Vector256<TTo> b1)
    {
        if (typeof(TFrom) == typeof(TTo))
        {
            b0 = a0.As<TFrom, TTo>();
            b1 = a1.As<TFrom, TTo>();
        }
        else if (typeof(TFrom) == typeof(double))
        {
            b0 = Vector256.Narrow(a0.As<TFrom, double>(), a1.As<TFrom, double>()).As<float, TTo>();
            b1 = default;
        }
        else
        {
            (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(a0.As<TFrom, float>());
            b0 = lower.As<double, TTo>();
            b1 = upper.As<double, TTo>();
        }
    }

    /// <summary>float16 bits to float32, exactly as (float)Half: subnormals scaled exactly, NaN quieted with its payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfToSingle(Vector128<ushort> bits)
    {
        (Vector128<uint> lower, Vector128<uint> upper) = Vector128.Widen(bits);
        Vector256<uint> h = Vector256.Create(lower, upper);
        Vector256<uint> sign = (h & Vector256.Create(0x8000u)) << 16;
        Vector256<uint> exponent = h & Vector256.Create(0x7C00u);
        Vector256<uint> mantissa = h & Vector256.Create(0x03FFu);
        // Rebias the exponent from 15 to 127: add (127 − 15) << 23.
        Vector256<uint> normal = ((h & Vector256.Create(0x7FFFu)) << 13) + Vector256.Create(0x3800_0000u);
        Vector256<uint> quietBit = Vector256.ConditionalSelect(Vector256.Equals(mantissa, Vector256<uint>.Zero), Vector256<uint>.Zero, Vector256.Create(0x0040_0000u));
        Vector256<uint> infinityOrNaN = (mantissa << 13) | Vector256.Create(0x7F80_0000u) | quietBit;
        // A subnormal is mantissa · 2^−24; the int→float conversion and the power-of-two scaling are both exact.
        Vector256<uint> subnormal = (Vector256.ConvertToSingle(mantissa.AsInt32()) * Vector256.Create(5.9604644775390625E-8f)).AsUInt32();
        Vector256<uint> magnitude = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256.Create(0x7C00u)), infinityOrNaN,
            Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero), subnormal, normal));
        return (magnitude | sign).AsSingle();
    }

    /// <summary>float32 to float16 bits, rounded to nearest even exactly as (Half)float, including subnormals, overflow and NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ushort> SingleToHalf(Vector256<float> x)
    {
        Vector256<uint> bits = x.AsUInt32();
        Vector256<uint> abs = bits & Vector256.Create(0x7FFF_FFFFu);
        Vector256<uint> sign = (bits >> 16) & Vector256.Create(0x8000u);
        // NaN keeps the top 10 payload bits and becomes quiet.
        Vector256<uint> nan = Vector256.Create(0x7E00u) | ((abs >> 13) & Vector256.Create(0x03FFu));
        // Normal results: rebias the exponent (−112 << 23) and round the 13 dropped bits to nearest even;
        // a carry out of the mantissa correctly bumps the exponent.
        Vector256<uint> normal = (abs - Vector256.Create(0x3800_0000u) + Vector256.Create(0x0FFFu) + ((abs >> 13) & Vector256<uint>.One)) >> 13;
        // Subnormal results: adding 0.5 leaves an ulp of 2^−24, the float16 subnormal spacing, so the float
        // addition itself rounds to nearest even; the bits above 0.5's are the float16 pattern (up to 0x0400).
        Vector256<uint> subnormal = (abs.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(0x3F00_0000u);
        // 65520 = 65504 + half an ulp is a tie that rounds to the even neighbour, infinity.
        Vector256<uint> magnitude =
            Vector256.ConditionalSelect(Vector256.GreaterThan(abs, Vector256.Create(0x7F80_0000u)), nan,
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(0x477F_F000u)), Vector256.Create(0x7C00u),
            Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(0x3880_0000u)), normal, subnormal)));
        Vector256<uint> half = magnitude | sign;
        return Vector128.Narrow(half.GetLower(), half.GetUpper());
    }

    /// <summary>bfloat16 bits to float32: the upper half of the pattern, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BFloat16ToSingle(Vector128<ushort> bits)
    {
        (Vector128<uint> lower, Vector128<uint> upper) = Vector128.Widen(bits);
        return (Vector256.Create(lower, upper) << 16).AsSingle();
    }

    /// <summary>float32 to bfloat16 bits as (BFloat16)float: round to nearest even on the integer pattern; NaN kept quiet with its sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ushort> SingleToBFloat16(Vector256<float> x)
    {
        Vector256<uint> bits = x.AsUInt32();
        Vector256<uint> isNaN = Vector256.GreaterThan(bits & Vector256.Create(0x7FFF_FFFFu), Vector256.Create(0x7F80_0000u));
        Vector256<uint> quietNaN = (bits >> 16) | Vector256.Create(0x0040u);
        Vector256<uint> rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
        Vector256<uint> result = Vector256.ConditionalSelect(isNaN, quietNaN, rounded);
        return Vector128.Narrow(result.GetLower(), result.GetUpper());
    }
}
