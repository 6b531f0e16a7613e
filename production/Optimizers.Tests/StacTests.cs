using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests;

/// <summary>The upstream stac-optimizer suite (upstream-spec B9) restated against production, plus partition corner cases.</summary>
public class StacTests
{
    [Fact]
    public void The_partition_defaults_to_the_last_trainable_layer()
    {
        var o = new Stac(StackedNet());
        Assert.Equal(["stem", "block.0", "block.2"], o.TrunkLayerNames);
        Assert.Equal(["head"], o.CapLayerNames);
        Assert.Equal(["stem.weight", "stem.bias", "block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias"], o.TrunkParameterNames);
        Assert.Equal(["head.weight", "head.bias"], o.CapParameterNames);
    }

    [Fact]
    public void Frozen_layers_are_not_counted()
    {
        var o = new Stac(StackedNet(headFrozen: true));
        Assert.Equal(["stem", "block.0"], o.TrunkLayerNames);
        Assert.Equal(["block.2"], o.CapLayerNames);
    }

    [Fact]
    public void Zero_keeps_everything_in_the_trunk_and_an_oversized_count_moves_everything_to_the_cap()
    {
        var allTrunk = new Stac(StackedNet(), new StacOptions { LastNLayers = 0 });
        Assert.Equal(1, allTrunk.GroupCount);
        Assert.Empty(allTrunk.CapLayerNames);
        Assert.Equal(4, allTrunk.TrunkLayerNames.Count);
        var allCap = new Stac(StackedNet(), new StacOptions { LastNLayers = 99 });
        Assert.Equal(1, allCap.GroupCount);
        Assert.Empty(allCap.TrunkLayerNames);
    }

    [Fact]
    public void Root_parameters_come_first_and_a_tied_parameter_belongs_to_its_first_module()
    {
        var root = new Module("Net");
        root.RegisterParameter("scale", new Parameter("scale", [2]));
        var embed = root.RegisterModule("embed", new Module("Embedding"));
        var shared = embed.RegisterParameter("weight", new Parameter("embed.weight", [5, 3]));
        var frozen = root.RegisterModule("frozen", new Module("Linear"));
        frozen.RegisterParameter("weight", new Parameter("frozen.weight", [3, 3]) { RequiresGrad = false });
        var head = root.RegisterModule("head", new Module("Linear"));
        head.RegisterParameter("weight", shared);
        head.RegisterParameter("bias", new Parameter("head.bias", [5]));
        var o = new Stac(root, new StacOptions { LastNLayers = 1 });
        Assert.Equal(["<root>", "embed"], o.TrunkLayerNames);
        Assert.Equal(["head"], o.CapLayerNames);
        Assert.Equal(["scale", "embed.weight"], o.TrunkParameterNames);
        Assert.Equal(["head.bias"], o.CapParameterNames);
    }

    [Fact]
    public void A_module_registered_twice_is_visited_once()
    {
        var root = new Module("Net");
        var lin = new Module("Linear");
        lin.RegisterParameter("weight", new Parameter("w", [2]));
        root.RegisterModule("a", lin);
        root.RegisterModule("b", lin);
        root.RegisterModule("c", new Module("Linear")).RegisterParameter("weight", new Parameter("c.w", [2]));
        var o = new Stac(root, new StacOptions { LastNLayers = 1 });
        Assert.Equal(["a"], o.TrunkLayerNames);
        Assert.Equal(["c"], o.CapLayerNames);
    }

    [Fact]
    public void Invalid_partitions_are_rejected()
    {
        Assert.Equal("LastNLayers", Assert.Throws<ArgumentOutOfRangeException>(() => new Stac(StackedNet(), new StacOptions { LastNLayers = -1 })).ParamName);
        var frozen = new Module("Net");
        frozen.RegisterParameter("w", new Parameter("w", [2]) { RequiresGrad = false });
        Assert.Contains("at least one trainable parameter", Assert.Throws<ArgumentException>(() => new Stac(frozen)).Message);
    }

    /// <summary>
    /// upstream-spec B14 gives the exact-math results of the upstream tests' scenarios (float64 parameters). Production
    /// follows torch's float64 op sequence (operation-sequences.md: a rounding per op, fma where torch fuses), so over a
    /// few steps it may sit a few float64 ulps from the exact value; no more.
    /// </summary>
    static void AssertNearB14(double b14, double actual, long maxUlps = 4)
    {
        long distance = Math.Abs(BitConverter.DoubleToInt64Bits(actual) - BitConverter.DoubleToInt64Bits(b14));
        Assert.True(Math.Sign(actual) == Math.Sign(b14) && distance <= maxUlps,
            $"{actual:R} is {distance} ulps from B14's {b14:R} (at most {maxUlps} expected).");
    }

    [Fact]
    public void The_hybrid_trunk_learning_rate_is_scaled_down_only_when_both_sides_exist()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1, TrunkMomentum = 0 });
        Assert.True(o.Partition.IsHybrid);
        Assert.Equal(0.1 * 0.75, o.Options.ResolvedTrunkLr(true));
        SetGrad(trunk, 1.0);
        o.Step();
        // operation-sequences.md T4 with dir = 1 and no decay: θ ← fl(θ + fl(−η_t)), η_t = 0.75·η in double; one rounding.
        Assert.Equal(1.0 + -(0.75 * 0.1), Values(trunk)[0]);
        var (allTrunk, t2, _) = TwoLayerNet();
        var o2 = new Stac(allTrunk, new StacOptions { Lr = 0.1, TrunkMomentum = 0, LastNLayers = 0 });
        SetGrad(t2, 1.0);
        o2.Step();
        Assert.Equal(1.0 + -0.1, Values(t2)[0]);
    }

    static (Parameter Reference, AdamW Optimizer) AdamWTwin(Parameter head, AdamWOptions options)
    {
        var twin = head.DType == DType.Float32
            ? Parameter.Create("twin", Values(head).Select(x => (float)x).ToArray(), head.Shape.ToArray())
            : Parameter.Create("twin", Values(head), head.Shape.ToArray());
        return (twin, new AdamW([twin], options));
    }

    [Fact]
    public void The_trunk_is_plain_signSGD_and_the_cap_is_AdamW()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1, TrunkLr = 0.1, TrunkMomentum = 0, Beta1 = 0.9, Beta2 = 0.99, Eps = 1e-8, WeightDecay = 0.01 });
        var (twin, adamW) = AdamWTwin(head, new AdamWOptions { Lr = 0.1, Beta1 = 0.9, Beta2 = 0.99, Eps = 1e-8, WeightDecay = 0.01 });
        foreach (double g in new[] { 0.2, 0.4 })
        {
            SetGrad(trunk, g); SetGrad(head, g); SetGrad(twin, g);
            o.Step(); adamW.Step();
        }
        AssertNearB14(0.798101, Values(trunk)[0]); // B14: trunk μ 0, η 0.1, λ 0.01, grads 0.2, 0.4
        Assert.Equal(Bits(twin), Bits(head));
    }

    [Fact]
    public void The_trunk_steps_by_the_sign_of_the_accumulated_momentum()
    {
        // μ 0.5: buffer 0.5 then 0.2 (both positive) although the second gradient is negative.
        var (model, trunk, head) = TwoLayerNet();
        var headBefore = Bits(head);
        var o = new Stac(model, new StacOptions { Lr = 0.1, TrunkLr = 0.1, TrunkMomentum = 0.5, WeightDecay = 0.01 });
        foreach (double g in new[] { 1.0, -0.1 }) { SetGrad(trunk, g); o.Step(); }
        AssertNearB14(0.798101, Values(trunk)[0]); // B14: trunk μ 0.5, η 0.1, λ 0.01, grads 1.0, −0.1
        Assert.Equal(headBefore, Bits(head));
        // T3 with μ' = a = 0.5: b₁ = 0.5 exactly, b₂ = fma(0.5, −0.1, 0.25); 0.5·fl(−0.1) is exact, so one rounding of the sum.
        Assert.Equal(0.25 + 0.5 * -0.1, o.StateDict().Groups[0].Parameters[0]!.Buffers["trunk_momentum_buffer"].ToDoubles()[0]);
    }

    [Fact]
    public void The_default_trunk_follows_its_worked_example()
    {
        // upstream-spec B14: η_t = 0.75·0.1, μ 0.9, λ 0.01, grads 0.3, −0.5, 0.1 (buffer 0.03, −0.023, −0.0107).
        var (model, trunk, _) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1, WeightDecay = 0.01, TrunkStateDType = DType.Float64 });
        foreach (double g in new[] { 0.3, -0.5, 0.1 })
        {
            SetGrad(trunk, g);
            o.Step();
        }
        AssertNearB14(1.072807894890625, Values(trunk)[0]);
        AssertNearB14(-0.0107, o.StateDict().Groups[0].Parameters[0]!.Buffers["trunk_momentum_buffer"].ToDoubles()[0]);
    }

    [Fact]
    public void Role_specific_learning_rates_are_applied()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1, TrunkLr = 0.2, CapLr = 0.05, TrunkMomentum = 0 });
        var (twin, adamW) = AdamWTwin(head, new AdamWOptions { Lr = 0.05, WeightDecay = 0 });
        SetGrad(trunk, 1); SetGrad(head, 1); SetGrad(twin, 1);
        o.Step(); adamW.Step();
        Assert.Equal(1.0 + -0.2, Values(trunk)[0]); // T4, one rounding; B14 lists 0.8
        Assert.Equal(Bits(twin), Bits(head));
    }

    [Fact]
    public void The_amsgrad_cap_matches_AdamW_amsgrad()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1, LastNLayers = 2, Amsgrad = true, Beta1 = 0.9, Beta2 = 0.99, WeightDecay = 0.01 });
        var (twin, adamW) = AdamWTwin(head, new AdamWOptions { Lr = 0.1, Amsgrad = true, Beta1 = 0.9, Beta2 = 0.99, WeightDecay = 0.01 });
        foreach (double g in new[] { 2.0, 0.1, 0.1 }) { SetGrad(head, g); SetGrad(twin, g); o.Step(); adamW.Step(); }
        Assert.Equal(Bits(twin), Bits(head));
        Assert.Equal(1.0, Values(trunk)[0]);
    }

    [Fact]
    public void AddParamGroup_is_rejected()
    {
        var o = new Stac(StackedNet());
        Assert.Contains("does not support AddParamGroup", Assert.Throws<NotSupportedException>(() => o.AddParamGroup([new Parameter("x", [1])])).Message);
    }

    [Fact]
    public void Sparse_gradients_are_rejected_in_both_roles_before_anything_changes()
    {
        foreach (int lastN in new[] { 1, 2 })
        {
            var root = new Module("SparseNet");
            var embedding = root.RegisterModule("embedding", new Module("Embedding")).RegisterParameter("weight", new Parameter("embedding.weight", [8, 4]));
            var head = root.RegisterModule("head", new Module("Linear")).RegisterParameter("weight", new Parameter("head.weight", [1, 4]));
            var o = new Stac(root, new StacOptions { LastNLayers = lastN });
            SetGrad(head, 1, 1, 1, 1);
            embedding.AttachSparseGrad<float>([0, 5], [1f, 2f]);
            var before = Fingerprint(o, [embedding, head]);
            Assert.Contains("sparse gradients", Assert.Throws<NotSupportedException>(o.Step).Message);
            Assert.Equal(before, Fingerprint(o, [embedding, head]));
        }
    }

    [Fact]
    public void Non_finite_gradients_can_raise()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { NonFinitePolicy = NonFinitePolicy.Throw });
        SetGrad(trunk, double.NaN);
        SetGrad(head, 1);
        var e = Assert.Throws<NonFiniteGradientException>(o.Step);
        Assert.Equal("trunk.weight", e.ParameterName);
        Assert.Contains("non-finite gradients", e.Message);
    }

    [Fact]
    public void Loading_state_of_another_partition_is_refused()
    {
        var a = new Stac(StackedNet(), new StacOptions { LastNLayers = 1 });
        var b = new Stac(StackedNet(), new StacOptions { LastNLayers = 0 });
        var e = Assert.Throws<ArgumentException>(() => b.LoadStateDict(a.StateDict()));
        Assert.Contains("partition", e.Message);
    }

    [Fact]
    public void Options_cannot_drift_from_the_partition_or_between_trunk_and_cap()
    {
        var (model, _, _) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { Lr = 0.1 });
        var original = o.Options;

        var e = Assert.Throws<ArgumentException>(() => o.SetGroupOptions(1, original with { LastNLayers = 2 }));
        Assert.Equal("LastNLayers", e.ParamName);
        Assert.Contains("expected 1", e.Message);
        Assert.All(Enumerable.Range(0, o.GroupCount), g => Assert.Equal(original, o.GroupOptions(g)));

        var saved = o.StateDict();
        var changedN = saved with { Groups = saved.Groups.Select(g => g with { Options = original with { LastNLayers = 0 } }).ToArray() };
        Assert.Contains("LastNLayers", Assert.Throws<ArgumentException>(() => o.LoadStateDict(changedN)).Message);
        var diverging = saved with { Groups = [saved.Groups[0], saved.Groups[1] with { Options = original with { CapLr = 0.5 } }] };
        Assert.Contains("differ from group 0", Assert.Throws<ArgumentException>(() => o.LoadStateDict(diverging)).Message);
        Assert.All(Enumerable.Range(0, o.GroupCount), g => Assert.Equal(original, o.GroupOptions(g)));

        // Naming the cap group still changes what Options reports, and the trunk runs with it too.
        var scheduled = original with { Lr = 0.05 };
        o.SetGroupOptions(1, scheduled);
        Assert.Equal(scheduled, o.Options);
        Assert.All(Enumerable.Range(0, o.GroupCount), g => Assert.Equal(scheduled, o.GroupOptions(g)));
    }

    [Fact]
    public void A_state_dict_round_trip_preserves_behaviour()
    {
        var options = new StacOptions { Lr = 0.1, TrunkMomentum = 0.8, Beta1 = 0.7, Beta2 = 0.9, WeightDecay = 0.01 };
        var (ma, ta, ha) = TwoLayerNet();
        var a = new Stac(ma, options);
        SetGrad(ta, 0.3); SetGrad(ha, 0.3);
        a.Step();
        var (mb, tb, hb) = TwoLayerNet();
        var b = new Stac(mb, options);
        Values(ta).CopyTo(tb.Value<double>());
        Values(ha).CopyTo(hb.Value<double>());
        b.LoadStateDict(a.StateDict());
        foreach (var p in new[] { ta, ha, tb, hb }) SetGrad(p, -0.1);
        a.Step();
        b.Step();
        Assert.Equal(Fingerprint(a, [ta, ha]), Fingerprint(b, [tb, hb]));
    }

    [Fact]
    public void Non_finite_gradients_skip_the_whole_step_by_default()
    {
        var (model, trunk, head) = TwoLayerNet();
        var o = new Stac(model) { TelemetryEnabled = true };
        SetGrad(trunk, 0.5);
        SetGrad(head, 0.5);
        o.Step();
        var before = Fingerprint(o, [trunk, head]);
        SetGrad(head, double.PositiveInfinity);
        o.Step();
        Assert.Equal(1, o.NonFiniteSkippedSteps);
        Assert.True(o.Telemetry[0].Skipped && o.Telemetry[1].Skipped);
        Assert.Equal(1, o.Telemetry[1].NonFiniteGradients);
        Assert.Equal(0, o.Telemetry[0].NonFiniteGradients);
        var after = Fingerprint(o, [trunk, head]);
        Assert.Equal(before.Take(2), after.Take(2)); // parameters untouched
        Assert.Equal(before.Skip(3), after.Skip(3)); // state untouched (index 2 is the skip counter)
    }

    [Fact]
    public void Propagate_lets_sign_of_NaN_freeze_an_element()
    {
        // torch's sign(NaN) = 0: with checks off a NaN gradient leaves the element where decay puts it.
        var (model, trunk, _) = TwoLayerNet();
        var o = new Stac(model, new StacOptions { NonFinitePolicy = NonFinitePolicy.Propagate, TrunkMomentum = 0 });
        SetGrad(trunk, double.NaN);
        o.Step();
        Assert.Equal(1.0, Values(trunk)[0]);
    }
}
