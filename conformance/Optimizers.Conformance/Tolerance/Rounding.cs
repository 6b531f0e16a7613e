using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// What one rounding to a floating-point format may cost: |fl(x) − x| ≤ u·|x| + η, with u the unit roundoff
/// and η half the smallest subnormal (the absolute floor below which relative accuracy is lost).
/// </summary>
/// <remarks>
/// Two roundings can be added (<see cref="op_Addition"/>): the model prices an operation once for the
/// expected side and once for the actual side and charges the sum, because the check is
/// |expected − actual| ≤ bound(expected) + bound(actual) and the bounds are (super)additive in u.
/// </remarks>
/// <param name="Narrowest">The narrowest format priced; a value exactly representable in it rounds exactly in all of them.</param>
public readonly record struct Rounding(double UnitRoundoff, double UnderflowFloor, RecordedDType? Narrowest)
{
    public static readonly Rounding None = new(0.0, 0.0, null);
    public static readonly Rounding Float64 = new(Math.ScaleB(1.0, -53), Math.ScaleB(1.0, -1075), RecordedDType.Float64);
    public static readonly Rounding Float32 = new(Math.ScaleB(1.0, -24), Math.ScaleB(1.0, -150), RecordedDType.Float32);
    /// <summary>bfloat16 keeps binary32's exponent range with an 8-bit significand.</summary>
    public static readonly Rounding BFloat16 = new(Math.ScaleB(1.0, -8), Math.ScaleB(1.0, -134), RecordedDType.BFloat16);
    public static readonly Rounding Float16 = new(Math.ScaleB(1.0, -11), Math.ScaleB(1.0, -25), RecordedDType.Float16);

    public static Rounding For(RecordedDType dtype) => dtype switch
    {
        RecordedDType.Float64 => Float64,
        RecordedDType.Float32 => Float32,
        RecordedDType.BFloat16 => BFloat16,
        RecordedDType.Float16 => Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static Rounding operator +(Rounding a, Rounding b) =>
        new(a.UnitRoundoff + b.UnitRoundoff, a.UnderflowFloor + b.UnderflowFloor,
            a.Narrowest is null ? b.Narrowest : b.Narrowest is null ? a.Narrowest : Bits(a.Narrowest.Value) <= Bits(b.Narrowest.Value) ? a.Narrowest : b.Narrowest);

    static int Bits(RecordedDType d) => d switch
    {
        RecordedDType.Float64 => 53,
        RecordedDType.Float32 => 24,
        RecordedDType.Float16 => 11,
        _ => 8,
    };

    /// <summary>The largest finite number of <paramref name="dtype"/>.</summary>
    public static double MaxFinite(RecordedDType dtype) => dtype switch
    {
        RecordedDType.Float64 => double.MaxValue,
        RecordedDType.Float32 => float.MaxValue,
        RecordedDType.Float16 => 65504.0,
        _ => 3.3895313892515355e38,
    };

    /// <summary>Whether <paramref name="x"/> is a number of <paramref name="dtype"/> (rounding it there changes nothing).</summary>
    public static bool Representable(double x, RecordedDType dtype) => dtype switch
    {
        RecordedDType.Float64 => true,
        RecordedDType.Float32 => (double)(float)x == x,
        RecordedDType.Float16 => (double)(Half)x == x,
        _ => (double)(float)x == x && (BitConverter.SingleToInt32Bits((float)x) & 0xFFFF) == 0,
    };

    /// <summary>
    /// The operation that produced <paramref name="x"/> rounds its result here. An exact zero computed from
    /// exact inputs stays exact: a sum or product of representable numbers that is zero in float64 is zero exactly.
    /// </summary>
    public Approx Round(Approx x)
    {
        if (!x.IsFinite) return x;
        if (x.Error == 0.0 && x.Value == 0.0) return x;
        if (x.ValueIsExact && (Narrowest is null || Representable(x.Value, Narrowest.Value))) return x;
        if (Narrowest is null) return x;
        // Beyond the narrowest format's range one side rounds to ±∞ while a wider one stays finite: no bound holds.
        if (Math.Abs(x.Value) + x.Error > MaxFinite(Narrowest.Value)) return new Approx(x.Value, double.PositiveInfinity);
        return new Approx(x.Value, x.Error + UnitRoundoff * Math.Abs(x.Value) + UnderflowFloor);
    }

    /// <summary>A Python float (a hyperparameter, a host-side scalar) cast to the tensor's dtype.</summary>
    public Approx Cast(double scalar) => Round(Approx.Exact(scalar));
}
