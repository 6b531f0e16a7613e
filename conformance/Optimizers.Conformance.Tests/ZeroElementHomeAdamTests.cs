using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// A zero-element tensor in a HomeAdam group. Upstream takes <c>amin</c> of v over it, which raises a RuntimeError
/// (upstream-spec, HomeAdam's group minimum); the case registry cannot express an expected error, so it is pinned here.
/// The reference raises the same kind (InvalidOperationException, which the adapter reports as RuntimeError) before
/// anything changes; production deviates (paper-notes/deviations.md): the tensor counts as +∞ in the minimum, so the
/// group decides exactly as it would without it.
/// </summary>
public sealed class ZeroElementHomeAdamTests
{
    static CaseSpec Spec(IReadOnlyList<int[]> shapes) => new("homeadam_zero_element_tensor", "HomeAdam",
        "a zero-element tensor (shape [0]) in the group whose minimum of v̂ decides the branch",
        RecordedDType.Float32, shapes, [new GroupSpec(Enumerable.Range(0, shapes.Count).ToArray(), new Dictionary<string, object?>
        {
            ["lr"] = 1e-2, ["betas"] = new[] { 0.9, 0.99 }, ["eps"] = 1e-7, ["weight_decay"] = 0.0, ["state_dtype"] = "float32",
            ["foreach"] = true, ["tau"] = 1e-4, ["capturable"] = false,
        })], new GradientRecipe(309, MinDecade: -4, MaxDecade: 0), 6);

    [Fact]
    public void The_reference_raises_upstreams_runtime_error_before_anything_changes()
    {
        var c = Spec([[0], [3]]).Build();
        using var session = new ReferenceImplementation().Start(c);
        var e = Assert.Throws<InvalidOperationException>(() => session.Step(c.Steps[0].Grads));
        Assert.Contains("no elements", e.Message);
        Assert.Equal(c.Params.Select(p => p.Init), session.Params());
        Assert.Empty(session.State());
    }

    [Fact]
    public void Production_steps_as_if_the_empty_tensor_were_absent()
    {
        var withEmpty = Spec([[0], [3]]).Build();
        var without = Spec([[3]]).Build();
        // The recipe draws nothing for the empty tensor, so both cases see the same numbers for the ordinary one.
        Assert.Equal(withEmpty.Params[1].Init, without.Params[0].Init);

        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads })
        {
            using var a = new ProductionImplementation(path).Start(withEmpty);
            using var b = new ProductionImplementation(path).Start(without);
            for (int t = 0; t < withEmpty.Steps.Count; t++)
            {
                Assert.Equal(withEmpty.Steps[t].Grads[1], without.Steps[t].Grads[0]);
                a.Step(withEmpty.Steps[t].Grads);
                b.Step(without.Steps[t].Grads);
                Assert.Empty(a.Params()[0]);
                Assert.Equal(Bits(b.Params()[0]), Bits(a.Params()[1]));
                Assert.Equal(Bits(b.State()[0]["exp_avg_sq"]), Bits(a.State()[1]["exp_avg_sq"]));
            }
        }
    }

    // Production and the scalar kernel still agree bit for bit with the empty tensor in the group, on every path.
    [Fact]
    public void Every_production_path_agrees_with_the_scalar_kernel_with_the_empty_tensor()
    {
        var c = Spec([[0], [3], [2, 2]]).Build();
        foreach (var path in new[] { "production", "production:simd", "production:threads" })
        {
            var result = LockstepRunner.RunBitExact(c, new ProductionImplementation(KernelPath.Scalar), ProductionImplementation.FromName(path)!);
            Assert.True(result.Verdict == Verdict.Pass, $"{path}: {result.Reason} {result.FirstFailure}");
        }
    }

    static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();
}
