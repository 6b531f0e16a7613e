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
/// <param name="ValueIsExact">
/// <see cref="Value"/> is the exact result, not merely a float64 approximation of it: exact inputs through operations that
/// were exact in float64 (checked with an error-free transformation). A rounding of such a value that is representable in
/// every format involved costs nothing — this keeps 1·β, 1 − β^t (Sterbenz) and exactly representable scalars exact.
/// </param>
public readonly record struct Approx(double Value, double Error, bool ValueIsExact = false)
{
    /// <summary>An input taken from a record (teacher forcing) or a hyperparameter as Python holds it: no error.</summary>
    public static Approx Exact(double value) => new(value, 0.0, true);

    public static readonly Approx Zero = Exact(0.0);
    public static readonly Approx One = Exact(1.0);

    public bool IsFinite => double.IsFinite(Value);

    /// <summary>
    /// A non-finite result whose class (NaN, +∞, −∞) depends on the evaluation order: lerp gives ∞ − ∞ = NaN where
    /// β·m + (1 − β)·g gives ∞. Encoded as a non-finite value with an infinite bound; it propagates to what is computed
    /// from it. Tolerance mode accepts any non-finite class there; bit-exact mode never looks at bounds.
    /// </summary>
    public bool ClassOpen => !IsFinite && double.IsPositiveInfinity(Error);

    public static Approx OpenClass(double nonFinite) => new(nonFinite, double.PositiveInfinity, false);

    /// <summary>The bound is zero: the value is what every correct implementation must produce bit for bit.</summary>
    public bool IsExact => Error == 0.0;

    public static implicit operator Approx(double value) => Exact(value);

    public static Approx operator -(Approx a) => a with { Value = -a.Value };

    public static Approx operator +(Approx a, Approx b)
    {
        double s = a.Value + b.Value;
        return Make(s, a.Error + b.Error, a.ValueIsExact && b.ValueIsExact && SumIsExact(a.Value, b.Value, s), a.ClassOpen || b.ClassOpen);
    }

    public static Approx operator -(Approx a, Approx b) => a + (-b);

    // |a'b' − ab| ≤ |a|·eb + |b|·ea + ea·eb for a' ∈ a ± ea, b' ∈ b ± eb: no first-order truncation here.
    public static Approx operator *(Approx a, Approx b)
    {
        double p = a.Value * b.Value;
        bool exact = a.ValueIsExact && b.ValueIsExact && double.IsFinite(p) && Math.FusedMultiplyAdd(a.Value, b.Value, -p) == 0.0;
        return Make(p, Scale(Math.Abs(a.Value), b.Error) + Scale(Math.Abs(b.Value), a.Error) + Scale(a.Error, b.Error), exact, a.ClassOpen || b.ClassOpen);
    }

    // |a'/b' − a/b| ≤ (ea + |a/b|·eb) / (|b| − eb); unbounded once the divisor's interval reaches zero.
    public static Approx operator /(Approx a, Approx b)
    {
        double q = a.Value / b.Value;
        double slack = Math.Abs(b.Value) - b.Error;
        if (!(slack > 0.0)) return Make(q, double.PositiveInfinity, false, a.ClassOpen || b.ClassOpen);
        bool exact = a.ValueIsExact && b.ValueIsExact && double.IsFinite(q) && Math.FusedMultiplyAdd(q, b.Value, -a.Value) == 0.0;
        return Make(q, (a.Error + Scale(Math.Abs(q), b.Error)) / slack, exact, a.ClassOpen || b.ClassOpen);
    }

    /// <summary>
    /// a·b + c evaluated with one rounding in float64, as the fused operations of upstream are: the model's own value then
    /// carries no more rounding than the float64 side it is priced as.
    /// </summary>
    public static Approx Fma(Approx a, Approx b, Approx c)
    {
        double r = Math.FusedMultiplyAdd(a.Value, b.Value, c.Value);
        var unfused = a * b + c;
        return Make(r, unfused.Error, unfused.ValueIsExact, a.ClassOpen || b.ClassOpen || c.ClassOpen);
    }

    /// <summary>√a. The square root is concave, so the deviation is largest at the low end of the interval.</summary>
    public static Approx Sqrt(Approx a)
    {
        double r = Math.Sqrt(a.Value);
        bool exact = a.ValueIsExact && double.IsFinite(r) && Math.FusedMultiplyAdd(r, r, -a.Value) == 0.0;
        if (a.Error == 0.0) return Make(r, 0.0, exact);
        if (!a.IsFinite) return Make(r, 0.0, false, a.ClassOpen);
        double low = Math.Sqrt(Math.Max(0.0, a.Value - a.Error));
        return Make(r, Math.Max(r - low, Math.Sqrt(a.Value + a.Error) - r), false);
    }

    /// <summary>β^t as Python's <c>**</c> computes it (the C library's pow): exact for t ≤ 1, else charged two host roundings, since pow is faithful but not correctly rounded.</summary>
    public static Approx Power(double beta, double t, Rounding host)
    {
        if (t == 0.0) return One;
        if (t == 1.0) return Exact(beta);
        return host.Round(host.Round(new Approx(Math.Pow(beta, t), 0.0)));
    }

    /// <summary>Element-wise maximum (torch.maximum): NaN propagates; the bound covers whichever operand wins.</summary>
    public static Approx Max(Approx a, Approx b)
    {
        if (double.IsNaN(a.Value) || double.IsNaN(b.Value)) return a.ClassOpen || b.ClassOpen ? OpenClass(double.NaN) : Exact(double.NaN);
        double value = Math.Max(a.Value, b.Value);
        double low = Math.Max(a.Value - a.Error, b.Value - b.Error);
        double high = Math.Max(a.Value + a.Error, b.Value + b.Error);
        return Make(value, Math.Max(value - low, high - value), a.ValueIsExact && b.ValueIsExact);
    }

    /// <summary>Element-wise minimum (torch.minimum / amin): NaN propagates; the bound covers whichever operand wins.</summary>
    public static Approx Min(Approx a, Approx b)
    {
        if (double.IsNaN(a.Value) || double.IsNaN(b.Value)) return a.ClassOpen || b.ClassOpen ? OpenClass(double.NaN) : Exact(double.NaN);
        double value = Math.Min(a.Value, b.Value);
        double low = Math.Min(a.Value - a.Error, b.Value - b.Error);
        double high = Math.Min(a.Value + a.Error, b.Value + b.Error);
        return Make(value, Math.Max(value - low, high - value), a.ValueIsExact && b.ValueIsExact);
    }

    /// <summary>Whether the sign of the exact result is not determined: zero lies within the bound.</summary>
    public bool SignUncertain => IsFinite && Error > 0.0 && Math.Abs(Value) <= Error;

    /// <summary>Whether <c>this ≥ threshold</c> may go either way, the threshold carrying its own cast error.</summary>
    public bool ComparisonUncertain(Approx threshold) =>
        IsFinite && threshold.IsFinite && (Error + threshold.Error) > 0.0 && Math.Abs(Value - threshold.Value) <= Error + threshold.Error;

    public override string ToString() => $"{Value:R} ± {Error:G3}";

    // 0·∞ would be NaN; an error term multiplied by a zero magnitude contributes nothing.
    static double Scale(double magnitude, double error) => magnitude == 0.0 || error == 0.0 ? 0.0 : magnitude * error;

    static Approx Make(double value, double error, bool exact, bool classOpen = false)
    {
        if (!double.IsFinite(value)) return new Approx(value, classOpen ? double.PositiveInfinity : 0.0, false);
        return new Approx(value, double.IsNaN(error) ? double.PositiveInfinity : error, exact && error == 0.0);
    }

    // Knuth's TwoSum: the rounding error of s = a + b, zero exactly when the float64 sum was exact.
    static bool SumIsExact(double a, double b, double s)
    {
        if (!double.IsFinite(s)) return false;
        double bb = s - a;
        return (a - (s - bb)) + (b - bb) == 0.0;
    }
}
