using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Benchmarks.Steppers;

/// <summary>torch 1.13 AdamW through <see cref="AdamWKernel"/>: state in the parameter dtype, bias corrections in double per step.</summary>
public sealed class FunctionalAdamW : ArenaTrainable
{
    readonly TensorBuffer _m, _v;
    readonly OptimizerSettings _settings;
    long _step;

    public FunctionalAdamW(IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings) : base(tensors)
    {
        _settings = settings;
        _m = new TensorBuffer(DType.Float32, Elements);
        _v = new TensorBuffer(DType.Float32, Elements);
    }

    public override void Step()
    {
        _step++;
        for (int t = 0; t < TensorCount; t++)
        {
            var s = StepScalars.AdamW(DType.Float32, _settings.Lr, _settings.Beta1 ?? 0.9, _settings.Beta2 ?? 0.999, _settings.Eps ?? 1e-8,
                _settings.WeightDecay, _step, amsgrad: false, maximize: false);
            AdamWKernel.Step(Params, Grads, Offsets[t], _m, _v, null, Offsets[t], Specs[t].Length, s);
        }
    }
}
