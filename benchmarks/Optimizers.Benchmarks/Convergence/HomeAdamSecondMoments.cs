using Optimizers.Benchmarks.Steppers;

namespace Optimizers.Benchmarks.Convergence;

/// <summary>
/// Why HomeAdam takes one branch or the other in the generalization study: after every update, the group minimum of
/// v̂ that decided (the optimizer's telemetry, <see cref="GroupTelemetry.MinVHat"/>), and from its state dict how many
/// elements have v̂ exactly 0, which tensors hold them, and the smallest v̂ that is not 0.
/// </summary>
public static class HomeAdamSecondMoments
{
    public sealed record StepRecord(int Step, double MinVHat, int ZeroElements, double SmallestNonzeroVHat, double AdaptiveFraction);

    public sealed record Trace(double Lr, double Tau, int Seed, StepRecord[] Steps, IReadOnlyList<(string Tensor, int Zeros, int Length)> ZerosAtEnd)
    {
        public int StepsWithZeros => Steps.Count(s => s.ZeroElements > 0);
        public int AdaptiveSteps => Steps.Count(s => s.AdaptiveFraction > 0);
        public double SmallestNonzero => Steps.Min(s => s.SmallestNonzeroVHat);
        public double LargestMinimum => Steps.Max(s => s.MinVHat);
    }

    public static Trace Run(int seed, double lr, double tau, int steps)
    {
        var split = GeneralizationStudy.Data(seed);
        var records = new List<StepRecord>();
        IReadOnlyList<(string, int, int)> zerosAtEnd = [];
        var settings = new OptimizerSettings(Lr: lr, Momentum: 0.9, Tau: tau, Telemetry: true);
        Training.Run(GeneralizationStudy.Student(), OptimizerRegistry.Create(OptimizerKind.HomeAdam), settings,
            split.Train, null, null, steps, 2000 + (ulong)seed, steps, afterStep: model =>
            {
                var optimizer = ((OptimizerTrainable)model).Optimizer;
                var telemetry = optimizer.Telemetry[0];
                var (zeros, smallest, perTensor) = Scan(optimizer.StateDict());
                records.Add(new StepRecord(records.Count + 1, telemetry.MinVHat, zeros, smallest, telemetry.AdaptiveFraction));
                zerosAtEnd = perTensor;
            });
        return new Trace(lr, tau, seed, [.. records], zerosAtEnd);
    }

    /// <summary>v̂ = v / fl(1 − β₂ᵗ) in float32, as the optimizer forms it, over every stepped parameter.</summary>
    static (int Zeros, double SmallestNonzero, List<(string, int, int)> PerTensor) Scan(OptimizerState state)
    {
        int zeros = 0;
        double smallest = double.PositiveInfinity;
        var perTensor = new List<(string, int, int)>();
        foreach (var group in state.Groups)
            for (int i = 0; i < group.Parameters.Count; i++)
            {
                if (group.Parameters[i] is not { } p) continue;
                float bc2 = 1f - (float)p.Beta2Power!.Value;
                int tensorZeros = 0;
                var v = p.Buffers["exp_avg_sq"].ToDoubles();
                foreach (double x in v)
                {
                    float vHat = (float)x / bc2;
                    if (vHat == 0f) tensorZeros++;
                    else smallest = Math.Min(smallest, vHat);
                }
                zeros += tensorZeros;
                if (tensorZeros > 0) perTensor.Add((group.ParameterNames[i], tensorZeros, v.Length));
            }
        return (zeros, smallest, perTensor);
    }
}
