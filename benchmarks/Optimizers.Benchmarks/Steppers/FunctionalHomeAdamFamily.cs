using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// AdamSRF, HomeAdam and HomeAdamEW through <see cref="HomeAdamFamilyKernel"/>, as one parameter group in
/// which every tensor has a gradient every step: per-tensor running products P1, P2 in the state dtype,
/// HomeAdam's decision over the whole group between its two passes.
/// </summary>
public sealed class FunctionalHomeAdamFamily : ArenaTrainable
{
    readonly OptimizerKind _kind;
    readonly OptimizerSettings _settings;
    readonly TensorBuffer _m, _v;
    readonly double[] _beta1Power, _beta2Power;
    readonly HomeAdamScalars[] _scalars;
    double? _adaptiveFraction;

    public FunctionalHomeAdamFamily(OptimizerKind kind, IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings) : base(tensors)
    {
        if (kind is not (OptimizerKind.AdamSrf or OptimizerKind.HomeAdam or OptimizerKind.HomeAdamEW))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Expected AdamSrf, HomeAdam or HomeAdamEW.");
        _kind = kind;
        _settings = settings;
        _m = new TensorBuffer(settings.StateDType, Elements);
        _v = new TensorBuffer(settings.StateDType, Elements);
        _beta1Power = Enumerable.Repeat(1.0, tensors.Count).ToArray();
        _beta2Power = Enumerable.Repeat(1.0, tensors.Count).ToArray();
        _scalars = new HomeAdamScalars[tensors.Count];
    }

    public override double? AdaptiveFraction => _adaptiveFraction;

    public override void Step()
    {
        var state = _settings.StateDType;
        double beta1 = _settings.Beta1 ?? 0.9, beta2 = _settings.Beta2 ?? 0.99;
        for (int t = 0; t < TensorCount; t++)
        {
            _beta1Power[t] = StepScalars.NextPower(state, _beta1Power[t], beta1);
            _beta2Power[t] = StepScalars.NextPower(state, _beta2Power[t], beta2);
            _scalars[t] = StepScalars.HomeAdam(state, DType.Float32, _settings.Lr, beta1, beta2, _settings.Eps ?? 1e-7,
                _settings.WeightDecay, _settings.Tau, _beta1Power[t], _beta2Power[t]);
        }

        long adaptive = 0;
        switch (_kind)
        {
            case OptimizerKind.AdamSrf:
                for (int t = 0; t < TensorCount; t++)
                    adaptive += HomeAdamFamilyKernel.Step(Params, Grads, Offsets[t], _m, _v, Offsets[t], Specs[t].Length, _scalars[t], BranchRule.Adaptive);
                break;
            case OptimizerKind.HomeAdamEW:
                for (int t = 0; t < TensorCount; t++)
                    adaptive += HomeAdamFamilyKernel.Step(Params, Grads, Offsets[t], _m, _v, Offsets[t], Specs[t].Length, _scalars[t], BranchRule.ElementWise);
                break;
            default:
                float groupMin = float.PositiveInfinity;
                for (int t = 0; t < TensorCount; t++)
                {
                    float tensorMin = (float)HomeAdamFamilyKernel.UpdateMoments(Grads, Offsets[t], _m, _v, Offsets[t], Specs[t].Length, _scalars[t])
                        / (float)_scalars[t].BiasCorrection2;
                    groupMin = float.IsNaN(tensorMin) || float.IsNaN(groupMin) ? float.NaN : Math.Min(groupMin, tensorMin);
                }
                // Non-capturable upstream: only a minimum below τ vetoes the adaptive step; NaN does not.
                var rule = groupMin < (float)_scalars[0].Tau ? BranchRule.Sgdm : BranchRule.Adaptive;
                for (int t = 0; t < TensorCount; t++)
                    adaptive += HomeAdamFamilyKernel.Apply(Params, Offsets[t], _m, _v, Offsets[t], Specs[t].Length, _scalars[t], rule);
                break;
        }
        _adaptiveFraction = Elements == 0 ? null : (double)adaptive / Elements;
    }
}
