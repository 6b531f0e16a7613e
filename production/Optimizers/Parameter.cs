using Optimizers.Storage;

namespace Optimizers;

/// <summary>
/// A trainable tensor: a name, a shape, a dtype (<see cref="DType.Float32"/> or <see cref="DType.Float64"/>), its value and,
/// once attached, its gradient. Flat, row-major. When an optimizer is constructed over a parameter, the value and gradient
/// move into the optimizer's contiguous arenas; the <see cref="Parameter"/> object keeps its identity and its span views
/// look into the arena from then on.
/// </summary>
/// <remarks>
/// A gradient is either absent (<see cref="HasGrad"/> false: the optimizer skips this parameter entirely that step, like
/// torch's <c>p.grad is None</c>), dense (<see cref="AttachGrad{T}"/>, <see cref="SetGrad{T}"/>), or sparse (COO,
/// <see cref="AttachSparseGrad{T}"/>), which every optimizer of this library rejects before changing anything.
/// </remarks>
public sealed class Parameter
{
    TensorBuffer _values;
    TensorBuffer _grads;
    int _offset;
    long[]? _sparseIndices;

    /// <summary>Creates a zero-valued parameter.</summary>
    /// <param name="name">Name used in messages and state dicts; must not be empty.</param>
    /// <param name="shape">Dimensions; <c>[]</c> is a 0-d scalar. Every dimension ≥ 0.</param>
    /// <param name="dtype"><see cref="DType.Float32"/> (default) or <see cref="DType.Float64"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, or a dimension is negative.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not Float32 or Float64.</exception>
    public Parameter(string name, int[] shape, DType dtype = DType.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, $"Invalid dtype for parameter '{name}': {dtype} (expected Float32 or Float64).");
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Invalid shape for parameter '{name}': [{string.Join(", ", shape)}] (every dimension must be ≥ 0).", nameof(shape));
            length *= d;
            if (length > Array.MaxLength) throw new ArgumentException($"Parameter '{name}' is too large: {length} elements.", nameof(shape));
        }
        Name = name;
        Shape = (int[])shape.Clone();
        DType = dtype;
        Length = (int)length;
        _values = new TensorBuffer(dtype, Length);
        _grads = new TensorBuffer(dtype, Length);
    }

    /// <summary>A float32 parameter holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The number of values differs from the product of <paramref name="shape"/>.</exception>
    public static Parameter Create(string name, ReadOnlySpan<float> values, params int[] shape) => Create<float>(name, DType.Float32, values, shape);

    /// <summary>A float64 parameter holding a copy of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The number of values differs from the product of <paramref name="shape"/>.</exception>
    public static Parameter Create(string name, ReadOnlySpan<double> values, params int[] shape) => Create<double>(name, DType.Float64, values, shape);

    static Parameter Create<T>(string name, DType dtype, ReadOnlySpan<T> values, int[] shape) where T : unmanaged
    {
        var p = new Parameter(name, shape, dtype);
        if (values.Length != p.Length)
            throw new ArgumentException($"Parameter '{name}' has shape [{string.Join(", ", shape)}] ({p.Length} elements) but {values.Length} values were given.", nameof(values));
        values.CopyTo(p.Value<T>());
        return p;
    }

    /// <summary>The name given at construction.</summary>
    public string Name { get; }

    /// <summary>Dimensions (<c>[]</c> for a 0-d scalar). A copy; the shape never changes.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Element type: <see cref="DType.Float32"/> or <see cref="DType.Float64"/>.</summary>
    public DType DType { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a 0-d scalar).</summary>
    public int Length { get; }

    /// <summary>Whether the parameter is trainable. STAC's partition skips parameters with <c>RequiresGrad = false</c> (frozen); other optimizers simply never see a gradient for them.</summary>
    public bool RequiresGrad { get; set; } = true;

    /// <summary>Whether a dense gradient is attached (torch: <c>p.grad is not None</c>).</summary>
    public bool HasGrad { get; private set; }

    /// <summary>Whether a sparse (COO) gradient is attached. Every optimizer rejects it in <c>Step()</c>.</summary>
    public bool HasSparseGrad => _sparseIndices is not null;

    /// <summary>The value, flat and row-major. <typeparamref name="T"/> must be <see cref="float"/> for Float32 and <see cref="double"/> for Float64.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    /// <remarks>When an optimizer on an accelerator owns this parameter, the call first downloads the values if the device
    /// holds newer ones, and the host copy becomes the one the next <c>Step()</c> uploads (see <see cref="Optimizer"/>).</remarks>
    public Span<T> Value<T>() where T : unmanaged
    {
        (Owner as Optimizer)?.BeforeHostValueAccess();
        return _values.Span<T>(_offset, Length);
    }

    /// <summary>The attached dense gradient.</summary>
    /// <exception cref="InvalidOperationException">No dense gradient is attached, or <typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    public Span<T> Grad<T>() where T : unmanaged
    {
        if (!HasGrad) throw new InvalidOperationException($"Parameter '{Name}' has no gradient; call AttachGrad or SetGrad first.");
        return _grads.Span<T>(_offset, Length);
    }

    /// <summary>
    /// Marks the dense gradient as present and returns it for writing. A gradient attached for the first time (or after
    /// <see cref="ClearGrad"/>) starts at zero; an attached one keeps its values (accumulate into it).
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    public Span<T> AttachGrad<T>() where T : unmanaged
    {
        var span = _grads.Span<T>(_offset, Length);
        if (!HasGrad) span.Clear();
        HasGrad = true;
        _sparseIndices = null;
        return span;
    }

    /// <summary>Attaches a copy of <paramref name="gradient"/> as the dense gradient.</summary>
    /// <exception cref="ArgumentException">The length differs from <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="DType"/>.</exception>
    public void SetGrad<T>(ReadOnlySpan<T> gradient) where T : unmanaged
    {
        if (gradient.Length != Length)
            throw new ArgumentException($"Gradient for parameter '{Name}' has {gradient.Length} elements; the parameter has {Length}.", nameof(gradient));
        var span = _grads.Span<T>(_offset, Length);
        gradient.CopyTo(span);
        HasGrad = true;
        _sparseIndices = null;
    }

    /// <summary>
    /// Attaches a sparse COO gradient (flat element indices and their values), as an embedding with <c>sparse=True</c>
    /// produces. No optimizer in this library supports it: <c>Step()</c> throws <see cref="NotSupportedException"/>
    /// before changing anything. Kept so that such a model fails loudly instead of training silently wrong.
    /// </summary>
    /// <exception cref="ArgumentException">Index and value counts differ, or an index is outside [0, <see cref="Length"/>).</exception>
    public void AttachSparseGrad<T>(ReadOnlySpan<long> indices, ReadOnlySpan<T> values) where T : unmanaged
    {
        if (indices.Length != values.Length)
            throw new ArgumentException($"Sparse gradient for parameter '{Name}' has {indices.Length} indices but {values.Length} values.", nameof(values));
        foreach (long i in indices)
            if ((ulong)i >= (ulong)Length)
                throw new ArgumentException($"Sparse gradient index {i} is outside parameter '{Name}' (valid range 0 ≤ index < {Length}).", nameof(indices));
        _sparseIndices = indices.ToArray();
        HasGrad = false;
    }

    /// <summary>Removes any gradient (torch: <c>p.grad = None</c>).</summary>
    public void ClearGrad()
    {
        HasGrad = false;
        _sparseIndices = null;
    }

    /// <summary>Sets an attached dense gradient to zero; a missing gradient stays missing (torch's <c>zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGradInPlace()
    {
        if (HasGrad) _grads.Clear(_offset, Length);
        _sparseIndices = null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}] {DType}";

    // ---- arena plumbing (internal) -------------------------------------------------------------

    /// <summary>The optimizer whose arena holds this parameter, if any.</summary>
    internal object? Owner { get; private set; }
    internal TensorBuffer ValueBuffer => _values;
    internal TensorBuffer GradBuffer => _grads;
    internal int Offset => _offset;

    /// <summary>Moves value and gradient into an arena at <paramref name="offset"/>; from now on the spans look there.</summary>
    internal void Rehome(object owner, TensorBuffer values, TensorBuffer grads, int offset)
    {
        CopySegment(_values, _offset, values, offset, Length);
        CopySegment(_grads, _offset, grads, offset, Length);
        _values = values;
        _grads = grads;
        _offset = offset;
        Owner = owner;
    }

    static void CopySegment(TensorBuffer from, int fromOffset, TensorBuffer to, int toOffset, int length)
    {
        if (from.DType == DType.Float32) from.Span<float>(fromOffset, length).CopyTo(to.Span<float>(toOffset, length));
        else from.Span<double>(fromOffset, length).CopyTo(to.Span<double>(toOffset, length));
    }
}
