using System.Text.Json;
using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// The model's NaN corners against upstream's own records: a NaN gradient poisons only its element; HomeAdam's NaN group
/// minimum does not veto the adaptive branch, except with <c>capturable</c>, where NaN ≥ τ is false and SGDM is taken.
/// </summary>
public sealed class NonFiniteCornerTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(RepositoryLayout.PublicGolden()));

    [Theory]
    [InlineData("AdamSRF_nan_grad_no_error")]
    [InlineData("HomeAdam_nan_grad_no_error")]
    [InlineData("HomeAdamEW_nan_grad_no_error")]
    [InlineData("HomeAdam_nan_grad_capturable")]
    public void Model_reproduces_upstreams_nan_gradient_records(string id)
    {
        var record = Golden.Value.Errors.Single(e => e.Id == id);
        var grad = TrajectoryReader.ReadVector(record.Args["grad"]);
        var expected = TrajectoryReader.ReadVector(record.Result!.Value.GetProperty("param_after"));
        // The records start from θ = 1 in float64 with the defaults (lr 1e-3, β (0.9, 0.99), ε 1e-7, τ 1), as their values show.
        var options = new List<(string, object?)> { ("lr", 1e-3), ("betas", new[] { 0.9, 0.99 }), ("eps", 1e-7), ("weight_decay", 0.0), ("state_dtype", null) };
        if (record.Optimizer != "AdamSRF") options.Add(("tau", record.Args.TryGetValue("tau", out var tau) ? tau.GetDouble() : 1.0));
        if (record.Args.TryGetValue("capturable", out var capturable)) options.Add(("capturable", capturable.GetBoolean()));
        var c = Synthetic.Case(record.Optimizer, RecordedDType.Float64, [[1.0, 1.0, 1.0]], [Synthetic.Group([0], options.ToArray())], [grad]);
        var before = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());
        var after = ToleranceModel.Step(c, before, c.Steps[0].Grads, ErrorBudget.RecordVersusFloat64).After.Params[0];
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(after[i].Value), $"{id}[{i}]");
            else Assert.Equal(expected[i], after[i].Value, 1e-15);
        }
    }
}
