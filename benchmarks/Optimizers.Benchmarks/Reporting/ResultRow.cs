namespace Optimizers.Benchmarks.Reporting;

/// <summary>
/// One row of latest.json. Torch rows have backend "torch". Gbs, fraction and ratio are filled in once the
/// bandwidth and the torch rows of the same run are known; a ratio is torch AdamW-foreach's ms at the same
/// elements, tensors and threads divided by this row's ms (above 1: faster than torch).
/// </summary>
public sealed record ResultRow(
    string Optimizer,
    string Backend,
    long Elements,
    int Tensors,
    int Threads,
    string StateDtype,
    double Ms,
    double? Gbs = null,
    double? FractionOfTriad = null,
    double? RatioToTorchAdamwForeach = null);
