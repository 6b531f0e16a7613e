namespace Optimizers.Tests;

/// <summary>Options are checked with upstream's conditions and order; the exception names the option and its valid range.</summary>
public class OptionsValidationTests
{
    static Parameter P() => Parameter.Create("p", [1.0, 2.0], 2);

    static ArgumentOutOfRangeException Rejects(Action build, string option, string range)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(build);
        Assert.Equal(option, e.ParamName);
        Assert.Contains(range, e.Message);
        return e;
    }

    [Theory]
    [InlineData(-0.1, 0.9, 0.99, 1e-7, 0.0, "Lr", "expected η ≥ 0")]
    [InlineData(1e-3, 1.0, 0.99, 1e-7, 0.0, "Beta1", "expected 0 ≤ β₁ < 1")]
    [InlineData(1e-3, 1.5, 0.99, 1e-7, 0.0, "Beta1", "expected 0 ≤ β₁ < 1")]
    [InlineData(1e-3, 0.9, -0.1, 1e-7, 0.0, "Beta2", "expected 0 ≤ β₂ < 1")]
    [InlineData(1e-3, 0.9, 0.99, -1e-7, 0.0, "Eps", "expected ε ≥ 0")]
    [InlineData(1e-3, 0.9, 0.99, 1e-7, -0.01, "WeightDecay", "expected λ ≥ 0")]
    [InlineData(1e-3, double.NaN, 0.99, 1e-7, 0.0, "Beta1", "expected 0 ≤ β₁ < 1")]
    public void HomeAdam_family_rejects_out_of_range_options(double lr, double b1, double b2, double eps, double wd, string option, string range)
    {
        Rejects(() => new AdamSrf([P()], new AdamSrfOptions { Lr = lr, Beta1 = b1, Beta2 = b2, Eps = eps, WeightDecay = wd }), option, range);
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Lr = lr, Beta1 = b1, Beta2 = b2, Eps = eps, WeightDecay = wd }), option, range);
        Rejects(() => new HomeAdamEW([P()], new HomeAdamEWOptions { Lr = lr, Beta1 = b1, Beta2 = b2, Eps = eps, WeightDecay = wd }), option, range);
    }

    [Fact]
    public void The_message_has_upstreams_shape_and_the_range()
    {
        var e = Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Beta1 = 1.0 }), "Beta1", "expected 0 ≤ β₁ < 1");
        Assert.StartsWith("Invalid beta1: 1 (expected 0 ≤ β₁ < 1)", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    public void Tau_must_be_positive(double tau)
    {
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Tau = tau }), "Tau", "expected τ > 0");
        Rejects(() => new HomeAdamEW([P()], new HomeAdamEWOptions { Tau = tau }), "Tau", "expected τ > 0");
    }

    [Fact]
    public void Checks_run_in_upstreams_order()
    {
        // lr is checked before beta1, beta1 before beta2, eps before weight_decay, everything before tau.
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Lr = -1, Beta1 = 2 }), "Lr", "η ≥ 0");
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Beta1 = 2, Beta2 = 2 }), "Beta1", "β₁");
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Eps = -1, WeightDecay = -1, Tau = 0 }), "Eps", "ε ≥ 0");
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { WeightDecay = -1, Tau = 0 }), "WeightDecay", "λ ≥ 0");
        // torch AdamW checks eps before the betas; STAC checks eps and weight_decay before the betas.
        Rejects(() => new AdamW([P()], new AdamWOptions { Eps = -1, Beta1 = 2 }), "Eps", "ε ≥ 0");
        Rejects(() => new Stac(TestModels.StackedNet(), new StacOptions { WeightDecay = -1, Beta1 = 2 }), "WeightDecay", "λ ≥ 0");
    }

    [Fact]
    public void NaN_is_refused_where_upstreams_one_sided_checks_let_it_through()
    {
        // A deliberate deviation (paper-notes/deviations.md): upstream builds the optimizer and every step writes NaN.
        Rejects(() => new AdamSrf([P()], new AdamSrfOptions { Lr = double.NaN }), "Lr", "expected η ≥ 0");
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Eps = double.NaN }), "Eps", "expected ε ≥ 0");
        Rejects(() => new HomeAdamEW([P()], new HomeAdamEWOptions { WeightDecay = double.NaN }), "WeightDecay", "expected λ ≥ 0");
        Rejects(() => new HomeAdam([P()], new HomeAdamOptions { Tau = double.NaN }), "Tau", "expected τ > 0");
        Rejects(() => new HomeAdamEW([P()], new HomeAdamEWOptions { Tau = double.NaN }), "Tau", "expected τ > 0");
        Rejects(() => new AdamW([P()], new AdamWOptions { Lr = double.NaN }), "Lr", "η ≥ 0");
        Rejects(() => new Stac(TestModels.StackedNet(), new StacOptions { Lr = double.NaN }), "Lr", "η ≥ 0");
        Rejects(() => new Stac(TestModels.StackedNet(), new StacOptions { CapLr = double.NaN }), "CapLr", "η_cap ≥ 0");
        Rejects(() => new Stac(TestModels.StackedNet(), new StacOptions { TrunkWeightDecay = double.NaN }), "TrunkWeightDecay", "λ_trunk ≥ 0");
    }

    [Fact]
    public void Boundary_values_upstream_accepts_are_accepted()
    {
        _ = new AdamSrf([P()], new AdamSrfOptions { Lr = 0, Beta1 = 0, Beta2 = 0, Eps = 0, WeightDecay = 0 });
        _ = new HomeAdam([P()], new HomeAdamOptions { Tau = 1e-300 });
        _ = new Stac(TestModels.StackedNet(), new StacOptions { Lr = 0, Eps = 0, TrunkMomentum = 0, Beta1 = 0, Beta2 = 0 });
    }

    [Fact]
    public void Stac_rejects_each_option_with_its_name()
    {
        var cases = new (StacOptions Options, string Option, string Range)[]
        {
            (new() { Lr = -1 }, "Lr", "η ≥ 0"),
            (new() { Eps = -1 }, "Eps", "ε ≥ 0"),
            (new() { Beta1 = 1 }, "Beta1", "0 ≤ β₁ < 1"),
            (new() { Beta2 = 1 }, "Beta2", "0 ≤ β₂ < 1"),
            (new() { TrunkMomentum = 1 }, "TrunkMomentum", "0 ≤ μ < 1"),
            (new() { TrunkMomentum = double.NaN }, "TrunkMomentum", "0 ≤ μ < 1"),
            (new() { LastNLayers = -1 }, "LastNLayers", "last_n_layers ≥ 0"),
            (new() { TrunkLr = -1 }, "TrunkLr", "≥ 0"),
            (new() { CapLr = -1 }, "CapLr", "≥ 0"),
            (new() { TrunkWeightDecay = -1 }, "TrunkWeightDecay", "≥ 0"),
            (new() { CapWeightDecay = -1 }, "CapWeightDecay", "≥ 0"),
            (new() { TrunkStateDType = (DType)42 }, "TrunkStateDType", "Float32, Float64, BFloat16, Float16"),
            (new() { NonFinitePolicy = (NonFinitePolicy)9 }, "NonFinitePolicy", "Propagate, SkipStep or Throw"),
        };
        foreach (var (options, option, range) in cases)
            Rejects(() => new Stac(TestModels.StackedNet(), options), option, range);
    }

    [Fact]
    public void Group_options_are_validated_too()
    {
        // Upstream never validates group values; a group τ of −1 would silently mean "always adaptive". We refuse it.
        var groups = new[] { new ParamGroup<HomeAdamOptions>([P()]), new ParamGroup<HomeAdamOptions>([P()], new HomeAdamOptions { Tau = -1 }) };
        Rejects(() => new HomeAdam(groups), "Tau", "τ > 0");
    }

    [Fact]
    public void A_rejected_construction_leaves_the_parameters_alone()
    {
        var p = P();
        Assert.Throws<ArgumentOutOfRangeException>(() => new HomeAdam([p], new HomeAdamOptions { Tau = 0 }));
        var o = new HomeAdam([p]); // still free to join an optimizer
        Assert.Same(o, p.Owner);
    }

    [Fact]
    public void Structural_misuse_is_refused_with_a_message()
    {
        var p = P();
        Assert.Contains("empty parameter list", Assert.Throws<ArgumentException>(() => new AdamW(Array.Empty<Parameter>())).Message);
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new AdamW([p, p])).Message);
        var q = P();
        _ = new AdamW([q]);
        Assert.Contains("another optimizer", Assert.Throws<ArgumentException>(() => new HomeAdam([q])).Message);
        var groups = new[]
        {
            new ParamGroup<AdamWOptions>([P()]),
            new ParamGroup<AdamWOptions>([P()], new AdamWOptions { NonFinitePolicy = NonFinitePolicy.Throw }),
        };
        Assert.Equal("NonFinitePolicy", Assert.Throws<ArgumentException>(() => new AdamW(groups)).ParamName);
    }

    [Fact]
    public void Parameters_reject_bad_shapes_and_gradients()
    {
        Assert.Throws<ArgumentException>(() => new Parameter("x", [-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Parameter("x", [2], DType.BFloat16));
        Assert.Throws<ArgumentException>(() => Parameter.Create("x", [1f, 2f], 3));
        var p = P();
        Assert.Contains("has 3 elements", Assert.Throws<ArgumentException>(() => p.SetGrad<double>([1, 2, 3])).Message);
        Assert.Throws<InvalidOperationException>(() => p.Value<float>());
        Assert.Throws<InvalidOperationException>(() => p.Grad<double>());
        Assert.Throws<ArgumentException>(() => p.AttachSparseGrad<double>([5], [1.0]));
    }
}
