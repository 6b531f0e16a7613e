using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;
using Xunit.Abstractions;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// The tolerance model is tight: float64 bounds are a few units of roundoff of the magnitudes of the terms (not a global
/// relative tolerance), one float32 ulp on a float64 result is caught, and values inside the bound pass.
/// </summary>
public sealed class ToleranceModelTests(ITestOutputHelper output)
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(RepositoryLayout.PublicGolden()));
    static readonly double U64 = Math.ScaleB(1.0, -53);
    static readonly double U32 = Math.ScaleB(1.0, -24);

    /// <summary>Golden cases whose every operation runs in float64 upstream: parameters and state.</summary>
    static IEnumerable<TrajectoryCase> AllFloat64Cases() => Golden.Value.Cases.Where(c =>
        c.ParamDType == RecordedDType.Float64
        && c.Groups.All(g => g.String("state_dtype") is null or "float64" || !g.Has("state_dtype") && c.Optimizer is "AdamW" or "STAC")
        && c.Groups.All(g => g.String("trunk_state_dtype") is null));

    /// <summary>Teacher-forced bounds of every step: (step index, inputs, bounds) against the float64 reference side.</summary>
    static IEnumerable<(int Step, BoundState Before, StepBounds Bounds)> TeacherForced(TrajectoryCase c)
    {
        var empty = new Dictionary<int, ParamState>();
        for (int t = 0; t < c.Steps.Count; t++)
        {
            var before = t == 0
                ? BoundState.Exact(c.Params.Select(p => p.Init).ToList(), empty)
                : BoundState.Exact(c.Steps[t - 1].ParamsAfter, c.Steps[t - 1].State);
            yield return (t, before, ToleranceModel.Step(c, before, c.Steps[t].Grads, ErrorBudget.RecordVersusFloat64));
        }
    }

    [Fact]
    public void Approx_rounding_adds_unit_roundoff_of_the_result_and_keeps_exact_zeros_exact()
    {
        var r = Rounding.Float32;
        var x = r.Round(Approx.Exact(3.0) * Approx.Exact(0.1));
        Assert.Equal(0.30000000000000004, x.Value);
        Assert.Equal(U32 * x.Value + Math.ScaleB(1.0, -150), x.Error);
        Assert.True(r.Round(Approx.Exact(0.0) * Approx.Exact(7.0)).IsExact);
        // Exact results representable in the format cost nothing: 1·β, 3·0.5, and 1 − β (Sterbenz).
        Assert.True(r.Round(Approx.Exact(3.0) * Approx.Exact(0.5)).IsExact);
        Assert.True(Rounding.Float64.Round(Approx.One - Approx.Exact(0.999)).IsExact);
        Assert.False(r.Cast(0.9).IsExact);
        Assert.True(Rounding.Float64.Cast(0.9).IsExact);
        Assert.Equal(Math.ScaleB(1.0, -53) + Math.ScaleB(1.0, -24), (Rounding.Float64 + Rounding.Float32).UnitRoundoff);
    }

    [Fact]
    public void Approx_operators_propagate_interval_bounds()
    {
        var a = new Approx(2.0, 0.1);
        var b = new Approx(-3.0, 0.2);
        Assert.Equal(0.3, (a + b).Error, 15);
        Assert.Equal(0.3, (a - b).Error, 15);
        Assert.Equal(2.0 * 0.2 + 3.0 * 0.1 + 0.1 * 0.2, (a * b).Error, 15);
        // (ea + |q|·eb)/(|b| − eb): the worst case of a'/b' over both intervals.
        Assert.Equal((0.1 + 2.0 / 3.0 * 0.2) / 2.8, (a / b).Error, 15);
        Assert.Equal(double.PositiveInfinity, (a / new Approx(0.1, 0.2)).Error);
        var s = Approx.Sqrt(new Approx(4.0, 0.44));
        Assert.Equal(2.0 - Math.Sqrt(3.56), s.Error, 15);
        Assert.True(new Approx(1e-20, 2e-20).SignUncertain);
        Assert.False(new Approx(1e-20, 0.5e-20).SignUncertain);
        Assert.True(new Approx(1.0, 1e-6).ComparisonUncertain(Approx.Exact(1.0 + 5e-7)));
        Assert.False(new Approx(1.0, 1e-6).ComparisonUncertain(Approx.Exact(1.0 + 5e-6)));
    }

    [Fact]
    public void Float64_moment_bounds_are_a_few_unit_roundoffs_of_their_terms()
    {
        // m' = β1·m + (1 − β1)·g and v' = β2·v + (1 − β2)·g²: the bound must be a few u of |β·old| + |(1 − β)·new term|,
        // priced on both sides (upstream float64 and the float64 reference), whatever the size of the result.
        double worst = 0;
        int elements = 0;
        foreach (var c in AllFloat64Cases().Where(c => c.Optimizer != "STAC"))
        foreach (var (t, before, bounds) in TeacherForced(c))
        foreach (var group in c.Groups)
        {
            var (beta1, beta2) = group.Betas();
            foreach (var index in group.ParamIndices.Where(i => c.Steps[t].Grads[i] is not null))
            {
                var g = c.Steps[t].Grads[index]!;
                var old = before.State.TryGetValue(index, out var s) ? s : null;
                for (int i = 0; i < g.Length; i++)
                {
                    double m = old?["exp_avg"][i].Value ?? 0, v = old?["exp_avg_sq"][i].Value ?? 0;
                    double sign = group.Bool("maximize") ? -1 : 1;
                    double mTerms = Math.Abs(beta1 * m) + Math.Abs((1 - beta1) * g[i] * sign) + Math.Abs((1 - beta1) * m);
                    double vTerms = Math.Abs(beta2 * v) + (1 - beta2) * g[i] * g[i];
                    var mBound = bounds.After.State[index]["exp_avg"][i];
                    var vBound = bounds.After.State[index]["exp_avg_sq"][i];
                    if (mTerms > 0) worst = Math.Max(worst, mBound.Error / (U64 * mTerms));
                    if (vTerms > 0) worst = Math.Max(worst, vBound.Error / (U64 * vTerms));
                    elements++;
                }
            }
        }
        output.WriteLine($"{elements} float64 moment elements: bound ≤ {worst:F2} u·terms");
        Assert.True(elements > 3000);
        Assert.InRange(worst, 1.0, 8.0);
    }

    [Fact]
    public void Float64_bounds_follow_each_element_and_are_reached_by_upstream_itself()
    {
        // Not one global relative tolerance: bound/|value| spreads over orders of magnitude. And not slack: the distance
        // between upstream's float64 values and the model's own float64 evaluation reaches a fair part of the bound.
        double smallestRelative = double.PositiveInfinity, largestRelative = 0, reached = 0;
        foreach (var c in Golden.Value.Cases)
        foreach (var (t, _, bounds) in TeacherForced(c))
        for (int p = 0; p < c.Steps[t].ParamsAfter.Count; p++)
        for (int i = 0; i < c.Steps[t].ParamsAfter[p].Length; i++)
        {
            var b = bounds.After.Params[p][i];
            double e = c.Steps[t].ParamsAfter[p][i];
            if (b.IsExact || !b.IsFinite || e == 0) continue;
            if (AllFloat64Cases().Contains(c))
            {
                double relative = b.Error / Math.Abs(e);
                smallestRelative = Math.Min(smallestRelative, relative);
                largestRelative = Math.Max(largestRelative, relative);
            }
            // The model's float64 value stands in for the exact result; float32 upstream shows how far rounding really goes.
            else if (c.ParamDType == RecordedDType.Float32)
                reached = Math.Max(reached, Math.Abs(e - b.Value) / b.Error);
        }
        output.WriteLine($"bound/|value| from {smallestRelative:G3} to {largestRelative:G3}; float32 upstream reaches {reached:P0} of the bound");
        Assert.True(largestRelative / smallestRelative > 100, "bounds should follow each element's own terms");
        Assert.InRange(reached, 0.2, 1.0);
    }

    [Fact]
    public void One_float32_ulp_on_any_float64_result_is_caught()
    {
        int checkedElements = 0;
        var missed = new List<string>();
        foreach (var c in AllFloat64Cases())
        foreach (var (t, _, bounds) in TeacherForced(c))
        {
            var record = c.Steps[t];
            for (int p = 0; p < record.ParamsAfter.Count; p++)
                Check($"{c.Id} step {t} params[{p}]", record.ParamsAfter[p], bounds.After.Params[p], p, bounds, alternativesApply: true);
            foreach (var (index, buffers) in record.State)
            foreach (var (name, values) in buffers)
                if (name != "step")
                    Check($"{c.Id} step {t} state[{index}].{name}", values, bounds.After.State[index][name], index, bounds, alternativesApply: false);
        }
        output.WriteLine($"{checkedElements} float64 elements perturbed by one float32 ulp; missed {missed.Count}");
        Assert.True(checkedElements > 5000);
        Assert.Empty(missed);

        void Check(string where, double[] expected, Approx[] bound, int param, StepBounds bounds, bool alternativesApply)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                if (!double.IsFinite(expected[i])) continue;
                double perturbed = expected[i] + ElementComparison.Ulp(expected[i], RecordedDType.Float32);
                List<Approx>? alternatives = null;
                if (alternativesApply) bounds.Alternatives.TryGetValue((param, i), out alternatives);
                var verdict = ElementComparison.Compare(expected[i], perturbed, bound[i], alternatives, RecordedDType.Float64, ComparisonMode.Tolerance);
                checkedElements++;
                if (verdict.Pass) missed.Add($"{where}[{i}]");
            }
        }
    }

    [Fact]
    public void Values_inside_the_bound_pass_and_just_outside_fail()
    {
        int inside = 0;
        foreach (var c in Golden.Value.Cases)
        foreach (var (t, _, bounds) in TeacherForced(c).Take(3))
        for (int p = 0; p < c.Steps[t].ParamsAfter.Count; p++)
        for (int i = 0; i < c.Steps[t].ParamsAfter[p].Length; i++)
        {
            double e = c.Steps[t].ParamsAfter[p][i];
            var b = bounds.After.Params[p][i];
            if (!double.IsFinite(e) || b.IsExact || bounds.Alternatives.ContainsKey((p, i))) continue;
            double allowed = ToleranceModel.SafetyFactor * b.Error;
            // Below a few float64 spacings the offsets below are not representable around e.
            if (allowed < 8 * ElementComparison.Ulp(e, RecordedDType.Float64)) continue;
            // Two float64 spacings of margin, so that the offsets survive their own rounding around e.
            double margin = 2 * ElementComparison.Ulp(e, RecordedDType.Float64);
            Assert.True(ElementComparison.Compare(e, e + (allowed - margin), b, null, c.ParamDType, ComparisonMode.Tolerance).Pass, $"{c.Id} {t} {p} {i} {e} {b}");
            Assert.True(ElementComparison.Compare(e, e - (allowed - margin), b, null, c.ParamDType, ComparisonMode.Tolerance).Pass, $"{c.Id} {t} {p} {i} {e} {b}");
            Assert.False(ElementComparison.Compare(e, e + (allowed + margin), b, null, c.ParamDType, ComparisonMode.Tolerance).Pass, $"{c.Id} {t} {p} {i} {e} {b}");
            inside++;
        }
        Assert.True(inside > 1000);
    }

    [Fact]
    public void Nonfinite_values_and_signed_zeros_compare_by_class()
    {
        var loose = new Approx(0.0, 1.0);
        Assert.True(ElementComparison.Compare(double.NaN, -double.NaN, loose, null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(double.NaN, 0.0, loose, null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(0.0, double.NaN, loose, null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.True(ElementComparison.Compare(double.PositiveInfinity, double.PositiveInfinity, loose, null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(double.PositiveInfinity, double.NegativeInfinity, loose, null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(double.PositiveInfinity, double.MaxValue, loose, null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
        // A zero reached exactly (zero bound) must keep its sign; a zero within rounding of a tiny value compares as a number.
        Assert.False(ElementComparison.Compare(0.0, -0.0, Approx.Exact(0.0), null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
        Assert.True(ElementComparison.Compare(-0.0, -0.0, Approx.Exact(-0.0), null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
        Assert.True(ElementComparison.Compare(0.0, 1e-300, new Approx(0.0, 1e-299), null, RecordedDType.Float64, ComparisonMode.Tolerance).Pass);
    }

    [Fact]
    public void A_nonfinite_class_that_depends_on_the_evaluation_order_accepts_either_class_but_no_number()
    {
        // m = +∞ from an earlier +∞ gradient: lerp computes ∞ + w·(g − ∞) = NaN, β·m + (1 − β)·g gives +∞.
        var c = Synthetic.Case("HomeAdamEW", RecordedDType.Float32, [[1.0]],
            [Synthetic.Group([0], ("lr", 0.01), ("betas", new[] { 0.9, 0.99 }), ("eps", 1e-7), ("weight_decay", 0.0),
                ("tau", 1e-3), ("state_dtype", "float32"), ("update_mode", "denom"))],
            [[0.5]]);
        var state = new Dictionary<int, ParamState>
        {
            [0] = new() { ["step"] = [1], ["exp_avg"] = [double.PositiveInfinity], ["exp_avg_sq"] = [double.PositiveInfinity], ["beta1_power"] = [0.9], ["beta2_power"] = [0.99] },
        };
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), state);
        var m = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64).After.State[0]["exp_avg"][0];
        Assert.True(double.IsNaN(m.Value));
        Assert.True(m.ClassOpen);
        Assert.True(ElementComparison.Compare(double.NaN, double.PositiveInfinity, m, null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(double.NaN, 1.0, m, null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.False(ElementComparison.Compare(double.NaN, double.PositiveInfinity, m, null, RecordedDType.Float32, ComparisonMode.BitExact).Pass);
        // A class every order agrees on stays strict.
        Assert.False(ElementComparison.Compare(double.NaN, double.PositiveInfinity, Approx.Exact(double.NaN), null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
    }

    [Fact]
    public void Overflow_in_the_narrow_format_leaves_the_element_unbounded_instead_of_crying_wolf()
    {
        // g = 1e25: (1 − β2)·g² = 1e47 overflows float32 upstream, not in the float64 reference.
        var c = Synthetic.Case("AdamW", RecordedDType.Float32, [[1.0, 1.0]],
            [Synthetic.Group([0], ("lr", 0.01), ("betas", new[] { 0.9, 0.999 }), ("eps", 1e-8), ("weight_decay", 0.0), ("amsgrad", false), ("maximize", false))],
            [[1e25, 1.0]]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        var v = bounds.After.State[0]["exp_avg_sq"];
        Assert.True(double.IsPositiveInfinity(v[0].Error));
        Assert.True(ElementComparison.Compare(double.PositiveInfinity, v[0].Value, v[0], null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        // The element next to it is bounded as usual.
        Assert.True(double.IsFinite(v[1].Error));
        Assert.False(ElementComparison.Compare(v[1].Value, double.PositiveInfinity, v[1], null, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
    }

    [Fact]
    public void Bit_exact_mode_allows_no_ulp_but_any_nan_payload()
    {
        var any = new Approx(1.0, 1.0);
        Assert.True(ElementComparison.Compare(1.0, 1.0, any, null, RecordedDType.Float32, ComparisonMode.BitExact).Pass);
        var oneUlp = ElementComparison.Compare(1.0, Math.BitIncrement(1.0), any, null, RecordedDType.Float64, ComparisonMode.BitExact);
        Assert.False(oneUlp.Pass);
        Assert.Equal(1.0, oneUlp.Ulps);
        Assert.False(ElementComparison.Compare(0.0, -0.0, any, null, RecordedDType.Float64, ComparisonMode.BitExact).Pass);
        Assert.True(ElementComparison.Compare(double.NaN, BitConverter.Int64BitsToDouble(0x7FF0000000000001), any, null, RecordedDType.Float64, ComparisonMode.BitExact).Pass);
    }

    [Fact]
    public void Float32_state_is_priced_in_float32_even_for_float64_parameters()
    {
        var c = Golden.Value.Cases.Single(x => x.Id == "homeadam_default_fp32_state_f64_params");
        var (_, _, bounds) = TeacherForced(c).Skip(3).First();
        var m = bounds.After.State[0]["exp_avg"];
        Assert.All(m, a => Assert.True(a.Error >= U32 * Math.Abs(a.Value) * 0.99, $"{a} is not priced in float32"));
        Assert.Equal(RecordedDType.Float32, bounds.StateDTypes[(0, "exp_avg")]);
        Assert.Equal(RecordedDType.Float64, bounds.StateDTypes[(0, "step")]);
    }

    [Fact]
    public void Free_running_bounds_grow_beyond_teacher_forced_ones()
    {
        var c = Golden.Value.Cases.Single(x => x.Id == "adamw_defaults_f64");
        var carried = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var forced = TeacherForced(c).ToList();
        for (int t = 0; t < c.Steps.Count; t++)
            carried = ToleranceModel.Step(c, carried, c.Steps[t].Grads, ErrorBudget.RecordVersusFloat64).After;
        double freeRunning = carried.Params[0].Max(a => a.Error);
        double teacherForced = forced[^1].Bounds.After.Params[0].Max(a => a.Error);
        output.WriteLine($"after {c.Steps.Count} steps: free-running {freeRunning:G3}, teacher-forced {teacherForced:G3}");
        Assert.True(freeRunning > 2 * teacherForced);
    }

    [Fact]
    public void HomeAdam_group_decision_on_tau_is_ambiguous_and_accepts_both_branches_only()
    {
        // One step from zero state: v = (1 − β2)·g², bc2 = 1 − β2, so v̂ = g² up to rounding. τ = g² of the smaller
        // gradient puts the group minimum exactly on the threshold.
        double g0 = 0.3, g1 = 2.0;
        var c = Synthetic.Case("HomeAdam", RecordedDType.Float32, [[1.0, -1.0]],
            [Synthetic.Group([0], ("lr", 0.1), ("betas", new[] { 0.9, 0.99 }), ("eps", 1e-7), ("weight_decay", 0.0),
                ("tau", g0 * g0), ("state_dtype", "float32"), ("capturable", false))],
            [[g0, g1]]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        Assert.Equal(1, bounds.AmbiguousDecisions);
        Assert.True(bounds.Alternatives.ContainsKey((0, 0)) && bounds.Alternatives.ContainsKey((0, 1)));

        var primary = bounds.After.Params[0][1];
        var other = bounds.Alternatives[(0, 1)][0];
        Assert.True(Math.Abs(primary.Value - other.Value) > 1e-3, "the two branches move the parameter differently");
        var alternatives = bounds.Alternatives[(0, 1)];
        // Whichever branch the record took, an actual on either branch passes; a value on neither fails.
        Assert.True(ElementComparison.Compare(primary.Value, other.Value, primary, alternatives, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        Assert.True(ElementComparison.Compare(other.Value, primary.Value, primary, alternatives, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
        double neither = (primary.Value + other.Value) / 2;
        Assert.False(ElementComparison.Compare(primary.Value, neither, primary, alternatives, RecordedDType.Float32, ComparisonMode.Tolerance).Pass);
    }

    [Fact]
    public void HomeAdam_group_decision_away_from_tau_is_not_ambiguous()
    {
        var c = Synthetic.Case("HomeAdam", RecordedDType.Float64, [[1.0, -1.0]],
            [Synthetic.Group([0], ("lr", 0.1), ("betas", new[] { 0.9, 0.99 }), ("eps", 1e-7), ("weight_decay", 0.0),
                ("tau", 0.09 * (1 + 1e-12)), ("state_dtype", null), ("capturable", false))],
            [[0.3, 2.0]]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        // 1e-12 relative is far outside float64 rounding: the decision is determined (SGDM) and no alternative is offered.
        Assert.Equal(0, bounds.AmbiguousDecisions);
        Assert.Empty(bounds.Alternatives);
        Assert.Equal(0.0, bounds.AdaptiveFraction);
    }

    [Fact]
    public void HomeAdamEW_marks_only_the_element_on_tau()
    {
        var c = Synthetic.Case("HomeAdamEW", RecordedDType.Float32, [[1.0, 1.0, 1.0]],
            [Synthetic.Group([0], ("lr", 0.01), ("betas", new[] { 0.9, 0.99 }), ("eps", 1e-7), ("weight_decay", 0.0),
                ("tau", 0.25), ("state_dtype", "float32"), ("update_mode", "denom"))],
            [[10.0, 0.5, 0.001]]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        Assert.Equal(1, bounds.AmbiguousDecisions);
        Assert.Equal([(0, 1)], bounds.Alternatives.Keys);
    }

    [Fact]
    public void Stac_trunk_sign_within_rounding_of_zero_accepts_every_sign()
    {
        // b = μ·b₀ + (1 − μ)·g with g chosen so the two terms cancel up to rounding.
        double mu = 0.9, b0 = 0.1, g = -mu * b0 / (1 - mu);
        var c = Synthetic.Case("STAC", RecordedDType.Float64, [[1.0, 1.0]],
            [Synthetic.Group([0], ("stac_role", "trunk"), ("lr", 0.01), ("weight_decay", 0.0), ("trunk_momentum", mu),
                ("trunk_state_dtype", null), ("maximize", false))],
            [[g, 1.0]]);
        var state = new Dictionary<int, ParamState> { [0] = new() { ["trunk_momentum_buffer"] = [b0, b0] } };
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), state);
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        Assert.Equal(1, bounds.AmbiguousDecisions);
        var candidates = bounds.Alternatives[(0, 0)].Append(bounds.After.Params[0][0]).Select(a => a.Value).OrderBy(v => v).ToArray();
        Assert.Equal([0.99, 1.0, 1.01], candidates, (x, y) => Math.Abs(x - y) < 1e-15);
        Assert.False(bounds.Alternatives.ContainsKey((0, 1)));
    }

    [Fact]
    public void Stac_skips_the_whole_step_on_a_nonfinite_gradient()
    {
        var c = Synthetic.Case("STAC", RecordedDType.Float32, [[1.0], [2.0]],
            [Synthetic.Group([0], ("stac_role", "trunk"), ("lr", 0.01), ("weight_decay", 0.1), ("trunk_momentum", 0.0)),
             Synthetic.Group([1], ("stac_role", "cap"), ("lr", 0.01), ("weight_decay", 0.1), ("betas", new[] { 0.9, 0.999 }), ("eps", 1e-8))],
            [[0.5], [double.NaN]]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var bounds = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64);
        Assert.True(bounds.Skipped);
        Assert.Equal(Approx.Exact(1.0), bounds.After.Params[0][0]);
        Assert.Empty(bounds.After.State);
    }
}
