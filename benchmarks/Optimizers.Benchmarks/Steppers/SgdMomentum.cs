namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// torch's SGD with momentum (dampening 0, not Nesterov, weight decay added to the gradient): the
/// generalization baseline. Production has no SGD, so this loop is the whole implementation.
/// </summary>
public sealed class SgdMomentum : ArenaTrainable
{
    readonly OptimizerSettings _settings;
    readonly float[] _buffer;
    bool _first = true;

    public SgdMomentum(IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings) : base(tensors)
    {
        _settings = settings;
        _buffer = new float[Elements];
    }

    public override void Step()
    {
        var p = Params.Span<float>();
        var g = Grads.Span<float>();
        float lr = (float)_settings.Lr, mu = (float)_settings.Momentum, decay = (float)_settings.WeightDecay;
        for (int i = 0; i < p.Length; i++)
        {
            float d = g[i] + decay * p[i];
            // torch starts the buffer at the first gradient itself, not at μ·0 + g.
            _buffer[i] = _first ? d : mu * _buffer[i] + d;
            p[i] -= lr * _buffer[i];
        }
        _first = false;
    }
}
