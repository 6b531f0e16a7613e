using System.Runtime.InteropServices;

namespace Optimizers.Numerics;

/// <summary>
/// bfloat16: the upper 16 bits of an IEEE binary32. Used only as a storage type for optimizer state;
/// arithmetic happens in float32 and results are rounded to nearest, ties to even, when stored.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>The raw bits.</summary>
    public readonly ushort Bits;

    BFloat16(ushort bits) => Bits = bits;

    /// <summary>Wraps raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds a float32 to the nearest bfloat16, ties to even; NaN stays a quiet NaN with its sign.</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
            return new BFloat16((ushort)((bits >> 16) | 0x0040)); // keep it a quiet NaN
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return new BFloat16((ushort)((bits + roundingBias) >> 16));
    }

    /// <summary>Widens exactly to float32.</summary>
    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => Bits == other.Bits;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    /// <inheritdoc/>
    public override int GetHashCode() => Bits;
    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
