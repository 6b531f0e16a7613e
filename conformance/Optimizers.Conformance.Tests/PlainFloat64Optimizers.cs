using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>Small, wrong-but-plausible changes the tolerance model must catch (issue 4, item 3).</summary>
public enum Mutation
{
    None,
    /// <summary>u = m / ((v + ε)/bc2) instead of m / (v/bc2 + ε).</summary>
    EpsInsideBiasCorrection,
    /// <summary>Bias corrections of the next step: β^(t+1).</summary>
    BiasCorrectionFromWrongStep,
    /// <summary>v̂ &gt; τ instead of v̂ ≥ τ.</summary>
    StrictGreaterAtTau,
    /// <summary>HomeAdam decides per tensor from its own minimum instead of once per group.</summary>
    DecisionPerTensor,
    /// <summary>STAC's trunk moves by −η for a zero buffer or gradient.</summary>
    SignOfZeroIsOne,
    /// <summary>θ' = (θ − Δ)(1 − ηλ) instead of θ(1 − ηλ) − Δ.</summary>
    DecayAfterUpdate,
    /// <summary>STAC's trunk takes 0.75·lr even when there is no cap.</summary>
    TrunkLrScaledWithoutCap,
}

/// <summary>
/// A second float64 implementation, written from the algorithm boxes in plain arithmetic (β·m + (1 − β)·g, no lerp, no
/// fused operations, its own grouping), with switchable mutations. Unmutated it must pass the golden file under the
/// tolerance model, which checks that the safety factor covers a different operation order; each mutation must fail.
/// </summary>
internal sealed class PlainFloat64Optimizers(Mutation mutation = Mutation.None) : IImplementation
{
    public string Name => mutation == Mutation.None ? "plain-float64" : $"mutant:{mutation}";

    public bool Supports(TrajectoryCase trajectoryCase, out string? reason)
    {
        reason = trajectoryCase.Optimizer is "AdamW" or "AdamSRF" or "HomeAdam" or "HomeAdamEW" or "STAC" ? null : "unknown optimizer";
        return reason is null;
    }

    public IReplaySession Start(TrajectoryCase trajectoryCase) => new Session(trajectoryCase, mutation);

    public ErrorOutcome Replay(ErrorRecord record) => ErrorOutcome.NotExpressible("formulas only");

    sealed class Session(TrajectoryCase c, Mutation mutation) : IReplaySession
    {
        List<double[]> parameters = c.Params.Select(p => (double[])p.Init.Clone()).ToList();
        Dictionary<int, ParamState> state = new();

        public void LoadParams(IReadOnlyList<double[]> values) => parameters = values.Select(v => (double[])v.Clone()).ToList();

        public void LoadState(IReadOnlyDictionary<int, ParamState> values) =>
            state = values.ToDictionary(kv => kv.Key, kv => new ParamState(kv.Value.ToDictionary(b => b.Key, b => (double[])b.Value.Clone())));

        public IReadOnlyList<double[]> Params() => parameters;
        public IReadOnlyDictionary<int, ParamState> State() => state;
        public void Dispose() { }

        public void Step(IReadOnlyList<double[]?> grads)
        {
            switch (c.Optimizer)
            {
                case "AdamW":
                    foreach (var g in c.Groups)
                        foreach (var i in g.ParamIndices.Where(i => grads[i] is not null))
                            AdamW(i, grads[i]!, g.Double("lr"), g.Betas(), g.Double("eps"), g.Double("weight_decay"), g.Bool("amsgrad"), g.Bool("maximize"));
                    break;
                case "STAC":
                    Stac(grads);
                    break;
                default:
                    foreach (var g in c.Groups) HomeAdamGroup(g, grads);
                    break;
            }
        }

        double[] Buffer(int index, string name, int n, double initial = 0)
        {
            if (!state.TryGetValue(index, out var s)) state[index] = s = new ParamState();
            if (!s.TryGetValue(name, out var b)) { s[name] = b = new double[n]; Array.Fill(b, initial); }
            return b;
        }

        void Decay(double[] theta, double lr, double weightDecay)
        {
            if (weightDecay == 0) return;
            for (int j = 0; j < theta.Length; j++) theta[j] *= 1 - lr * weightDecay;
        }

        /// <summary>θ ← θ(1 − ηλ) − Δ, or the mutant's (θ − Δ)(1 − ηλ).</summary>
        void Apply(double[] theta, double[] delta, double lr, double weightDecay)
        {
            if (mutation == Mutation.DecayAfterUpdate)
            {
                for (int j = 0; j < theta.Length; j++) theta[j] -= delta[j];
                Decay(theta, lr, weightDecay);
                return;
            }
            Decay(theta, lr, weightDecay);
            for (int j = 0; j < theta.Length; j++) theta[j] -= delta[j];
        }

        void AdamW(int index, double[] grad, double lr, (double B1, double B2) betas, double eps, double weightDecay, bool amsgrad, bool maximize)
        {
            var theta = parameters[index];
            int n = theta.Length;
            var step = Buffer(index, "step", 1);
            var m = Buffer(index, "exp_avg", n);
            var v = Buffer(index, "exp_avg_sq", n);
            var vmax = amsgrad ? Buffer(index, "max_exp_avg_sq", n) : null;
            double t = ++step[0] + (mutation == Mutation.BiasCorrectionFromWrongStep ? 1 : 0);
            double bc1 = 1 - Math.Pow(betas.B1, t), bc2 = 1 - Math.Pow(betas.B2, t);
            var delta = new double[n];
            for (int j = 0; j < n; j++)
            {
                double g = maximize ? -grad[j] : grad[j];
                m[j] = betas.B1 * m[j] + (1 - betas.B1) * g;
                v[j] = betas.B2 * v[j] + (1 - betas.B2) * g * g;
                double source = v[j];
                if (vmax is not null) source = vmax[j] = Math.Max(vmax[j], v[j]);
                double denom = mutation == Mutation.EpsInsideBiasCorrection ? Math.Sqrt((source + eps) / bc2) : Math.Sqrt(source / bc2) + eps;
                delta[j] = lr * (m[j] / bc1) / denom;
            }
            Apply(theta, delta, lr, weightDecay);
        }

        void HomeAdamGroup(RecordedGroup group, IReadOnlyList<double[]?> grads)
        {
            var stepped = group.ParamIndices.Where(i => grads[i] is not null).ToList();
            if (stepped.Count == 0) return;
            double lr = group.Double("lr"), eps = group.Double("eps"), weightDecay = group.Double("weight_decay");
            double tau = group.DoubleOrNull("tau") ?? 0;
            var (b1, b2) = group.Betas();
            var vHats = new Dictionary<int, double[]>();
            var mHats = new Dictionary<int, double[]>();
            foreach (var i in stepped)
            {
                int n = parameters[i].Length;
                var m = Buffer(i, "exp_avg", n);
                var v = Buffer(i, "exp_avg_sq", n);
                var p1 = Buffer(i, "beta1_power", 1, 1.0);
                var p2 = Buffer(i, "beta2_power", 1, 1.0);
                Buffer(i, "step", 1)[0] += 1;
                p1[0] *= b1;
                p2[0] *= b2;
                double bc1 = 1 - p1[0] * (mutation == Mutation.BiasCorrectionFromWrongStep ? b1 : 1);
                double bc2 = 1 - p2[0] * (mutation == Mutation.BiasCorrectionFromWrongStep ? b2 : 1);
                var g = grads[i]!;
                var vHat = new double[n];
                var mHat = new double[n];
                for (int j = 0; j < n; j++)
                {
                    m[j] = b1 * m[j] + (1 - b1) * g[j];
                    v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j];
                    vHat[j] = v[j] / bc2;
                    mHat[j] = m[j] / bc1;
                }
                vHats[i] = vHat;
                mHats[i] = mHat;
            }

            bool Passes(double x) => mutation == Mutation.StrictGreaterAtTau ? x > tau : x >= tau;
            bool capturable = group.Bool("capturable");
            double groupMin = stepped.Select(i => vHats[i].DefaultIfEmpty(double.PositiveInfinity).Min()).Min();
            foreach (var i in stepped)
            {
                var vHat = vHats[i];
                var mHat = mHats[i];
                var bc2 = 1 - state[i]["beta2_power"][0] * (mutation == Mutation.BiasCorrectionFromWrongStep ? b2 : 1);
                double decisionMin = mutation == Mutation.DecisionPerTensor ? vHat.DefaultIfEmpty(double.PositiveInfinity).Min() : groupMin;
                bool groupAdaptive = capturable ? Passes(decisionMin) : !(decisionMin < tau) && (mutation != Mutation.StrictGreaterAtTau || decisionMin != tau);
                var delta = new double[vHat.Length];
                for (int j = 0; j < vHat.Length; j++)
                {
                    bool adaptive = c.Optimizer switch
                    {
                        "AdamSRF" => true,
                        "HomeAdam" => groupAdaptive,
                        _ => Passes(vHat[j]),
                    };
                    double denom = mutation == Mutation.EpsInsideBiasCorrection ? (state[i]["exp_avg_sq"][j] + eps) / bc2 : vHat[j] + eps;
                    delta[j] = lr * (adaptive ? mHat[j] / denom : mHat[j]);
                }
                Apply(parameters[i], delta, lr, weightDecay);
            }
        }

        void Stac(IReadOnlyList<double[]?> grads)
        {
            bool skip = !c.Groups.Any(g => g.Bool("error_if_nonfinite"))
                && c.Groups.SelectMany(g => g.ParamIndices).Any(i => grads[i] is { } g && g.Any(x => !double.IsFinite(x)));
            if (skip) return;
            bool hasCap = c.Groups.Any(g => g.String("stac_role") == "cap");
            foreach (var group in c.Groups)
            {
                bool trunk = group.String("stac_role") == "trunk";
                double lr = group.Double("lr");
                if (trunk && !hasCap && mutation == Mutation.TrunkLrScaledWithoutCap && !c.Hyper.ContainsKey("trunk_lr"))
                    lr = 0.75 * TrajectoryReader.ReadNumber(c.Hyper["lr"]);
                foreach (var i in group.ParamIndices.Where(i => grads[i] is not null))
                {
                    if (!trunk)
                    {
                        AdamW(i, grads[i]!, lr, group.Betas(), group.Double("eps"), group.Double("weight_decay"), group.Bool("amsgrad"), group.Bool("maximize"));
                        continue;
                    }
                    var theta = parameters[i];
                    double mu = group.Double("trunk_momentum");
                    var b = mu != 0 ? Buffer(i, "trunk_momentum_buffer", theta.Length) : null;
                    var delta = new double[theta.Length];
                    for (int j = 0; j < theta.Length; j++)
                    {
                        double u = group.Bool("maximize") ? -grads[i]![j] : grads[i]![j];
                        double direction = b is null ? u : b[j] = mu * b[j] + (1 - mu) * u;
                        delta[j] = lr * Sign(direction);
                    }
                    Apply(theta, delta, lr, group.Double("weight_decay"));
                }
            }
        }

        double Sign(double x) => x > 0 ? 1 : x < 0 ? -1 : mutation == Mutation.SignOfZeroIsOne && !double.IsNaN(x) ? 1 : 0;
    }
}
