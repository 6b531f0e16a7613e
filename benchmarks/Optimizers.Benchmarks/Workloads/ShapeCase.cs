using System.Globalization;

namespace Optimizers.Benchmarks.Workloads;

/// <summary>
/// A parameter arena of <see cref="Tensors"/> equal segments. One segment is one kernel call, so the
/// 100-tensor case measures what per-tensor dispatch costs on top of the same bytes.
/// </summary>
public sealed record ShapeCase(int Tensors, int ElementsPerTensor) : IComparable<ShapeCase>, IComparable
{
    public long Elements => (long)Tensors * ElementsPerTensor;

    /// <summary>Aligned small (L1/L2), aligned mid (L2/L3), far beyond L3, ragged (odd remainder for every vector width), and segmented.</summary>
    public static IReadOnlyList<ShapeCase> Standard { get; } =
    [
        new(1, 1_000),
        new(1, 100_000),
        new(1, 10_000_000),
        new(1, 1_000_003),
        new(100, 100_000),
    ];

    public static ShapeCase Parse(string text)
    {
        var parts = text.Split('x');
        return parts.Length == 2
            ? new ShapeCase(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture))
            : new ShapeCase(1, int.Parse(text, CultureInfo.InvariantCulture));
    }

    // BenchmarkDotNet prints this in the Shape column, and the quick runner uses it as a key.
    public override string ToString() => Tensors == 1
        ? ElementsPerTensor.ToString(CultureInfo.InvariantCulture)
        : $"{Tensors}x{ElementsPerTensor}";

    public int CompareTo(ShapeCase? other) => other is null ? 1
        : Elements != other.Elements ? Elements.CompareTo(other.Elements)
        : Tensors.CompareTo(other.Tensors);

    public int CompareTo(object? obj) => CompareTo(obj as ShapeCase);
}
