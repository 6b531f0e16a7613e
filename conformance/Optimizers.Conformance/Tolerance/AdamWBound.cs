using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// torch 1.13's AdamW (single-tensor and foreach round alike on the CPU; also STAC's cap), written over
/// <see cref="Approx"/> in upstream's operation order (golden header, reference_platform.note): decay
/// θ·fl(1 − ηλ); m ← fma(1−β1, g, m·β1); v ← fma(fl((1−β2)·g), g, v·β2); bias corrections 1 − β^t in double;
/// denom = fl(fl(√v)/fl(√bc2)) + ε; θ ← θ + fl(fl(−η/bc1 · m)/denom).
/// </summary>
public static class AdamWBound
{
    public sealed record Options(double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, bool Amsgrad, bool Maximize)
    {
        public static Options From(RecordedGroup g) => new(
            g.Number("lr", 1e-3),
            g.BetasOr((0.9, 0.999)).Beta1,
            g.BetasOr((0.9, 0.999)).Beta2,
            g.Number("eps", 1e-8),
            g.Number("weight_decay", 1e-2),
            g.Bool("amsgrad"),
            g.Bool("maximize"));
    }

    public static StepBounds Step(TrajectoryCase c, BoundState before, IReadOnlyList<double[]?> grads, ErrorBudget budget)
    {
        var parameters = before.Params.ToList();
        var state = before.State.ToDictionary(kv => kv.Key, kv => kv.Value);
        var bounds = new StepBounds(new BoundState(parameters, state));
        foreach (var group in c.Groups)
        {
            var options = Options.From(group);
            foreach (var index in group.WithGradient(grads))
            {
                var (theta, buffers) = StepParameter(parameters[index], before.StateOf(index), grads[index]!, options, c.ParamDType, budget);
                parameters[index] = theta;
                state[index] = buffers;
                DeclareDTypes(bounds, index, buffers, c.ParamDType);
            }
        }
        return bounds;
    }

    internal static void DeclareDTypes(StepBounds bounds, int index, Dictionary<string, Approx[]> buffers, RecordedDType parameter)
    {
        foreach (var name in buffers.Keys)
            bounds.StateDTypes[(index, name)] = name == "step" ? RecordedDType.Float64 : parameter;
    }

    /// <summary>One parameter's step. State buffers live in the parameter's dtype.</summary>
    internal static (Approx[] Theta, Dictionary<string, Approx[]> State) StepParameter(
        Approx[] theta, Dictionary<string, Approx[]>? state, double[] grad, Options o, RecordedDType dtype, ErrorBudget budget)
    {
        var R = budget.In(dtype);
        var H = budget.Host;
        int n = theta.Length;
        var m = state.Buffer("exp_avg", n);
        var v = state.Buffer("exp_avg_sq", n);
        var vmax = o.Amsgrad ? state.Buffer("max_exp_avg_sq", n) : null;
        var step = state.Scalar("step", 0.0);
        var t = new Approx(step.Value + 1.0, step.Error);

        // Python-float scalars, then the cast to the tensor dtype that torch applies to a scalar operand.
        double decayValue = 1.0 - o.Lr * o.WeightDecay;
        Approx decay = decayValue == 1.0 ? Approx.One : R.Round(H.Round(Approx.One - H.Round((Approx)o.Lr * o.WeightDecay)));
        Approx beta1 = R.Cast(o.Beta1), oneMinusBeta1 = R.Round(H.Round(Approx.One - o.Beta1));
        Approx beta2 = R.Cast(o.Beta2), oneMinusBeta2 = R.Round(H.Round(Approx.One - o.Beta2));
        Approx bc1 = H.Round(Approx.One - Approx.Power(o.Beta1, t.Value, H));
        Approx bc2 = H.Round(Approx.One - Approx.Power(o.Beta2, t.Value, H));
        Approx negStepSize = R.Round(-H.Round((Approx)o.Lr / bc1));
        Approx bc2Sqrt = R.Round(H.Round(Approx.Sqrt(bc2)));
        Approx eps = R.Cast(o.Eps);

        var thetaNext = new Approx[n];
        var mNext = new Approx[n];
        var vNext = new Approx[n];
        var vmaxNext = o.Amsgrad ? new Approx[n] : null;
        for (int i = 0; i < n; i++)
        {
            Approx g = o.Maximize ? -grad[i] : grad[i];
            Approx p = decay.Value == 1.0 && decay.IsExact ? theta[i] : R.Round(theta[i] * decay);
            Approx mi = Ema.CoverEveryOrder(R.Round(Approx.Fma(oneMinusBeta1, g, R.Round(m[i] * beta1))), m[i], g, o.Beta1, R, H);
            Approx vi = R.Round(Approx.Fma(R.Round(oneMinusBeta2 * g), g, R.Round(v[i] * beta2)));
            Approx source = vi;
            if (vmaxNext is not null) source = vmaxNext[i] = Approx.Max(vmax![i], vi);
            Approx denom = R.Round(R.Round(R.Round(Approx.Sqrt(source)) / bc2Sqrt) + eps);
            thetaNext[i] = R.Round(p + R.Round(R.Round(negStepSize * mi) / denom));
            mNext[i] = mi;
            vNext[i] = vi;
        }

        var next = new Dictionary<string, Approx[]>(StringComparer.Ordinal)
        {
            ["step"] = [t],
            ["exp_avg"] = mNext,
            ["exp_avg_sq"] = vNext,
        };
        if (vmaxNext is not null) next["max_exp_avg_sq"] = vmaxNext;
        return (thetaNext, next);
    }
}
