using Optimizers.Kernels;
using Optimizers.Storage;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests;

/// <summary>The upstream homeadam test suite's assertions (upstream-spec A8) restated against production, plus the NaN corner of A6.2.</summary>
public class HomeAdamFamilyTests
{
    static Parameter Vec(string name, params double[] v) => Parameter.Create(name, v, v.Length);

    [Fact]
    public void Every_public_kernel_entry_point_names_the_mismatched_argument()
    {
        var s = StepScalars.HomeAdam(DType.Float32, DType.Float32, 1e-3, 0.9, 0.99, 1e-7, 0.0, 1.0, 0.9, 0.99);
        TensorBuffer F32(int n) => new(DType.Float32, n);
        var (param, grad, m, v) = (F32(4), F32(4), F32(4), F32(4));
        var f64 = new TensorBuffer(DType.Float64, 4);
        foreach (var path in new[] { KernelPath.Scalar, KernelPath.Auto })
        {
            Assert.Equal("v", Assert.Throws<ArgumentException>(() => HomeAdamFamilyKernel.UpdateMoments(grad, 0, m, f64, 0, 4, s, path)).ParamName);
            Assert.Equal("v", Assert.Throws<ArgumentException>(() => HomeAdamFamilyKernel.Apply(param, 0, m, f64, 0, 4, s, BranchRule.Adaptive, path)).ParamName);
            Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => HomeAdamFamilyKernel.UpdateMoments(grad, 2, m, v, 0, 4, s, path)).ParamName);
            Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => HomeAdamFamilyKernel.Apply(param, 0, m, v, 1, 4, s, BranchRule.Adaptive, path)).ParamName);
            Assert.Equal("param", Assert.Throws<ArgumentException>(() => HomeAdamFamilyKernel.Apply(new TensorBuffer(DType.Float16, 4), 0, m, v, 0, 4, s, BranchRule.Adaptive, path)).ParamName);
            Assert.Equal("grad", Assert.Throws<ArgumentException>(() => HomeAdamFamilyKernel.Step(param, f64, 0, m, v, 0, 4, s, BranchRule.Adaptive, path)).ParamName);
        }
    }

    [Fact]
    public void Defaults_are_upstreams()
    {
        var o = new HomeAdamOptions();
        Assert.Equal((1e-3, 0.9, 0.99, 1e-7, 0.0, 1.0), (o.Lr, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, o.Tau));
        Assert.Equal(DType.Float32, o.StateDType);
        Assert.False(o.Capturable);
        Assert.Equal(HomeAdamEWUpdateMode.Denom, new HomeAdamEWOptions().UpdateMode);
        Assert.Equal(NonFinitePolicy.Propagate, new AdamSrfOptions().NonFinitePolicy);
    }

    [Fact]
    public void A_step_changes_the_parameter_and_a_parameter_without_gradient_is_skipped()
    {
        var p1 = Vec("p1", 1, 2, 3);
        var p2 = Vec("p2", 4, 5);
        var before = Bits(p2);
        var o = new HomeAdamEW([p1, p2], new HomeAdamEWOptions { WeightDecay = 0.1 });
        SetGrad(p1, 0.5, -0.3, 0.8);
        o.Step();
        Assert.NotEqual(new[] { 1.0, 2.0, 3.0 }, Values(p1));
        Assert.Equal(before, Bits(p2)); // no decay either
        Assert.Null(o.StateDict().Groups[0].Parameters[1]);
    }

    [Fact]
    public void AdamSrf_matches_the_paper_formula_in_float64()
    {
        // upstream tests/test_functional.py: θ=[1,2,3], g=[0.5,−0.3,0.8], lr 0.01, β (0.9,0.99), ε 1e-7, one step, tolerance 1e-10.
        double[] theta = [1, 2, 3], g = [0.5, -0.3, 0.8];
        var p = Vec("p", theta);
        var o = new AdamSrf([p], new AdamSrfOptions { Lr = 0.01, StateDType = DType.Float64 });
        SetGrad(p, g);
        o.Step();
        for (int i = 0; i < 3; i++)
        {
            double mHat = 0.1 * g[i] / (1 - 0.9), vHat = 0.01 * g[i] * g[i] / (1 - 0.99);
            Assert.Equal(theta[i] - 0.01 * mHat / (vHat + 1e-7), Values(p)[i], 1e-10);
        }
    }

    [Fact]
    public void HomeAdamEW_accumulates_three_steps_like_the_paper_formula()
    {
        // upstream test_multi_step_accumulation: τ 0.005, atol = rtol = 1e-10.
        double[][] grads = [[0.5, -0.3, 0.8], [0.1, 0.4, -0.2], [-0.3, 0.1, 0.6]];
        double[] theta = [1, 2, 3], m = new double[3], v = new double[3];
        var p = Vec("p", theta);
        var o = new HomeAdamEW([p], new HomeAdamEWOptions { Lr = 0.01, Tau = 0.005, StateDType = DType.Float64 });
        for (int t = 1; t <= 3; t++)
        {
            SetGrad(p, grads[t - 1]);
            o.Step();
            for (int i = 0; i < 3; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * grads[t - 1][i];
                v[i] = 0.99 * v[i] + 0.01 * grads[t - 1][i] * grads[t - 1][i];
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.99, t));
                theta[i] -= 0.01 * (vHat >= 0.005 ? mHat / (vHat + 1e-7) : mHat);
            }
        }
        for (int i = 0; i < 3; i++) Assert.Equal(theta[i], Values(p)[i], 1e-10);
    }

    [Fact]
    public void HomeAdamEW_switches_per_element()
    {
        // upstream test_mixed_elements: grads [10, 0.001, 5], τ 0.5 ⇒ v̂ = [100, 1e-6, 25]: elements 0 and 2 adaptive, 1 SGDM.
        var p = Vec("p", 1, 2, 3);
        var o = new HomeAdamEW([p], new HomeAdamEWOptions { Lr = 0.01, Tau = 0.5, StateDType = DType.Float64 }) { TelemetryEnabled = true };
        SetGrad(p, 10, 0.001, 5);
        o.Step();
        Assert.Equal(2, o.Telemetry[0].AdaptiveElements);
        Assert.Equal(2.0 / 3.0, o.Telemetry[0].AdaptiveFraction, 15);
        Assert.Equal(2 - 0.01 * 0.001, Values(p)[1], 1e-12);       // SGDM: θ − η·m̂
        Assert.Equal(1 - 0.01 * 10 / (100 + 1e-7), Values(p)[0], 1e-12); // adaptive: θ − η·m̂/(v̂+ε)
    }

    [Fact]
    public void HomeAdam_decides_once_for_the_whole_group()
    {
        // upstream test_global_switching_across_tensors: v̂ = 4 and 0.25, min < τ = 1 ⇒ both take SGDM.
        var a = Vec("a", 10.0);
        var b = Vec("b", 10.0);
        var o = new HomeAdam([a, b], new HomeAdamOptions { Lr = 0.1, Beta1 = 0, Beta2 = 0, Eps = 0, Tau = 1, StateDType = DType.Float64 });
        SetGrad(a, 2.0);
        SetGrad(b, 0.5);
        o.Step();
        Assert.Equal(9.8, Values(a)[0], 1e-12);
        Assert.Equal(9.95, Values(b)[0], 1e-12);
    }

    [Fact]
    public void Telemetry_reports_the_group_minimum_of_v_hat_that_decided()
    {
        // β₁ = β₂ = 0 makes v̂ = g²: upstream's test_global_switching_across_tensors numbers, v̂ = 4 and 0.25 < τ = 1 ⇒ SGDM.
        var a = Vec("a", 10.0);
        var b = Vec("b", 10.0);
        var o = new HomeAdam([a, b], new HomeAdamOptions { Lr = 0.1, Beta1 = 0, Beta2 = 0, Eps = 0, Tau = 1, StateDType = DType.Float64 }) { TelemetryEnabled = true };
        SetGrad(a, 2.0);
        SetGrad(b, 0.5);
        o.Step();
        Assert.Equal(0.25, o.Telemetry[0].MinVHat);
        Assert.Equal(0.0, o.Telemetry[0].AdaptiveFraction);
        // One exactly-zero gradient gives v̂ = 0, the minimum every τ > 0 vetoes, however large the rest.
        SetGrad(a, 0.0);
        SetGrad(b, 100.0);
        o.Step();
        Assert.Equal(0.0, o.Telemetry[0].MinVHat);
        Assert.Equal(0.0, o.Telemetry[0].AdaptiveFraction);
        // HomeAdamEW decides per element and never forms a group minimum.
        var p = Vec("p", 1.0);
        var ew = new HomeAdamEW([p], new HomeAdamEWOptions { Tau = 1e-12 }) { TelemetryEnabled = true };
        SetGrad(p, 1.0);
        ew.Step();
        Assert.True(double.IsNaN(ew.Telemetry[0].MinVHat));
    }

    [Fact]
    public void HomeAdam_switch_uses_the_bias_corrected_second_moment()
    {
        // upstream: raw v = 0.04 < τ but v̂ = 4 ≥ τ ⇒ adaptive, θ = 10 − 0.1·2/4 = 9.95.
        var p = Vec("p", 10.0);
        var o = new HomeAdam([p], new HomeAdamOptions { Lr = 0.1, Eps = 0, Tau = 1 });
        SetGrad(p, 2.0);
        o.Step();
        Assert.Equal(9.95, Values(p)[0], 1e-6);
    }

    [Fact]
    public void With_a_zero_gradient_HomeAdam_only_decays_like_AdamW()
    {
        var h = Vec("h", 3, -2);
        var w = Vec("w", 3, -2);
        var homeAdam = new HomeAdam([h], new HomeAdamOptions { Lr = 0.1, WeightDecay = 0.2, Eps = 1e-8 });
        var adamW = new AdamW([w], new AdamWOptions { Lr = 0.1, WeightDecay = 0.2, Eps = 1e-8 });
        SetGrad(h, 0, 0);
        SetGrad(w, 0, 0);
        homeAdam.Step();
        adamW.Step();
        Assert.Equal(new[] { 3 * (1 - 0.02), -2 * (1 - 0.02) }, Values(h));
        Assert.Equal(Values(h), Values(w));
    }

    [Fact]
    public void Tiny_tau_is_AdamSrf_and_huge_tau_is_not()
    {
        var rng = new Random(42);
        double[] init = Enumerable.Range(0, 8).Select(_ => rng.NextDouble()).ToArray();
        double[] grad = Enumerable.Range(0, 8).Select(_ => 0.1 + rng.NextDouble()).ToArray();
        var run = (Func<Parameter, Optimizer> make) =>
        {
            var p = Vec("p", init);
            var o = make(p);
            SetGrad(p, grad);
            o.Step();
            return Bits(p);
        };
        var srf = run(p => new AdamSrf([p]));
        Assert.Equal(srf, run(p => new HomeAdam([p], new HomeAdamOptions { Tau = 1e-12 })));
        Assert.Equal(srf, run(p => new HomeAdamEW([p], new HomeAdamEWOptions { Tau = 1e-12 })));
        Assert.NotEqual(srf, run(p => new HomeAdam([p], new HomeAdamOptions { Tau = 1e10 })));
        Assert.NotEqual(srf, run(p => new HomeAdamEW([p], new HomeAdamEWOptions { Tau = 1e10 })));
    }

    [Fact]
    public void Update_modes_and_capturable_give_the_same_bits()
    {
        var rng = new Random(7);
        double[] init = Enumerable.Range(0, 16).Select(_ => rng.NextDouble()).ToArray();
        var grads = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 16).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        List<long> Run(Func<Parameter, Optimizer> make)
        {
            var p = Parameter.Create("p", Array.ConvertAll(init, x => (float)x), 16);
            var o = make(p);
            foreach (var g in grads) { SetGrad(p, g); o.Step(); }
            return Fingerprint(o, [p]);
        }
        Assert.Equal(Run(p => new HomeAdamEW([p], new HomeAdamEWOptions { Tau = 0.1 })),
                     Run(p => new HomeAdamEW([p], new HomeAdamEWOptions { Tau = 0.1, UpdateMode = HomeAdamEWUpdateMode.WhereUpdate })));
        Assert.Equal(Run(p => new HomeAdam([p], new HomeAdamOptions { Tau = 0.01 })),
                     Run(p => new HomeAdam([p], new HomeAdamOptions { Tau = 0.01, Capturable = true })));
    }

    [Fact]
    public void State_dtype_defaults_to_float32_and_null_follows_the_parameter()
    {
        var a = Vec("a", 1, 2);
        var b = Vec("b", 1, 2);
        var fp32 = new HomeAdam([a]);
        var follow = new HomeAdamEW([b], new HomeAdamEWOptions { StateDType = null });
        SetGrad(a, 1, 1);
        SetGrad(b, 1, 1);
        fp32.Step();
        follow.Step();
        Assert.All(fp32.StateDict().Groups[0].Parameters[0]!.Buffers.Values, t => Assert.Equal(DType.Float32, t.DType));
        Assert.All(follow.StateDict().Groups[0].Parameters[0]!.Buffers.Values, t => Assert.Equal(DType.Float64, t.DType));
    }

    [Fact]
    public void Running_products_are_rounded_products_in_the_state_dtype()
    {
        var p = Vec("p", 1, 2);
        var o = new HomeAdam([p], new HomeAdamOptions { Beta1 = 0.85, Beta2 = 0.97 });
        float p1 = 1f, p2 = 1f;
        for (int t = 1; t <= 5; t++)
        {
            SetGrad(p, 0.3 * t, -0.2);
            o.Step();
            p1 *= 0.85f;
            p2 *= 0.97f;
            var s = o.StateDict().Groups[0].Parameters[0]!;
            Assert.Equal(t, s.Step);
            Assert.Equal((double)p1, s.Beta1Power);
            Assert.Equal((double)p2, s.Beta2Power);
            Assert.Equal(Math.Pow(0.85, t), s.Beta1Power!.Value, 1e-6);
        }
    }

    [Fact]
    public void Moments_track_AdamW_moments()
    {
        // upstream test_homeadam_moment_buffers_match_adamw: same m and v as torch AdamW up to rounding (lerp vs mul/add).
        var rng = new Random(3);
        var h = Vec("h", 1, 2, 3, 4);
        var w = Vec("w", 1, 2, 3, 4);
        var homeAdam = new HomeAdam([h], new HomeAdamOptions { Beta1 = 0.85, Beta2 = 0.97, StateDType = DType.Float64 });
        var adamW = new AdamW([w], new AdamWOptions { Beta1 = 0.85, Beta2 = 0.97, WeightDecay = 0 });
        for (int t = 0; t < 5; t++)
        {
            var g = Enumerable.Range(0, 4).Select(_ => rng.NextDouble() - 0.5).ToArray();
            SetGrad(h, g);
            SetGrad(w, g);
            homeAdam.Step();
            adamW.Step();
        }
        var hs = homeAdam.StateDict().Groups[0].Parameters[0]!;
        var ws = adamW.StateDict().Groups[0].Parameters[0]!;
        Assert.Equal(ws.Step, hs.Step);
        foreach (var key in new[] { "exp_avg", "exp_avg_sq" })
        {
            var a = hs.Buffers[key].ToDoubles();
            var b = ws.Buffers[key].ToDoubles();
            for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 1e-12);
        }
    }

    [Fact]
    public void A_NaN_group_minimum_is_adaptive_unless_capturable()
    {
        // upstream A6.2: NaN < τ is false (host decision: adaptive); NaN ≥ τ is false (capturable: SGDM).
        foreach (bool capturable in new[] { false, true })
        {
            var a = Vec("a", 1, 2);
            var b = Vec("b", 3);
            var o = new HomeAdam([a, b], new HomeAdamOptions { Tau = 1e-3, Capturable = capturable }) { TelemetryEnabled = true };
            SetGrad(a, double.NaN, 1);
            SetGrad(b, 1e-6);
            o.Step();
            Assert.Equal(capturable ? 0 : 3, o.Telemetry[0].AdaptiveElements);
            Assert.True(double.IsNaN(Values(a)[0]));
        }
    }

    [Fact]
    public void Tau_is_compared_in_the_state_dtype()
    {
        // τ = 1e-50 rounds to 0 in float32, so every v̂ ≥ 0 passes, even an exactly zero one.
        var p = Vec("p", 1, 2);
        var o = new HomeAdam([p], new HomeAdamOptions { Tau = 1e-50 }) { TelemetryEnabled = true };
        SetGrad(p, 0, 1);
        o.Step();
        Assert.Equal(2, o.Telemetry[0].AdaptiveElements);
        var q = Vec("q", 1, 2);
        var f64 = new HomeAdam([q], new HomeAdamOptions { Tau = 1e-50, StateDType = DType.Float64 }) { TelemetryEnabled = true };
        SetGrad(q, 0, 1);
        f64.Step();
        Assert.Equal(0, f64.Telemetry[0].AdaptiveElements);
    }

    [Fact]
    public void Groups_keep_their_own_options_and_decisions()
    {
        var a = Vec("a", 1, 2);
        var b = Vec("b", 1, 2);
        var o = new HomeAdam([new ParamGroup<HomeAdamOptions>([a], new HomeAdamOptions { Lr = 0.01, Tau = 1e-12 }),
                              new ParamGroup<HomeAdamOptions>([b], new HomeAdamOptions { Lr = 0.001, Tau = 1e10 })]) { TelemetryEnabled = true };
        SetGrad(a, 1, 2);
        SetGrad(b, 1, 2);
        o.Step();
        Assert.Equal(0.01, ((HomeAdamOptions)o.GroupOptions(0)).Lr);
        Assert.Equal(0.001, ((HomeAdamOptions)o.GroupOptions(1)).Lr);
        Assert.Equal(1.0, o.Telemetry[0].AdaptiveFraction);
        Assert.Equal(0.0, o.Telemetry[1].AdaptiveFraction);
    }

    [Fact]
    public void A_state_dict_round_trip_keeps_options_and_resumes_the_same_trajectory()
    {
        // upstream test_state_dict_roundtrip and test_state_dict_resume_same_trajectory (HomeAdamEW lr 0.01, τ 1e-3).
        var options = new HomeAdamEWOptions { Lr = 0.01, Tau = 1e-3 };
        var rng = new Random(11);
        var grads = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5).ToArray()).ToArray();
        var continuous = Vec("p", 1, 2, 3);
        var a = new HomeAdamEW([continuous], options);
        for (int s = 0; s < 30; s++) { SetGrad(continuous, grads[s]); a.Step(); }

        var first = Vec("p", 1, 2, 3);
        var b = new HomeAdamEW([first], options);
        for (int s = 0; s < 20; s++) { SetGrad(first, grads[s]); b.Step(); }
        var resumed = Parameter.Create("p", Values(first), 3);
        var c = new HomeAdamEW([resumed], new HomeAdamEWOptions());
        c.LoadStateDict(b.StateDict());
        Assert.Equal(options, c.GroupOptions(0));
        for (int s = 20; s < 30; s++) { SetGrad(resumed, grads[s]); c.Step(); }
        Assert.Equal(Fingerprint(a, [continuous]), Fingerprint(c, [resumed]));
    }

    [Fact]
    public void AdamSrf_with_decay_follows_the_paper_over_two_steps()
    {
        // upstream-spec A13: θ [1, −2], λ 0.1, η 0.01, β (0.9, 0.99), ε 1e-7, grads [0.5, 0.25] then [−0.5, 0.1].
        double[] theta = [1, -2], m = new double[2], v = new double[2];
        double[][] grads = [[0.5, 0.25], [-0.5, 0.1]];
        var p = Vec("p", theta);
        var o = new AdamSrf([p], new AdamSrfOptions { Lr = 0.01, WeightDecay = 0.1, StateDType = DType.Float64 });
        for (int t = 1; t <= 2; t++)
        {
            SetGrad(p, grads[t - 1]);
            o.Step();
            for (int i = 0; i < 2; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * grads[t - 1][i];
                v[i] = 0.99 * v[i] + 0.01 * grads[t - 1][i] * grads[t - 1][i];
                theta[i] = theta[i] * (1 - 0.01 * 0.1) - 0.01 * (m[i] / (1 - Math.Pow(0.9, t))) / (v[i] / (1 - Math.Pow(0.99, t)) + 1e-7);
            }
        }
        for (int i = 0; i < 2; i++) Assert.Equal(theta[i], Values(p)[i], 1e-12);
    }

    [Fact]
    public void Low_precision_state_is_stored_in_its_dtype()
    {
        foreach (var dtype in new[] { DType.BFloat16, DType.Float16 })
        {
            var p = Vec("p", 1, 2, 3);
            var o = new HomeAdam([p], new HomeAdamOptions { StateDType = dtype });
            SetGrad(p, 0.1, 0.2, 0.3);
            o.Step();
            var s = o.StateDict().Groups[0].Parameters[0]!;
            Assert.All(s.Buffers.Values, t => Assert.Equal(dtype, t.DType));
            Assert.Equal(0.1 * 0.1, s.Buffers["exp_avg"].ToDoubles()[0], 2e-3);
            Assert.True(Values(p)[0] < 1);
        }
    }
}
