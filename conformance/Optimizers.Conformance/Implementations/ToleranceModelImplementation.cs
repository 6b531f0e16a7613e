using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Tolerance;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Implementations;

/// <summary>
/// The tolerance model's own float64 evaluation of upstream's formulas, driven like any implementation. Replaying the
/// golden file through it checks the model against upstream itself: a bound that were too tight, or a formula written
/// in the wrong order, fails here before it could accuse the reference.
/// </summary>
public sealed class ToleranceModelImplementation : IImplementation, IDeclaresArithmetic
{
    public string Name => "model";

    public ArithmeticSide Arithmetic => ArithmeticSide.Float64;

    public bool Supports(TrajectoryCase trajectoryCase, out string? reason)
    {
        bool known = ToleranceModel.Supports(trajectoryCase.Optimizer);
        reason = known ? null : $"the tolerance model has no formula for {trajectoryCase.Optimizer}";
        return known;
    }

    public IReplaySession Start(TrajectoryCase trajectoryCase) => new Session(trajectoryCase);

    public ErrorOutcome Replay(ErrorRecord record) =>
        ErrorOutcome.NotExpressible("the tolerance model evaluates step formulas only; it has no constructor and validates nothing");

    sealed class Session(TrajectoryCase c) : IReplaySession
    {
        BoundState current = BoundState.Exact(c.Params.Select(p => p.Init).ToList(), new Dictionary<int, ParamState>());

        public void LoadParams(IReadOnlyList<double[]> values) =>
            current = BoundState.Exact(values, current.Values().State);

        public void LoadState(IReadOnlyDictionary<int, ParamState> state) =>
            current = BoundState.Exact(current.Values().Params, state);

        public void Step(IReadOnlyList<double[]?> grads) =>
            current = ToleranceModel.Step(c, current, grads, ErrorBudget.RecordVersusFloat64).After;

        public IReadOnlyList<double[]> Params() => current.Values().Params;

        public IReadOnlyDictionary<int, ParamState> State() => current.Values().State;

        public void Dispose() { }
    }
}
