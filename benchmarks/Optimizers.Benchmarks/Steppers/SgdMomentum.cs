namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// torch's SGD with momentum (dampening 0, not Nesterov, weight decay added to the gradient): the
/// generalization baseline. Production has no SGD, so this loop is the whole implementation.
/// </summary>
public sealed class SgdMomentum : ITrainable
{
    readonly OptimizerSettings _settings;
    readonly float[][] _values, _grads, _buffers;
    bool _first = true;

    public SgdMomentum(IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(settings);
        if (tensors.Count == 0) throw new ArgumentException("An optimizer needs at least one tensor.", nameof(tensors));
        _settings = settings;
        _values = tensors.Select(t => new float[t.Length]).ToArray();
        _grads = tensors.Select(t => new float[t.Length]).ToArray();
        _buffers = tensors.Select(t => new float[t.Length]).ToArray();
    }

    public int TensorCount => _values.Length;
    public Span<float> Value(int tensor) => _values[tensor];
    public Span<float> Grad(int tensor) => _grads[tensor];

    public void Step()
    {
        float lr = (float)_settings.Lr, mu = (float)_settings.Momentum, decay = (float)_settings.WeightDecay;
        for (int t = 0; t < _values.Length; t++)
        {
            float[] p = _values[t], g = _grads[t], b = _buffers[t];
            for (int i = 0; i < p.Length; i++)
            {
                float d = g[i] + decay * p[i];
                // torch starts the buffer at the first gradient itself, not at μ·0 + g.
                b[i] = _first ? d : mu * b[i] + d;
                p[i] -= lr * b[i];
            }
        }
        _first = false;
    }
}
