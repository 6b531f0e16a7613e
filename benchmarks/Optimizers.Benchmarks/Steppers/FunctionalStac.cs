using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// STAC over tensors grouped by layer: the last <see cref="OptimizerSettings.CapLastLayers"/> layers are the
/// AdamW cap, the others the sign-momentum trunk (<see cref="StacTrunkKernel"/>). Trunk lr defaults to
/// 0.75·lr only when both sides are non-empty, as upstream resolves it.
/// </summary>
public sealed class FunctionalStac : ArenaTrainable
{
    readonly OptimizerSettings _settings;
    readonly bool[] _inCap;
    readonly double _trunkLr;
    readonly TensorBuffer? _trunkBuffer;
    readonly TensorBuffer _m, _v;
    long _capStep;

    public FunctionalStac(IReadOnlyList<TensorSpec> tensors, OptimizerSettings settings) : base(tensors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(settings.CapLastLayers, nameof(settings));
        _settings = settings;
        var layers = tensors.Select(t => t.Layer).Distinct().ToList();
        int trunkLayers = Math.Max(layers.Count - settings.CapLastLayers, 0);
        var capLayers = layers.Skip(trunkLayers).ToHashSet();
        _inCap = tensors.Select(t => capLayers.Contains(t.Layer)).ToArray();
        bool hybrid = trunkLayers > 0 && capLayers.Count > 0;
        _trunkLr = settings.TrunkLr ?? (hybrid ? 0.75 * settings.Lr : settings.Lr);
        if (settings.Momentum != 0.0) _trunkBuffer = new TensorBuffer(settings.StateDType, Elements);
        _m = new TensorBuffer(DType.Float32, Elements);
        _v = new TensorBuffer(DType.Float32, Elements);
    }

    public override void Step()
    {
        var trunk = StepScalars.StacTrunk(DType.Float32, _settings.StateDType, _trunkLr, _settings.Momentum, _settings.WeightDecay, maximize: false);
        _capStep++;
        for (int t = 0; t < TensorCount; t++)
        {
            if (_inCap[t])
            {
                var cap = StepScalars.AdamW(DType.Float32, _settings.Lr, _settings.Beta1 ?? 0.9, _settings.Beta2 ?? 0.999, _settings.Eps ?? 1e-8,
                    _settings.WeightDecay, _capStep, amsgrad: false, maximize: false);
                AdamWKernel.Step(Params, Grads, Offsets[t], _m, _v, null, Offsets[t], Specs[t].Length, cap);
            }
            else
            {
                StacTrunkKernel.Step(Params, Grads, Offsets[t], _trunkBuffer, Offsets[t], Specs[t].Length, trunk);
            }
        }
    }
}
