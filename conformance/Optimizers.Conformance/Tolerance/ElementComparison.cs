using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>How a replay compares values.</summary>
public enum ComparisonMode
{
    /// <summary>|expected − actual| ≤ SafetyFactor·(bound of both sides), with ambiguity zones. For the float64 reference.</summary>
    Tolerance,

    /// <summary>Bit for bit (every NaN equal to every NaN; +0 ≠ −0). For production, which follows upstream's rounding.</summary>
    BitExact,
}

/// <summary>The outcome for one element.</summary>
/// <param name="Ulps">|expected − actual| in units of the last place of <c>expected</c> in the recorded dtype.</param>
/// <param name="Relative">|expected − actual| / max(|expected|, |actual|); 0 when both are zero.</param>
/// <param name="Severity">How close to failing: the error over the allowed error (tolerance mode) or the ulps (bit-exact mode). Above 1 fails.</param>
/// <param name="Ambiguous">The element lies in an ambiguity zone (its branch or sign may go either way).</param>
/// <param name="Unbounded">The model's value is finite but its error bound is not: only the class was checked, not the value.</param>
public readonly record struct ElementVerdict(bool Pass, double Ulps, double Relative, double Allowed, double Severity, bool Ambiguous,
    bool Unbounded = false);

/// <summary>Compares one expected element with one actual element under the tolerance model.</summary>
public static class ElementComparison
{
    public static ElementVerdict Compare(double expected, double actual, Approx bound, IReadOnlyList<Approx>? alternatives,
        RecordedDType dtype, ComparisonMode mode)
    {
        double difference = Math.Abs(expected - actual);
        double ulps = Ulps(expected, actual, dtype);
        double relative = Relative(expected, actual);
        bool ambiguous = alternatives is { Count: > 0 };

        if (mode == ComparisonMode.BitExact)
        {
            bool same = SameBits(expected, actual);
            return new ElementVerdict(same, same ? 0.0 : Math.Max(ulps, 1.0), relative, 0.0, same ? 0.0 : Math.Max(ulps, 1.0), false);
        }

        // A non-finite result whose class depends on the evaluation order (Approx.ClassOpen): any non-finite class.
        if (bound.ClassOpen && !double.IsFinite(expected) && !double.IsFinite(actual))
            return new ElementVerdict(true, 0.0, 0.0, 0.0, 0.0, true);

        // Unbounded: a side may have overflowed, or a divisor's interval reaches zero, so the value cannot be asserted. The
        // class still can (a NaN or the wrong infinity is never a rounding effect), except that a finite value beyond the
        // recorded dtype's range is that dtype's infinity (float64 side vs float32 golden that overflowed).
        bool unbounded = bound.IsFinite && double.IsPositiveInfinity(bound.Error);

        // NaN, +∞ and −∞ are classes: they must match exactly.
        if (!double.IsFinite(expected) || !double.IsFinite(actual))
        {
            bool sameClass = SameClass(expected, actual)
                             || (unbounded && SameClass(RoundToRange(expected, dtype), RoundToRange(actual, dtype)));
            if (unbounded && sameClass) return new ElementVerdict(true, ulps, relative, double.PositiveInfinity, 0.0, true, Unbounded: true);
            return new ElementVerdict(sameClass, sameClass ? 0.0 : double.PositiveInfinity, sameClass ? 0.0 : 1.0, 0.0,
                sameClass ? 0.0 : double.PositiveInfinity, ambiguous);
        }

        if (unbounded) return new ElementVerdict(true, ulps, relative, double.PositiveInfinity, 0.0, true, Unbounded: true);

        // A zero bound means the exact result is representable and reached without rounding (an untouched parameter, a
        // step counter, a product with an exact zero): every correct implementation produces it bit for bit, ±0 included.
        if (bound.IsExact && bound.IsFinite && !ambiguous)
        {
            bool same = SameBits(expected, actual);
            return new ElementVerdict(same, ulps, relative, 0.0, same ? 0.0 : double.PositiveInfinity, false);
        }

        double allowed = ToleranceModel.SafetyFactor * bound.Error;
        double severity = allowed > 0 ? difference / allowed : (difference == 0 ? 0 : double.PositiveInfinity);
        if (difference <= allowed) return new ElementVerdict(true, ulps, relative, allowed, severity, ambiguous);

        if (ambiguous)
        {
            // Another branch was within rounding of its threshold: the actual may have taken it. Check it against the
            // model's value of that branch, whose own error is covered by the same budget.
            foreach (var candidate in alternatives!.Append(bound))
            {
                double candidateAllowed = ToleranceModel.SafetyFactor * candidate.Error;
                if (candidate.IsFinite && Math.Abs(actual - candidate.Value) <= candidateAllowed)
                    return new ElementVerdict(true, ulps, relative, candidateAllowed, 0.0, true);
            }
        }
        return new ElementVerdict(false, ulps, relative, allowed, severity, ambiguous);
    }

    /// <summary>A finite magnitude past the largest finite value of <paramref name="dtype"/> becomes that dtype's infinity.</summary>
    static double RoundToRange(double x, RecordedDType dtype)
    {
        if (!double.IsFinite(x)) return x;
        double max = dtype switch
        {
            RecordedDType.Float32 => float.MaxValue,
            RecordedDType.Float64 => double.MaxValue,
            RecordedDType.BFloat16 => 3.3895313892515355e38,
            _ => 65504.0,
        };
        return Math.Abs(x) > max ? Math.CopySign(double.PositiveInfinity, x) : x;
    }

    public static bool SameBits(double a, double b) =>
        (double.IsNaN(a) && double.IsNaN(b)) || BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    public static bool SameClass(double a, double b) =>
        double.IsNaN(a) ? double.IsNaN(b) : double.IsInfinity(a) ? a == b : double.IsFinite(b);

    public static double Relative(double expected, double actual)
    {
        if (expected == actual || (double.IsNaN(expected) && double.IsNaN(actual))) return 0.0;
        double scale = Math.Max(Math.Abs(expected), Math.Abs(actual));
        double r = Math.Abs(expected - actual) / scale;
        return double.IsFinite(r) ? r : 1.0;
    }

    /// <summary>The distance in units of the last place of <paramref name="expected"/> in <paramref name="dtype"/>.</summary>
    public static double Ulps(double expected, double actual, RecordedDType dtype)
    {
        if (SameBits(expected, actual) || expected == actual) return 0.0;
        if (!double.IsFinite(expected) || !double.IsFinite(actual)) return double.PositiveInfinity;
        return Math.Abs(expected - actual) / Ulp(expected, dtype);
    }

    /// <summary>The spacing of <paramref name="dtype"/> at |<paramref name="x"/>| (the subnormal spacing at zero).</summary>
    public static double Ulp(double x, RecordedDType dtype)
    {
        double a = Math.Abs(x);
        switch (dtype)
        {
            case RecordedDType.Float32:
            {
                float f = (float)a;
                if (float.IsInfinity(f)) f = float.MaxValue;
                return MathF.BitIncrement(f) - f;
            }
            case RecordedDType.Float64:
                return a == double.MaxValue ? Math.BitIncrement(a) : Math.BitIncrement(a) - a;
            default:
            {
                int significand = dtype == RecordedDType.BFloat16 ? 8 : 11;
                int minExponent = dtype == RecordedDType.BFloat16 ? -126 : -14;
                int exponent = a == 0 ? minExponent : Math.Max(Math.ILogB(a), minExponent);
                return Math.ScaleB(1.0, exponent - (significand - 1));
            }
        }
    }
}
