namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// A number together with a bound on how far a computation of it may lie from the exact result:
/// running error analysis (paper-notes/numerics.md, "The tolerance model").
/// </summary>
/// <remarks>
/// The arithmetic operators propagate the bounds of their operands as if the operation itself were exact;
/// the rounding an implementation performs is added where it happens, with <see cref="Rounding.Round"/>.
/// That split lets a fused multiply-add be written as one rounding of <c>a * b + c</c>, exactly as upstream does it.
/// <see cref="Value"/> is evaluated in float64 and serves both as the centre of the interval and as the magnitude
/// the roundings scale with. A non-finite value carries no bound: it is compared by class.
/// </remarks>
public readonly record struct Approx(double Value, double Error)
{
    /// <summary>An input taken from a record (teacher forcing) or a hyperparameter as Python holds it: no error.</summary>
    public static Approx Exact(double value) => new(value, 0.0);

    public static readonly Approx Zero = Exact(0.0);
    public static readonly Approx One = Exact(1.0);

    public bool IsFinite => double.IsFinite(Value);

    /// <summary>The bound is zero: the value is what every correct implementation must produce bit for bit.</summary>
    public bool IsExact => Error == 0.0;

    public static implicit operator Approx(double value) => Exact(value);

    public static Approx operator -(Approx a) => new(-a.Value, a.Error);

    public static Approx operator +(Approx a, Approx b) => Make(a.Value + b.Value, a.Error + b.Error);

    public static Approx operator -(Approx a, Approx b) => Make(a.Value - b.Value, a.Error + b.Error);

    // |a'b' − ab| ≤ |a|·eb + |b|·ea + ea·eb for a' ∈ a ± ea, b' ∈ b ± eb: no first-order truncation here.
    public static Approx operator *(Approx a, Approx b) =>
        Make(a.Value * b.Value, Scale(Math.Abs(a.Value), b.Error) + Scale(Math.Abs(b.Value), a.Error) + Scale(a.Error, b.Error));

    // |a'/b' − a/b| ≤ (ea + |a/b|·eb) / (|b| − eb); unbounded once the divisor's interval reaches zero.
    public static Approx operator /(Approx a, Approx b)
    {
        double q = a.Value / b.Value;
        double slack = Math.Abs(b.Value) - b.Error;
        if (!(slack > 0.0)) return Make(q, double.PositiveInfinity);
        return Make(q, (a.Error + Scale(Math.Abs(q), b.Error)) / slack);
    }

    /// <summary>√a. The square root is concave, so the deviation is largest at the low end of the interval.</summary>
    public static Approx Sqrt(Approx a)
    {
        double r = Math.Sqrt(a.Value);
        if (a.Error == 0.0) return Make(r, 0.0);
        double low = Math.Sqrt(Math.Max(0.0, a.Value - a.Error));
        return Make(r, Math.Max(r - low, Math.Sqrt(a.Value + a.Error) - r));
    }

    /// <summary>Element-wise maximum (torch.maximum): NaN propagates; the bound covers whichever operand wins.</summary>
    public static Approx Max(Approx a, Approx b)
    {
        if (double.IsNaN(a.Value) || double.IsNaN(b.Value)) return Exact(double.NaN);
        double value = Math.Max(a.Value, b.Value);
        double low = Math.Max(a.Value - a.Error, b.Value - b.Error);
        double high = Math.Max(a.Value + a.Error, b.Value + b.Error);
        return Make(value, Math.Max(value - low, high - value));
    }

    /// <summary>Element-wise minimum (torch.minimum / amin): NaN propagates; the bound covers whichever operand wins.</summary>
    public static Approx Min(Approx a, Approx b)
    {
        if (double.IsNaN(a.Value) || double.IsNaN(b.Value)) return Exact(double.NaN);
        double value = Math.Min(a.Value, b.Value);
        double low = Math.Min(a.Value - a.Error, b.Value - b.Error);
        double high = Math.Min(a.Value + a.Error, b.Value + b.Error);
        return Make(value, Math.Max(value - low, high - value));
    }

    /// <summary>Whether the sign of the exact result is not determined: zero lies within the bound.</summary>
    public bool SignUncertain => IsFinite && Error > 0.0 && Math.Abs(Value) <= Error;

    /// <summary>Whether <c>this ≥ threshold</c> may go either way, the threshold carrying its own cast error.</summary>
    public bool ComparisonUncertain(Approx threshold) =>
        IsFinite && threshold.IsFinite && (Error + threshold.Error) > 0.0 && Math.Abs(Value - threshold.Value) <= Error + threshold.Error;

    public override string ToString() => $"{Value:R} ± {Error:G3}";

    // 0·∞ would be NaN; an error term multiplied by a zero magnitude contributes nothing.
    static double Scale(double magnitude, double error) => magnitude == 0.0 || error == 0.0 ? 0.0 : magnitude * error;

    static Approx Make(double value, double error)
    {
        if (!double.IsFinite(value)) return new Approx(value, 0.0);
        return new Approx(value, double.IsNaN(error) ? double.PositiveInfinity : error);
    }
}
