using Optimizers.Storage;

namespace Optimizers.Benchmarks.Steppers;

/// <summary>Parameters and gradients in two flat float32 arenas, one segment per tensor, as the optimizer classes store them.</summary>
public abstract class ArenaTrainable : ITrainable
{
    protected ArenaTrainable(IReadOnlyList<TensorSpec> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("An optimizer needs at least one tensor.", nameof(tensors));
        Specs = tensors;
        Offsets = new int[tensors.Count];
        long total = 0;
        for (int t = 0; t < tensors.Count; t++)
        {
            if (tensors[t].Length < 0) throw new ArgumentOutOfRangeException(nameof(tensors), tensors[t].Length, $"Tensor {tensors[t].Name} has a negative length.");
            Offsets[t] = checked((int)total);
            total += tensors[t].Length;
        }
        Elements = checked((int)total);
        Params = new TensorBuffer(DType.Float32, Elements);
        Grads = new TensorBuffer(DType.Float32, Elements);
    }

    protected IReadOnlyList<TensorSpec> Specs { get; }
    protected int[] Offsets { get; }
    protected int Elements { get; }
    protected TensorBuffer Params { get; }
    protected TensorBuffer Grads { get; }

    public int TensorCount => Specs.Count;
    public Span<float> Value(int tensor) => Params.Span<float>(Offsets[tensor], Specs[tensor].Length);
    public Span<float> Grad(int tensor) => Grads.Span<float>(Offsets[tensor], Specs[tensor].Length);
    public virtual double? AdaptiveFraction => null;
    public abstract void Step();
}
