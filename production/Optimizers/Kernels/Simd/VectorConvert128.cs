// Generated from VectorConvert512.cs by generate-widths.sh: edit that file, not this one.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Optimizers.Kernels.Simd;

/// <summary>
/// Loads, stores and conversions of one block at width 128. A block is Vector128&lt;float&gt;.Count elements,
/// so each stream of a block is one float vector, or two double vectors (x0 the lower half, x1 the upper);
/// x1 is unused when the type is float. Half and bfloat16 are stored as 16-bit patterns, computed as float.
/// Every conversion gives the bits of its scalar counterpart in Elements.cs.
/// </summary>
internal static class VectorConvert128
{
    public static int BlockLength => Vector128<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TS, TC>(ref TS source, nuint index, out Vector128<TC> x0, out Vector128<TC> x1)
    {
        x1 = default;
        if (typeof(TS) == typeof(float))
            x0 = Vector128.LoadUnsafe(ref Unsafe.As<TS, float>(ref source), index).As<float, TC>();
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref source);
            x0 = Vector128.LoadUnsafe(ref d, index).As<double, TC>();
            x1 = Vector128.LoadUnsafe(ref d, index + (nuint)Vector128<double>.Count).As<double, TC>();
        }
        else if (typeof(TS) == typeof(Half))
            x0 = HalfToSingle(Vector64.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
        else
            x0 = BFloat16ToSingle(Vector64.LoadUnsafe(ref Unsafe.As<TS, ushort>(ref source), index)).As<float, TC>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TS, TC>(ref TS destination, nuint index, Vector128<TC> x0, Vector128<TC> x1)
    {
        if (typeof(TS) == typeof(float))
            x0.As<TC, float>().StoreUnsafe(ref Unsafe.As<TS, float>(ref destination), index);
        else if (typeof(TS) == typeof(double))
        {
            ref double d = ref Unsafe.As<TS, double>(ref destination);
            x0.As<TC, double>().StoreUnsafe(ref d, index);
            x1.As<TC, double>().StoreUnsafe(ref d, index + (nuint)Vector128<double>.Count);
        }
        else if (typeof(TS) == typeof(Half))
            SingleToHalf(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
        else
            SingleToBFloat16(x0.As<TC, float>()).StoreUnsafe(ref Unsafe.As<TS, ushort>(ref destination), index);
    }

    /// <summary>What a store to <typeparamref name="TS"/> and a load back give: the stored type's rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<TC> RoundTrip<TS, TC>(Vector128<TC> x)
    {
        if (typeof(TS) == typeof(Half)) return HalfToSingle(SingleToHalf(x.As<TC, float>())).As<float, TC>();
        if (typeof(TS) == typeof(Numerics.BFloat16)) return BFloat16ToSingle(SingleToBFloat16(x.As<TC, float>())).As<float, TC>();
        return x;
    }

    /// <summary>A block from one floating type to another: exact widening, or narrowing rounded to nearest even as (float)double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Convert<TFrom, TTo>(Vector128<TFrom> a0, Vector128<TFrom> a1, out Vector128<TTo> b0, out Vector128<TTo> b1)
    {
        if (typeof(TFrom) == typeof(TTo))
        {
            b0 = a0.As<TFrom, TTo>();
            b1 = a1.As<TFrom, TTo>();
        }
        else if (typeof(TFrom) == typeof(double))
        {
            b0 = Vector128.Narrow(a0.As<TFrom, double>(), a1.As<TFrom, double>()).As<float, TTo>();
            b1 = default;
        }
        else
        {
            (Vector128<double> lower, Vector128<double> upper) = Vector128.Widen(a0.As<TFrom, float>());
            b0 = lower.As<double, TTo>();
            b1 = upper.As<double, TTo>();
        }
    }

    /// <summary>float16 bits to float32, exactly as (float)Half: subnormals scaled exactly, NaN quieted with its payload.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HalfToSingle(Vector64<ushort> bits)
    {
        (Vector64<uint> lower, Vector64<uint> upper) = Vector64.Widen(bits);
        Vector128<uint> h = Vector128.Create(lower, upper);
        Vector128<uint> sign = (h & Vector128.Create(0x8000u)) << 16;
        Vector128<uint> exponent = h & Vector128.Create(0x7C00u);
        Vector128<uint> mantissa = h & Vector128.Create(0x03FFu);
        // Rebias the exponent from 15 to 127: add (127 − 15) << 23.
        Vector128<uint> normal = ((h & Vector128.Create(0x7FFFu)) << 13) + Vector128.Create(0x3800_0000u);
        Vector128<uint> quietBit = Vector128.ConditionalSelect(Vector128.Equals(mantissa, Vector128<uint>.Zero), Vector128<uint>.Zero, Vector128.Create(0x0040_0000u));
        Vector128<uint> infinityOrNaN = (mantissa << 13) | Vector128.Create(0x7F80_0000u) | quietBit;
        // A subnormal is mantissa · 2^−24; the int→float conversion and the power-of-two scaling are both exact.
        Vector128<uint> subnormal = (Vector128.ConvertToSingle(mantissa.AsInt32()) * Vector128.Create(5.9604644775390625E-8f)).AsUInt32();
        Vector128<uint> magnitude = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128.Create(0x7C00u)), infinityOrNaN,
            Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128<uint>.Zero), subnormal, normal));
        return (magnitude | sign).AsSingle();
    }

    /// <summary>float32 to float16 bits, rounded to nearest even exactly as (Half)float, including subnormals, overflow and NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector64<ushort> SingleToHalf(Vector128<float> x)
    {
        Vector128<uint> bits = x.AsUInt32();
        Vector128<uint> abs = bits & Vector128.Create(0x7FFF_FFFFu);
        Vector128<uint> sign = (bits >> 16) & Vector128.Create(0x8000u);
        // NaN keeps the top 10 payload bits and becomes quiet.
        Vector128<uint> nan = Vector128.Create(0x7E00u) | ((abs >> 13) & Vector128.Create(0x03FFu));
        // Normal results: rebias the exponent (−112 << 23) and round the 13 dropped bits to nearest even;
        // a carry out of the mantissa correctly bumps the exponent.
        Vector128<uint> normal = (abs - Vector128.Create(0x3800_0000u) + Vector128.Create(0x0FFFu) + ((abs >> 13) & Vector128<uint>.One)) >> 13;
        // Subnormal results: adding 0.5 leaves an ulp of 2^−24, the float16 subnormal spacing, so the float
        // addition itself rounds to nearest even; the bits above 0.5's are the float16 pattern (up to 0x0400).
        Vector128<uint> subnormal = (abs.AsSingle() + Vector128.Create(0.5f)).AsUInt32() - Vector128.Create(0x3F00_0000u);
        // 65520 = 65504 + half an ulp is a tie that rounds to the even neighbour, infinity.
        Vector128<uint> magnitude =
            Vector128.ConditionalSelect(Vector128.GreaterThan(abs, Vector128.Create(0x7F80_0000u)), nan,
            Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(abs, Vector128.Create(0x477F_F000u)), Vector128.Create(0x7C00u),
            Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(abs, Vector128.Create(0x3880_0000u)), normal, subnormal)));
        Vector128<uint> half = magnitude | sign;
        return Vector64.Narrow(half.GetLower(), half.GetUpper());
    }

    /// <summary>bfloat16 bits to float32: the upper half of the pattern, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> BFloat16ToSingle(Vector64<ushort> bits)
    {
        (Vector64<uint> lower, Vector64<uint> upper) = Vector64.Widen(bits);
        return (Vector128.Create(lower, upper) << 16).AsSingle();
    }

    /// <summary>float32 to bfloat16 bits as (BFloat16)float: round to nearest even on the integer pattern; NaN kept quiet with its sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector64<ushort> SingleToBFloat16(Vector128<float> x)
    {
        Vector128<uint> bits = x.AsUInt32();
        Vector128<uint> isNaN = Vector128.GreaterThan(bits & Vector128.Create(0x7FFF_FFFFu), Vector128.Create(0x7F80_0000u));
        Vector128<uint> quietNaN = (bits >> 16) | Vector128.Create(0x0040u);
        Vector128<uint> rounded = (bits + Vector128.Create(0x7FFFu) + ((bits >> 16) & Vector128<uint>.One)) >> 16;
        Vector128<uint> result = Vector128.ConditionalSelect(isNaN, quietNaN, rounded);
        return Vector64.Narrow(result.GetLower(), result.GetUpper());
    }
}
