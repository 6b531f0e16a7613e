using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

public sealed class ReplayerTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(RepositoryLayout.PublicGolden()));

    static TrajectoryCase Case(string id) => Golden.Value.Cases.Single(c => c.Id == id);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Echo_of_the_record_passes_every_case_with_zero_error(bool freeRunning)
    {
        var report = Replayer.ReplayFile(Golden.Value, new EchoImplementation(), new ReplayOptions(FreeRunning: freeRunning));
        Assert.Equal(Golden.Value.Cases.Count, report.Cases.Count);
        Assert.All(report.Cases, c =>
        {
            Assert.Equal(Verdict.Pass, c.Verdict);
            Assert.Equal(0.0, c.MaxUlp);
            Assert.Equal(0.0, c.MaxRelative);
            Assert.Null(c.FirstFailure);
            Assert.Equal(Golden.Value.Cases.Single(x => x.Id == c.Id).Steps.Count, c.Steps);
        });
        Assert.All(report.Errors, e => Assert.Equal(Verdict.Pass, e.Verdict));
        Assert.True(report.Passed);
    }

    // float64 buffers: one float32 ulp is far outside their bound. float32 buffers: their bound is a few float32 ulps
    // of the terms, so a change of 1e-4 relative stands for a real bug there.
    [Theory]
    [InlineData("adamw_defaults_f64", 7, "params[1]", 2, 0.0)]
    [InlineData("homeadam_big_f64", 5, "state[1].exp_avg_sq", 17, 0.0)]
    [InlineData("homeadam_default_fp32_state_f64_params", 3, "state[0].exp_avg", 5, 1e-4)]
    [InlineData("stac_complex_last3_trunk_state_f32_f64", 9, "state[1].trunk_momentum_buffer", 4, 1e-4)]
    [InlineData("homeadamew_denom_f32", 12, "params[0]", 11, 1e-4)]
    public void A_change_beyond_the_bound_on_one_element_fails_there(string id, int step, string buffer, int index, double relative)
    {
        var c = Case(id);
        Func<double, double> change = relative == 0 ? x => x + ElementComparison.Ulp(x, RecordedDType.Float32) : x => x * (1 + relative);
        var perturbed = new PerturbingImplementation(step, buffer, index, change);
        var result = Replayer.ReplayCase(c, perturbed, new ReplayOptions());
        Assert.Equal(Verdict.Fail, result.Verdict);
        var failure = Assert.IsType<ElementReport>(result.FirstFailure);
        Assert.Equal((step, buffer, index), (failure.Step, failure.Buffer, failure.Index));
        Assert.NotEqual(failure.Expected, failure.Actual);
        Assert.Equal(failure, result.Worst[0]);
        Assert.True(result.MaxUlp > 0);
    }

    [Fact]
    public void Bit_exact_mode_for_production_names_fails_on_one_float64_ulp()
    {
        var c = Case("adamsrf_f32");
        var tiny = new PerturbingImplementation(4, "params[1]", 3, Math.BitIncrement, name: "production:fake");
        var result = Replayer.ReplayCase(c, tiny, new ReplayOptions());
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal(4, result.FirstFailure!.Step);
        // The same change under the tolerance model is far inside a float32 bound.
        var tolerant = new PerturbingImplementation(4, "params[1]", 3, Math.BitIncrement, name: "tolerant");
        Assert.Equal(Verdict.Pass, Replayer.ReplayCase(c, tolerant, new ReplayOptions()).Verdict);
        Assert.Equal(ComparisonMode.BitExact, Replayer.ModeFor(tiny));
    }

    [Fact]
    public void Production_is_priced_in_upstream_dtypes_and_everything_else_in_float64()
    {
        Assert.Equal(ArithmeticSide.AsRecorded, Replayer.SideFor(new EchoImplementation("production:simd")));
        Assert.Equal(ArithmeticSide.Float64, Replayer.SideFor(new EchoImplementation("reference")));
        Assert.Equal(ArithmeticSide.Float64, Replayer.SideFor(new Implementations.ToleranceModelImplementation()));
        Assert.Equal(ComparisonMode.Tolerance, Replayer.ModeFor(new EchoImplementation("reference")));
    }

    [Fact]
    public void A_missing_state_buffer_fails_with_its_name()
    {
        var c = Case("adamw_nowd_amsgrad_maximize_foreach_f64");
        var dropping = new DroppingImplementation(2, 1, "max_exp_avg_sq");
        var result = Replayer.ReplayCase(c, dropping, new ReplayOptions());
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal((2, "state[1].max_exp_avg_sq"), (result.FirstFailure!.Step, result.FirstFailure.Buffer));
    }

    [Fact]
    public void Unsupported_cases_carry_the_reason()
    {
        var result = Replayer.ReplayCase(Case("stac_seq3_defaults_f64"), new RefusingImplementation(), new ReplayOptions());
        Assert.Equal(Verdict.Unsupported, result.Verdict);
        Assert.Equal("no module trees here", result.Reason);
    }

    [Fact]
    public void Per_step_summaries_record_adaptive_fractions_for_the_homeadam_family()
    {
        var result = Replayer.ReplayCase(Case("homeadamew_denom_tau_mid_f64"), new EchoImplementation(), new ReplayOptions());
        Assert.Equal(25, result.PerStep.Count);
        Assert.All(result.PerStep, s => Assert.InRange(s.AdaptiveFraction!.Value, 0.0, 1.0));
        var recorded = Case("homeadamew_denom_tau_mid_f64").Steps[1].Extra["adaptive_ratio"].GetDouble();
        Assert.Equal(recorded, result.PerStep[1].AdaptiveFraction!.Value, 12);
    }

    [Fact]
    public void Error_records_match_by_kind_and_argument_not_wording()
    {
        var record = Golden.Value.Errors.Single(e => e.Id == "AdamSRF_beta1_eq_1");
        Assert.Equal(Verdict.Pass, Replayer.ReplayError(record, new FixedOutcome(new ErrorOutcome("ValueError", "beta1", "Beta1 must lie in [0, 1), got 1."))).Verdict);
        Assert.Equal(Verdict.Pass, Replayer.ReplayError(record, new FixedOutcome(new ErrorOutcome("ValueError", "betas", "whatever"))).Verdict);
        var wrongArgument = Replayer.ReplayError(record, new FixedOutcome(new ErrorOutcome("ValueError", "lr", "Invalid learning rate")));
        Assert.Equal(Verdict.Fail, wrongArgument.Verdict);
        Assert.Contains("'betas'", wrongArgument.Detail);
        Assert.Equal(Verdict.Fail, Replayer.ReplayError(record, new FixedOutcome(new ErrorOutcome("TypeError", "betas", "x"))).Verdict);
        Assert.Equal(Verdict.Fail, Replayer.ReplayError(record, new FixedOutcome(ErrorOutcome.Accepted)).Verdict);
        var unsupported = Replayer.ReplayError(record, new FixedOutcome(ErrorOutcome.NotExpressible("betas is a typed pair")));
        Assert.Equal((Verdict.Unsupported, "betas is a typed pair"), (unsupported.Verdict, unsupported.Detail));

        var accepted = Golden.Value.Errors.Single(e => e.Id == "AdamSRF_eps_zero_accepted");
        Assert.Equal(Verdict.Pass, Replayer.ReplayError(accepted, new FixedOutcome(ErrorOutcome.Accepted)).Verdict);
        Assert.Equal(Verdict.Fail, Replayer.ReplayError(accepted, new FixedOutcome(new ErrorOutcome("ValueError", "eps", "no"))).Verdict);
    }

    [Theory]
    [InlineData("Invalid beta1: 1.0", "betas")]
    [InlineData("Invalid beta parameter at index 1: -0.5.", "betas")]
    [InlineData("Invalid learning rate: -0.001", "lr")]
    [InlineData("Invalid lr: -0.001.", "lr")]
    [InlineData("Invalid epsilon value: -1e-08", "eps")]
    [InlineData("Invalid eps: -1e-08.", "eps")]
    [InlineData("Invalid weight_decay value: -0.1", "weight_decay")]
    [InlineData("Invalid trunk_lr: -1.0.", "trunk_lr")]
    [InlineData("Invalid trunk_momentum value: 1.0.", "trunk_momentum")]
    [InlineData("Invalid tau: 0.0", "tau")]
    [InlineData("last_n_layers must be greater than or equal to 0.", "last_n_layers")]
    [InlineData("state_dtype must be floating-point, got: torch.int32", "state_dtype")]
    [InlineData("HomeAdam.__init__() got an unexpected keyword argument 'update_mode'", "update_mode")]
    [InlineData("optimizer got an empty parameter list", "params")]
    [InlineData("AdamW cap does not support sparse gradients.", "grad")]
    [InlineData("Encountered non-finite gradients in the STAC trunk.", "grad")]
    [InlineData("STAC requires at least one trainable parameter.", "model")]
    [InlineData("STAC does not support add_param_group(); construct a new optimizer so the trunk/cap partition stays deterministic.", null)]
    public void Upstream_messages_name_their_argument(string message, string? argument) =>
        Assert.Equal(argument, UpstreamMessages.ArgumentOf(message));

    [Fact]
    public void Every_golden_error_record_with_an_exception_has_an_argument_or_a_reason_not_to()
    {
        var unnamed = Golden.Value.Errors.Where(e => e.Exception is not null && UpstreamMessages.ArgumentOf(e) is null).Select(e => e.Id).ToList();
        // These name an operation or a Python calling convention, not an argument: kind alone is compared.
        Assert.Equal(["HomeAdamEW_positional_state_dtype", "STAC_add_param_group"], unnamed.Order());
    }

    sealed class RefusingImplementation : EchoImplementation
    {
        public RefusingImplementation() : base("refusing") { }
    }

    sealed class DroppingImplementation(int step, int param, string name) : EchoImplementation("dropping")
    {
        protected override void Alter(int taken, List<double[]> parameters, Dictionary<int, ParamState> state)
        {
            if (taken == step) state[param].Remove(name);
        }
    }

    sealed class FixedOutcome(ErrorOutcome outcome) : EchoImplementation("fixed")
    {
        public override ErrorOutcome Replay(ErrorRecord record) => outcome;
    }
}
