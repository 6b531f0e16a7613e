using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// A zero-element tensor in a HomeAdam group. Upstream takes <c>amin</c> of v over it, which raises a RuntimeError
/// (upstream-spec, HomeAdam's group minimum); the case registry cannot express an expected error, so it is pinned here.
/// The reference raises the same kind (InvalidOperationException, which the adapter reports as RuntimeError) before
/// anything changes; production raises it too, on every path, before anything changes.
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
    public void Production_raises_the_same_error_on_every_path_before_anything_changes()
    {
        var c = Spec([[0], [3]]).Build();
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads })
        {
            using var session = new ProductionImplementation(path).Start(c);
            var e = Assert.Throws<InvalidOperationException>(() => session.Step(c.Steps[0].Grads));
            Assert.Contains("no elements", e.Message);
            Assert.Equal(Bits(c.Params[1].Init), Bits(session.Params()[1]));
            Assert.Empty(session.State());
        }
    }

    [Fact]
    public void A_zero_element_tensor_without_a_gradient_takes_no_part()
    {
        var withEmpty = Spec([[0], [3]]).Build();
        var without = Spec([[3]]).Build();
        using var a = new ProductionImplementation(KernelPath.Scalar).Start(withEmpty);
        using var b = new ProductionImplementation(KernelPath.Scalar).Start(without);
        for (int t = 0; t < withEmpty.Steps.Count; t++)
        {
            a.Step([null, withEmpty.Steps[t].Grads[1]]);
            b.Step(without.Steps[t].Grads);
            Assert.Equal(Bits(b.Params()[0]), Bits(a.Params()[1]));
        }
    }

    static long[] Bits(double[] values) => values.Select(BitConverter.DoubleToInt64Bits).ToArray();
}
