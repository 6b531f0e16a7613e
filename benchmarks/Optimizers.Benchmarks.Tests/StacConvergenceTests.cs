using Optimizers.Benchmarks.Convergence;
using Optimizers.Benchmarks.Steppers;
using Xunit.Abstractions;

namespace Optimizers.Benchmarks.Tests;

/// <summary>
/// Upstream's convergence assertion (stac-optimizer 0.1.2, upstream-spec B9,
/// <c>test_default_trunk_is_more_effective_than_plain_sign_on_cuda</c>), restated against production on the CPU: a
/// TinyBenchmarkNet (fc1 16→32, fc2 32→32, head 32→4, ReLU) trained for 200 full-batch MSE steps by STAC
/// (lr 3e-3, last_n_layers 1, λ 1e-2) on data seeds 0–2 (512 samples, Y = X·W + 0.1·noise) must end with a mean final
/// loss under half of the same run with a plain-sign trunk (μ 0). Upstream runs it only on CUDA; the claim is about
/// the algorithm, so it must hold here too.
/// </summary>
/// <remarks>
/// Our data and weights come from our xoshiro256** generator, not torch's, so the losses differ from upstream's; the
/// model seed 1234 is upstream's number fed to our generator. Measured here (production, float32, every KernelPath gives
/// the same bits): mean final loss 0.0338 with μ 0.9 and 0.1145 with μ 0, a ratio of 0.295 against upstream's bound
/// of 0.5, so the bound is kept as upstream states it. About 2 s on a quiet machine.
/// </remarks>
public class StacConvergenceTests(ITestOutputHelper output)
{
    const int Samples = 512, Steps = 200;
    const ulong ModelSeed = 1234;
    static readonly int[] DataSeeds = [0, 1, 2];

    static Mlp TinyBenchmarkNet() => new([16, 32, 32, 4], ["fc1", "fc2", "head"]);

    static OptimizerSettings Settings(double trunkMomentum) => new(Lr: 3e-3, WeightDecay: 1e-2, Momentum: trunkMomentum, CapLastLayers: 1);

    /// <summary>The loss computed before the last of <see cref="Steps"/> updates, averaged over the data seeds (upstream's "final loss").</summary>
    static double MeanFinalLoss(double trunkMomentum)
        => DataSeeds.Average(seed => Training.Run(TinyBenchmarkNet(), OptimizerRegistry.Create(OptimizerKind.Stac), Settings(trunkMomentum),
            StacToyBenchmark.Data(seed, Samples), null, null, Steps, ModelSeed, Steps).FinalTrainComputed);

    [Fact]
    public void Default_trunk_momentum_ends_below_half_the_loss_of_a_plain_sign_trunk()
    {
        double momentum = MeanFinalLoss(0.9), plainSign = MeanFinalLoss(0.0);
        output.WriteLine($"mean final loss: μ 0.9 {momentum:G6}, μ 0 {plainSign:G6}, ratio {momentum / plainSign:G4} (upstream's bound 0.5)");
        Assert.True(double.IsFinite(momentum) && double.IsFinite(plainSign), $"losses {momentum}, {plainSign}");
        Assert.True(momentum < 0.5 * plainSign,
            $"mean final loss with μ 0.9 is {momentum:G6}, with μ 0 {plainSign:G6}: ratio {momentum / plainSign:G4}, upstream requires < 0.5");
    }

    [Fact]
    public void The_network_is_partitioned_as_upstream_partitions_TinyBenchmarkNet()
    {
        var trainable = OptimizerTrainable.Create(OptimizerKind.Stac, TinyBenchmarkNet().Tensors, Settings(0.9));
        var stac = Assert.IsType<Stac>(trainable.Optimizer);
        Assert.Equal(["fc1", "fc2"], stac.TrunkLayerNames);
        Assert.Equal(["head"], stac.CapLayerNames);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], stac.TrunkParameterNames);
        Assert.Equal(0.75 * 3e-3, stac.Options.ResolvedTrunkLr(stac.Partition.IsHybrid));
    }
}
