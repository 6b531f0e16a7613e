using Optimizers.Kernels;
using Optimizers.Storage;

namespace Optimizers.Benchmarks.Workloads;

/// <summary>
/// One optimizer step at kernel level over a segmented arena: float32 parameters and gradients, state in
/// the chosen dtype, one kernel call per segment. Allocation happens here, never in <see cref="Step"/>.
/// </summary>
/// <remarks>
/// The scalars are those of step 10 and stay fixed: an optimizer recomputes them per tensor per step on the
/// host, which costs nanoseconds and is measured by the optimizer-level rows, not here. The state starts
/// warm (m ≈ 0.1·g scale, v strictly positive) so HomeAdam takes the dearer adaptive branch, as it does
/// on a real network once every element has seen a non-zero gradient.
/// </remarks>
public sealed class KernelWorkload
{
    // HomeAdam's τ tiny enough that the warm state is adaptive: the division path is the one worth timing.
    const double HomeAdamTau = 1e-30;
    // HomeAdamEW's τ: upstream's recommended starting value for float32.
    const double HomeAdamEWTau = 1e-12;
    const int ScalarStep = 10;

    readonly TensorBuffer _param, _grad;
    readonly TensorBuffer? _m, _v, _trunkBuffer;
    readonly HomeAdamScalars _homeAdam;
    readonly AdamWScalars _adamW;
    readonly StacTrunkScalars _trunk;
    readonly float _homeAdamTau;

    public KernelWorkload(KernelOptimizer optimizer, ShapeCase shape, DType stateDType, ulong seed = 20260302)
    {
        if (!BytesPerElement.Supports(optimizer, stateDType))
            throw new ArgumentException($"{optimizer} keeps its state in the parameter dtype; state dtype must be Float32, not {stateDType}.", nameof(stateDType));
        if (shape.Elements > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(shape), shape.Elements, $"An arena holds at most {int.MaxValue} elements.");
        Optimizer = optimizer;
        Shape = shape;
        StateDType = stateDType;
        int n = checked((int)shape.Elements);
        var rng = new Xoshiro256(seed);
        _param = NewFilled(DType.Float32, n, rng, 0.1, positive: false);
        _grad = NewFilled(DType.Float32, n, rng, 1e-2, positive: false);
        switch (optimizer)
        {
            case KernelOptimizer.StacTrunk:
                _trunkBuffer = NewFilled(stateDType, n, rng, 1e-3, positive: false);
                break;
            default:
                _m = NewFilled(stateDType, n, rng, 1e-3, positive: false);
                _v = NewFilled(stateDType, n, rng, 1e-4, positive: true);
                break;
        }

        double beta1Power = Math.Pow((float)0.9, ScalarStep), beta2Power = Math.Pow((float)0.99, ScalarStep);
        _homeAdam = StepScalars.HomeAdam(stateDType, DType.Float32, lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-7, weightDecay: 1e-2,
            tau: optimizer == KernelOptimizer.HomeAdamEW ? HomeAdamEWTau : HomeAdamTau, beta1Power, beta2Power);
        _homeAdamTau = (float)_homeAdam.Tau;
        _adamW = StepScalars.AdamW(DType.Float32, lr: 3e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, step: ScalarStep, amsgrad: false, maximize: false);
        _trunk = StepScalars.StacTrunk(DType.Float32, stateDType, lr: 2.25e-3, momentum: 0.9, weightDecay: 1e-2, maximize: false);
    }

    public KernelOptimizer Optimizer { get; }
    public ShapeCase Shape { get; }
    public DType StateDType { get; }
    public long BytesPerStep => BytesPerElement.For(Optimizer, StateDType) * Shape.Elements;

    static TensorBuffer NewFilled(DType dtype, int n, Xoshiro256 rng, double scale, bool positive)
    {
        var buffer = new TensorBuffer(dtype, n);
        for (int i = 0; i < n; i++)
        {
            double x = rng.NextNormal() * scale;
            buffer.Set(i, positive ? Math.Abs(x) + scale * 1e-2 : x);
        }
        return buffer;
    }

    /// <summary>One step of every segment through <paramref name="path"/>. Returns the adaptive-branch count where there is one.</summary>
    public long Step(KernelPath path)
    {
        int length = Shape.ElementsPerTensor;
        long adaptive = 0;
        switch (Optimizer)
        {
            case KernelOptimizer.AdamW:
            case KernelOptimizer.StacCap:
                for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
                    AdamWKernel.Step(_param, _grad, offset, _m!, _v!, null, offset, length, _adamW, path);
                break;
            case KernelOptimizer.AdamSrf:
                for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
                    adaptive += HomeAdamFamilyKernel.Step(_param, _grad, offset, _m!, _v!, offset, length, _homeAdam, BranchRule.Adaptive, path);
                break;
            case KernelOptimizer.HomeAdamEW:
                for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
                    adaptive += HomeAdamFamilyKernel.Step(_param, _grad, offset, _m!, _v!, offset, length, _homeAdam, BranchRule.ElementWise, path);
                break;
            case KernelOptimizer.HomeAdam:
                adaptive = HomeAdamTwoPasses(path, length);
                break;
            case KernelOptimizer.StacTrunk:
                for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
                    StacTrunkKernel.Step(_param, _grad, offset, _trunkBuffer, offset, length, _trunk, path);
                break;
        }
        return adaptive;
    }

    long HomeAdamTwoPasses(KernelPath path, int length)
    {
        // Pass 1 over the whole group; the decision needs every tensor's minimum before any update.
        float groupMin = float.PositiveInfinity;
        float bc2 = (float)_homeAdam.BiasCorrection2;
        for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
        {
            float tensorMin = (float)HomeAdamFamilyKernel.UpdateMoments(_grad, offset, _m!, _v!, offset, length, _homeAdam, path) / bc2;
            groupMin = float.IsNaN(tensorMin) || float.IsNaN(groupMin) ? float.NaN : Math.Min(groupMin, tensorMin);
        }
        // upstream's non-capturable rule: only a minimum below τ vetoes (a NaN minimum does not).
        var rule = groupMin < _homeAdamTau ? BranchRule.Sgdm : BranchRule.Adaptive;
        long adaptive = 0;
        for (int t = 0, offset = 0; t < Shape.Tensors; t++, offset += length)
            adaptive += HomeAdamFamilyKernel.Apply(_param, offset, _m!, _v!, offset, length, _homeAdam, rule, path);
        return adaptive;
    }
}
