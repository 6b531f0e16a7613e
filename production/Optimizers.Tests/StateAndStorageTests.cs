using FsCheck;
using FsCheck.Fluent;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests;

/// <summary>Arenas, no partial updates, state dicts, telemetry and the no-allocation rule.</summary>
public class StateAndStorageTests
{
    public enum Kind { AdamW, AdamSrf, HomeAdam, HomeAdamEW, Stac }

    static readonly Kind[] Kinds = Enum.GetValues<Kind>();

    /// <summary>A list of tensors of the given dtype with seeded values; 0-d and empty tensors included when asked.</summary>
    static Parameter[] Tensors(int count, int seed, DType dtype, bool edgeShapes = true)
    {
        var rng = new Random(seed);
        var ps = new Parameter[count];
        for (int i = 0; i < count; i++)
        {
            int[] shape = edgeShapes && i % 7 == 3 ? [] : edgeShapes && i % 11 == 5 ? [0, 3] : [1 + rng.Next(9), 1 + rng.Next(3)];
            ps[i] = new Parameter($"t{i}", shape, dtype);
            Fill(ps[i], rng);
        }
        return ps;
    }

    static Module ModelOf(Parameter[] ps)
    {
        var root = new Module("Net");
        for (int i = 0; i < ps.Length; i++) root.RegisterModule($"l{i}", new Module("Linear")).RegisterParameter("w", ps[i]);
        return root;
    }

    static Optimizer Make(Kind kind, Parameter[] ps, NonFinitePolicy? policy = null, int groups = 1) => kind switch
    {
        Kind.AdamW => new AdamW(Split(ps, groups).Select((g, i) => new ParamGroup<AdamWOptions>(g, new AdamWOptions { Lr = 0.01 * (i + 1), Amsgrad = i == 1, NonFinitePolicy = policy ?? NonFinitePolicy.Propagate }))),
        Kind.AdamSrf => new AdamSrf(Split(ps, groups).Select((g, i) => new ParamGroup<AdamSrfOptions>(g, new AdamSrfOptions { Lr = 0.01, WeightDecay = 0.1 * i, NonFinitePolicy = policy ?? NonFinitePolicy.Propagate }))),
        Kind.HomeAdam => new HomeAdam(Split(ps, groups).Select((g, i) => new ParamGroup<HomeAdamOptions>(g, new HomeAdamOptions { Lr = 0.01, Tau = i == 0 ? 1e-4 : 1e-9, StateDType = i == 1 ? DType.BFloat16 : DType.Float32, NonFinitePolicy = policy ?? NonFinitePolicy.Propagate }))),
        Kind.HomeAdamEW => new HomeAdamEW(Split(ps, groups).Select((g, i) => new ParamGroup<HomeAdamEWOptions>(g, new HomeAdamEWOptions { Lr = 0.01, Tau = 1e-4, StateDType = i == 1 ? DType.Float16 : null, NonFinitePolicy = policy ?? NonFinitePolicy.Propagate }))),
        _ => new Stac(ModelOf(ps), new StacOptions { Lr = 0.01, LastNLayers = ps.Length / 2, WeightDecay = 0.01, NonFinitePolicy = policy ?? NonFinitePolicy.SkipStep, TrunkStateDType = DType.BFloat16 }),
    };

    static IEnumerable<Parameter[]> Split(Parameter[] ps, int groups)
        => Enumerable.Range(0, groups).Select(g => ps.Where((_, i) => i % groups == g).ToArray());

    /// <summary>Seeded gradients; some parameters get none on some steps so their counters diverge.</summary>
    static void Grads(Parameter[] ps, Random rng)
    {
        foreach (var p in ps)
        {
            if (rng.Next(4) == 0) p.ClearGrad();
            else RandomGrad(p, rng);
        }
    }

    [Fact]
    public void Spans_look_into_the_arena_after_construction()
    {
        var p = Parameter.Create("p", [1f, 2f], 2);
        var q = Parameter.Create("q", [3f], 1);
        var o = new AdamSrf([p, q]);
        Assert.Same(p.ValueBuffer, q.ValueBuffer);
        Assert.Equal(2, q.Offset);
        Assert.Equal([1f, 2f], p.Value<float>().ToArray()); // values were carried over
        p.Value<float>()[0] = 5f;                           // and writes reach the arena
        Assert.Equal(5f, p.ValueBuffer.Span<float>()[0]);
        SetGrad(q, 1);
        o.Step();
        Assert.Equal([5f, 2f], p.Value<float>().ToArray()); // no gradient: untouched
        Assert.NotEqual(3f, q.Value<float>()[0]);
    }

    [Fact]
    public void Many_small_tensors_in_one_group_give_the_bits_of_one_optimizer_per_tensor()
    {
        // The arena merges adjacent segments into one kernel call; this must not change a single bit.
        var property = Prop.ForAll(Gen.Choose(0, 1_000_000).ToArbitrary(), seed =>
        {
            foreach (var kind in new[] { Kind.AdamW, Kind.AdamSrf, Kind.HomeAdamEW })
            {
                foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                {
                    var merged = Tensors(12, seed, dtype);
                    var alone = Tensors(12, seed, dtype);
                    var one = Make(kind, merged);
                    var many = alone.Select(p => Make(kind, [p])).ToArray();
                    var rngA = new Random(seed);
                    var rngB = new Random(seed);
                    for (int s = 0; s < 4; s++)
                    {
                        Grads(merged, rngA);
                        Grads(alone, rngB);
                        one.Step();
                        foreach (var o in many) o.Step();
                    }
                    for (int i = 0; i < merged.Length; i++)
                        if (!Bits(merged[i]).SequenceEqual(Bits(alone[i]))) return false;
                }
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20), property);
    }

    [Fact]
    public void A_state_dict_round_trip_continues_bit_identically()
    {
        var property = Prop.ForAll(Gen.Choose(0, 1_000_000).ToArbitrary(), Gen.Choose(0, 4).ToArbitrary(), (seed, kindIndex) =>
        {
            var kind = Kinds[kindIndex];
            var a = Tensors(6, seed, DType.Float32, edgeShapes: false);
            var b = Tensors(6, seed, DType.Float32, edgeShapes: false);
            var oa = Make(kind, a, groups: kind == Kind.Stac ? 1 : 2);
            var rng = new Random(seed);
            for (int s = 0; s < 3; s++) { Grads(a, rng); oa.Step(); }
            var ob = Make(kind, b, groups: kind == Kind.Stac ? 1 : 2);
            for (int i = 0; i < a.Length; i++) a[i].Value<float>().CopyTo(b[i].Value<float>());
            ob.LoadStateDict(oa.StateDict());
            var rngA = new Random(seed + 1);
            var rngB = new Random(seed + 1);
            for (int s = 0; s < 3; s++) { Grads(a, rngA); Grads(b, rngB); oa.Step(); ob.Step(); }
            return Fingerprint(oa, a).SequenceEqual(Fingerprint(ob, b));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), property);
    }

    [Fact]
    public void The_state_dict_is_a_copy()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var o = new HomeAdam([p]);
        SetGrad(p, 1, 1);
        o.Step();
        var snapshot = o.StateDict();
        var before = snapshot.Groups[0].Parameters[0]!.Buffers["exp_avg"].ToDoubles();
        o.Step();
        Assert.Equal(before, snapshot.Groups[0].Parameters[0]!.Buffers["exp_avg"].ToDoubles());
        Assert.Equal(1, snapshot.Groups[0].Parameters[0]!.Step);
    }

    [Fact]
    public void Loading_a_mismatched_state_dict_says_what_differs_and_changes_nothing()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var o = new HomeAdam([p]);
        SetGrad(p, 1, 1);
        o.Step();
        var before = Fingerprint(o, [p]);

        var other = new AdamW([Parameter.Create("p", [1.0, 2.0], 2)]);
        Assert.Contains("saved by AdamW", Assert.Throws<ArgumentException>(() => o.LoadStateDict(other.StateDict())).Message);

        var shape = new HomeAdam([Parameter.Create("p", [1.0, 2.0, 3.0], 3)]);
        Assert.Contains("shape [3]", Assert.Throws<ArgumentException>(() => o.LoadStateDict(shape.StateDict())).Message);

        var renamed = new HomeAdam([Parameter.Create("q", [1.0, 2.0], 2)]);
        Assert.Contains("named 'q'", Assert.Throws<ArgumentException>(() => o.LoadStateDict(renamed.StateDict())).Message);

        var q = Parameter.Create("p", [1.0, 2.0], 2);
        var f64State = new HomeAdam([q], new HomeAdamOptions { StateDType = DType.Float64 });
        SetGrad(q, 1, 1);
        f64State.Step();
        Assert.Contains("exp_avg:Float64", Assert.Throws<ArgumentException>(() => o.LoadStateDict(f64State.StateDict())).Message);

        var twoGroups = new HomeAdam([new ParamGroup<HomeAdamOptions>([Parameter.Create("p", [1.0, 2.0], 2)]), new ParamGroup<HomeAdamOptions>([])]);
        Assert.Contains("2 parameter groups", Assert.Throws<ArgumentException>(() => o.LoadStateDict(twoGroups.StateDict())).Message);

        Assert.Equal(before, Fingerprint(o, [p]));
    }

    [Fact]
    public void A_malformed_state_dict_is_refused_with_the_field_and_its_range_and_changes_nothing()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var o = new HomeAdam([p]);
        SetGrad(p, 1, 1);
        o.Step();
        var before = Fingerprint(o, [p]);
        var saved = o.StateDict();
        var group = saved.Groups[0];
        var ps = group.Parameters[0]!;
        OptimizerState With(GroupState g) => saved with { Groups = [g] };
        OptimizerState WithParameter(ParameterState x) => With(group with { Parameters = [x] });

        var refusals = new (OptimizerState State, string Says)[]
        {
            (With(group with { Shapes = [] }), "0 shapes and 1 dtypes for 1 parameters"),
            (With(group with { DTypes = [] }), "1 shapes and 0 dtypes for 1 parameters"),
            (WithParameter(ps with { Step = -1 }), "Step -1 (expected a finite step ≥ 0)"),
            (WithParameter(ps with { Step = double.NaN }), "(expected a finite step ≥ 0)"),
            (WithParameter(ps with { Step = double.PositiveInfinity }), "(expected a finite step ≥ 0)"),
            (WithParameter(ps with { Beta1Power = 1.5 }), "Beta1Power 1.5 (expected 0 ≤ β₁ᵗ ≤ 1)"),
            (WithParameter(ps with { Beta1Power = double.NaN }), "(expected 0 ≤ β₁ᵗ ≤ 1)"),
            (WithParameter(ps with { Beta2Power = -0.5 }), "Beta2Power -0.5 (expected 0 ≤ β₂ᵗ ≤ 1)"),
            (WithParameter(ps with { Beta2Power = double.NegativeInfinity }), "(expected 0 ≤ β₂ᵗ ≤ 1)"),
        };
        foreach (var (state, says) in refusals)
        {
            var e = Assert.Throws<ArgumentException>(() => o.LoadStateDict(state));
            Assert.Equal("state", e.ParamName);
            Assert.Contains(says, e.Message);
            Assert.Equal(before, Fingerprint(o, [p]));
        }
        o.LoadStateDict(WithParameter(ps with { Beta1Power = 0.0 })); // β₁ = 0 gives a product of 0
    }

    [Theory]
    [InlineData(Kind.AdamW)]
    [InlineData(Kind.AdamSrf)]
    [InlineData(Kind.HomeAdam)]
    [InlineData(Kind.HomeAdamEW)]
    [InlineData(Kind.Stac)]
    public void A_step_that_throws_changes_nothing(Kind kind)
    {
        var ps = Tensors(8, 11, DType.Float32, edgeShapes: false);
        var o = Make(kind, ps, NonFinitePolicy.Throw, groups: kind == Kind.Stac ? 1 : 2);
        var rng = new Random(5);
        Grads(ps, rng);
        o.Step();
        var before = Fingerprint(o, ps);

        // A non-finite gradient in the last parameter (the last group, or STAC's cap) under Throw.
        foreach (var p in ps) RandomGrad(p, rng);
        ps[^1].Grad<float>()[0] = float.NaN;
        Assert.Throws<NonFiniteGradientException>(o.Step);
        Assert.Equal(before, Fingerprint(o, ps));

        // A sparse gradient in the last parameter.
        ps[^1].AttachSparseGrad<float>([0], [1f]);
        Assert.Throws<NotSupportedException>(o.Step);
        Assert.Equal(before, Fingerprint(o, ps));
    }

    [Fact]
    public void A_step_that_throws_leaves_the_last_telemetry_intact()
    {
        var ps = Tensors(4, 6, DType.Float32, edgeShapes: false);
        var o = Make(Kind.HomeAdamEW, ps, NonFinitePolicy.Throw, groups: 2);
        o.TelemetryEnabled = true;
        var rng = new Random(3);
        foreach (var p in ps) RandomGrad(p, rng);
        o.Step();
        var before = o.Telemetry.Select(t => (t.Steps, t.Skipped, t.NonFiniteGradients, t.SteppedElements, t.AdaptiveElements, t.AdaptiveFraction, t.MinVHat)).ToArray();
        Assert.All(before, t => Assert.True(t.SteppedElements > 0));

        ps[^1].Grad<float>()[0] = float.NaN;
        Assert.Throws<NonFiniteGradientException>(o.Step);
        Assert.Equal(before, o.Telemetry.Select(t => (t.Steps, t.Skipped, t.NonFiniteGradients, t.SteppedElements, t.AdaptiveElements, t.AdaptiveFraction, t.MinVHat)).ToArray());
    }

    [Fact]
    public void Skip_step_leaves_every_counter_alone()
    {
        var ps = Tensors(4, 3, DType.Float64, edgeShapes: false);
        var o = Make(Kind.HomeAdam, ps, NonFinitePolicy.SkipStep);
        var rng = new Random(1);
        foreach (var p in ps) RandomGrad(p, rng);
        o.Step();
        var before = Fingerprint(o, ps);
        ps[2].Grad<double>()[0] = double.NegativeInfinity;
        o.Step();
        Assert.Equal(1, o.NonFiniteSkippedSteps);
        Assert.Equal(before.Count, Fingerprint(o, ps).Count);
        Assert.Equal(before.Skip(ps.Sum(p => p.Length) + 1), Fingerprint(o, ps).Skip(ps.Sum(p => p.Length) + 1));
    }

    [Fact]
    public void Propagate_lets_NaN_through_as_upstream_does()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var o = new AdamSrf([p]);
        SetGrad(p, double.NaN, 1);
        o.Step();
        Assert.True(double.IsNaN(Values(p)[0]));
        Assert.False(double.IsNaN(Values(p)[1]));
    }

    [Fact]
    public void Telemetry_counts_the_adaptive_elements_the_state_implies()
    {
        var ps = Tensors(5, 9, DType.Float32, edgeShapes: false);
        const double tau = 2e-3;
        var o = new HomeAdamEW(ps, new HomeAdamEWOptions { Tau = tau });
        var rng = new Random(2);
        Assert.Equal(0, o.Telemetry[0].Steps);
        o.TelemetryEnabled = true;
        for (int s = 0; s < 3; s++)
        {
            foreach (var p in ps) RandomGrad(p, rng);
            ps[1].Grad<float>()[0] = float.NaN;
            o.Step();
            long expected = 0, total = 0;
            foreach (var st in o.StateDict().Groups[0].Parameters)
            {
                float bc2 = 1f - (float)st!.Beta2Power!.Value;
                foreach (double v in st.Buffers["exp_avg_sq"].ToDoubles())
                {
                    total++;
                    if ((float)v / bc2 >= (float)tau) expected++;
                }
            }
            var t = o.Telemetry[0];
            Assert.Equal(s + 1, t.Steps);
            Assert.Equal(total, t.SteppedElements);
            Assert.Equal(expected, t.AdaptiveElements);
            Assert.Equal((double)expected / total, t.AdaptiveFraction);
            Assert.Equal(1, t.NonFiniteGradients);
            Assert.False(t.Skipped);
        }
    }

    [Theory]
    [InlineData(Kind.AdamW)]
    [InlineData(Kind.AdamSrf)]
    [InlineData(Kind.HomeAdam)]
    [InlineData(Kind.HomeAdamEW)]
    [InlineData(Kind.Stac)]
    public void A_step_allocates_nothing(Kind kind)
    {
        var ps = Tensors(100, 4, DType.Float32, edgeShapes: true);
        var o = Make(kind, ps, groups: kind == Kind.Stac ? 1 : 2);
        o.TelemetryEnabled = true;
        var rng = new Random(8);
        foreach (var p in ps) RandomGrad(p, rng);
        ps[3].ClearGrad(); // a gap splits the arena into runs
        if (kind == Kind.HomeAdam)
            foreach (var p in ps.Where(p => p.Length == 0)) p.ClearGrad(); // HomeAdam refuses an empty tensor with a gradient
        o.Step();
        o.Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int s = 0; s < 5; s++) o.Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ZeroGrad_removes_or_zeroes()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var q = Parameter.Create("q", [1.0], 1);
        var o = new AdamW([p, q]);
        SetGrad(p, 3, 4);
        o.ZeroGrad(setToNone: false);
        Assert.True(p.HasGrad);
        Assert.Equal([0.0, 0.0], p.Grad<double>().ToArray());
        Assert.False(q.HasGrad);
        o.ZeroGrad();
        Assert.False(p.HasGrad);
    }

    [Fact]
    public void Every_non_finite_value_is_found_wherever_it_sits()
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            for (int n = 1; n <= 40; n++)
                for (int at = 0; at < n; at++)
                    foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                    {
                        var p = new Parameter("p", [n], dtype);
                        var o = new AdamW([p], new AdamWOptions { NonFinitePolicy = NonFinitePolicy.Throw });
                        var g = new double[n];
                        Array.Fill(g, 1e30);
                        g[at] = bad;
                        SetGrad(p, g);
                        Assert.Throws<NonFiniteGradientException>(o.Step);
                        g[at] = -3.0e38;
                        SetGrad(p, g);
                        o.Step();
                    }
    }

    [Fact]
    public void Group_options_can_change_between_steps_within_the_same_layout()
    {
        var p = Parameter.Create("p", [1.0, 2.0], 2);
        var q = Parameter.Create("q", [1.0, 2.0], 2);
        var scheduled = new AdamW([p], new AdamWOptions { Lr = 0.1 });
        var fixedLr = new AdamW([q], new AdamWOptions { Lr = 0.05 });
        SetGrad(p, 1, -1);
        SetGrad(q, 1, -1);
        scheduled.SetGroupOptions(0, (AdamWOptions)scheduled.GroupOptions(0) with { Lr = 0.05 });
        scheduled.Step();
        fixedLr.Step();
        Assert.Equal(Fingerprint(fixedLr, [q]), Fingerprint(scheduled, [p]));
        Assert.Equal("Lr", Assert.Throws<ArgumentOutOfRangeException>(() => scheduled.SetGroupOptions(0, new AdamWOptions { Lr = -1 })).ParamName);
        Assert.Contains("state layout", Assert.Throws<ArgumentException>(() => scheduled.SetGroupOptions(0, new AdamWOptions { Amsgrad = true })).Message);
        Assert.Throws<ArgumentException>(() => scheduled.SetGroupOptions(0, new HomeAdamOptions()));
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduled.SetGroupOptions(1, new AdamWOptions()));
    }
}
