using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>How one side of a comparison does its arithmetic.</summary>
/// <param name="Float64Everywhere">The reference: every operation in float64, whatever dtype upstream ran it in.</param>
public sealed record ArithmeticSide(string Name, bool Float64Everywhere)
{
    /// <summary>Upstream's recorded values, and production, which follows upstream's dtypes and rounding sequence.</summary>
    public static readonly ArithmeticSide AsRecorded = new("recorded dtypes", false);

    /// <summary>The F# reference (and the tolerance model's own evaluation): float64 throughout.</summary>
    public static readonly ArithmeticSide Float64 = new("float64", true);

    /// <summary>The dtype this side runs an operation in that upstream runs in <paramref name="upstream"/>.</summary>
    public RecordedDType Runs(RecordedDType upstream) => Float64Everywhere ? RecordedDType.Float64 : upstream;
}

/// <summary>
/// The two sides of a comparison. Every operation of a bound model is priced for both and the prices are added,
/// so one evaluation of the model bounds |expected − actual|.
/// </summary>
public sealed record ErrorBudget(ArithmeticSide Expected, ArithmeticSide Actual)
{
    /// <summary>The usual pairing: upstream's record against the float64 reference.</summary>
    public static readonly ErrorBudget RecordVersusFloat64 = new(ArithmeticSide.AsRecorded, ArithmeticSide.Float64);

    /// <summary>An operation that upstream runs on tensors of <paramref name="dtype"/>.</summary>
    public Rounding In(RecordedDType dtype) =>
        Rounding.For(Expected.Runs(dtype)) + Rounding.For(Actual.Runs(dtype));

    /// <summary>Python-float arithmetic on the host (bias corrections of AdamW, 1 − ηλ, 1 − β): float64 on both sides.</summary>
    public Rounding Host => Rounding.Float64 + Rounding.Float64;

    /// <summary>A tensor converted from <paramref name="from"/> to <paramref name="to"/>: it rounds only where a side narrows.</summary>
    public Rounding Conversion(RecordedDType from, RecordedDType to) =>
        Narrowing(Expected, from, to) + Narrowing(Actual, from, to);

    static Rounding Narrowing(ArithmeticSide side, RecordedDType from, RecordedDType to)
    {
        var source = side.Runs(from);
        var target = side.Runs(to);
        return Precision(target) < Precision(source) ? Rounding.For(target) : Rounding.None;
    }

    static int Precision(RecordedDType d) => d switch
    {
        RecordedDType.Float64 => 53,
        RecordedDType.Float32 => 24,
        RecordedDType.Float16 => 11,
        RecordedDType.BFloat16 => 8,
        _ => 0,
    };
}
