using Optimizers.Benchmarks.Steppers;
using Optimizers.Benchmarks.Workloads;

namespace Optimizers.Benchmarks.Convergence;

/// <summary>
/// Loss curves of one training run. <see cref="Train"/>[k] is the full-batch loss computed before update k
/// (upstream's toy benchmark reports the last of these); held-out losses are taken every
/// <see cref="EvalEvery"/> steps and once more after the last update, when <see cref="FinalTrain"/> is taken too.
/// </summary>
public sealed record TrainingRun(double[] Train, double FinalTrain, double[] Validation, double[] Test, int EvalEvery, double? AdaptiveFraction, bool Diverged)
{
    public double FinalTrainComputed => Train[^1];
}

public static class Training
{
    /// <summary>Full-batch training for <paramref name="steps"/> updates from weights drawn with <paramref name="modelSeed"/>.</summary>
    /// <param name="afterStep">Called with the model after each update (diagnostics that read the optimizer's state).</param>
    public static TrainingRun Run(Mlp mlp, TrainableFactory factory, OptimizerSettings settings, Dataset train,
        Dataset? validation, Dataset? test, int steps, ulong modelSeed, int evalEvery, Action<ITrainable>? afterStep = null)
    {
        var model = factory(mlp.Tensors, settings);
        mlp.Initialize(model, new Xoshiro256(modelSeed));
        var trainLoss = new double[steps];
        var validationLoss = new List<double>();
        var testLoss = new List<double>();
        bool diverged = false;
        void Evaluate()
        {
            if (validation is not null) validationLoss.Add(mlp.Loss(model, validation));
            if (test is not null) testLoss.Add(mlp.Loss(model, test));
        }
        for (int step = 0; step < steps; step++)
        {
            if (step % evalEvery == 0) Evaluate();
            double loss = mlp.LossAndGradients(model, train);
            trainLoss[step] = loss;
            if (!double.IsFinite(loss))
            {
                diverged = true;
                Array.Fill(trainLoss, double.NaN, step, steps - step);
                break;
            }
            model.Step();
            afterStep?.Invoke(model);
        }
        double finalTrain = double.NaN;
        if (!diverged)
        {
            Evaluate();
            finalTrain = mlp.Loss(model, train);
        }
        return new TrainingRun(trainLoss, finalTrain, [.. validationLoss], [.. testLoss], evalEvery, model.AdaptiveFraction, diverged);
    }

    public static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? double.NaN : list.Average();
    }

    /// <summary>Element-wise mean of equally long curves; NaN wherever any run has NaN.</summary>
    public static double[] MeanCurve(IReadOnlyList<double[]> curves)
    {
        int length = curves.Min(c => c.Length);
        var mean = new double[length];
        for (int k = 0; k < length; k++) mean[k] = curves.Average(c => c[k]);
        return mean;
    }
}
