using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// AdamSRF, HomeAdam and HomeAdamEW (paper-notes/homeadam.md, Algorithms 1–3) over <see cref="Approx"/>, in upstream's
/// operation order. State ops run in the state dtype S (float32 by default, even for float64 parameters), the gradient is
/// converted to S first, bias corrections are running products P ← fl_S(P·fl_S(β)), and the parameter ops run in the
/// parameter dtype. Ambiguity zones: HomeAdam's group decision when |min v̂ − τ| is within the bound of min v̂ (plus τ's
/// cast to S); HomeAdamEW's per-element test likewise. Inside a zone both branches are acceptable.
/// </summary>
public static class HomeAdamFamilyBound
{
    enum BranchRule { AlwaysAdaptive, GroupMinimum, PerElement }

    sealed record Moments(int Index, Approx[] M, Approx[] V, Approx[] VHat, Approx StepSize, Dictionary<string, Approx[]> State);

    public static StepBounds Step(TrajectoryCase c, BoundState before, IReadOnlyList<double[]?> grads, ErrorBudget budget)
    {
        var rule = c.Optimizer switch
        {
            "AdamSRF" => BranchRule.AlwaysAdaptive,
            "HomeAdam" => BranchRule.GroupMinimum,
            "HomeAdamEW" => BranchRule.PerElement,
            _ => throw new ArgumentException($"not a HomeAdam-family optimizer: {c.Optimizer}", nameof(c)),
        };
        var P = c.ParamDType;
        var parameters = before.Params.ToList();
        var state = before.State.ToDictionary(kv => kv.Key, kv => kv.Value);
        var bounds = new StepBounds(new BoundState(parameters, state));
        long adaptive = 0, stepped = 0;

        foreach (var group in c.Groups)
        {
            var collected = group.WithGradient(grads);
            if (collected.Count == 0) continue;
            double lr = group.Number("lr", 1e-3), eps = group.Number("eps", 1e-7), weightDecay = group.Number("weight_decay", 0.0);
            double tau = group.Number("tau", 1.0);
            var (beta1, beta2) = group.BetasOr((0.9, 0.99));
            bool capturable = group.Bool("capturable");
            var S = group.StateDType("state_dtype", P, RecordedDType.Float32);
            var RS = budget.In(S);
            var RP = budget.In(P);
            var H = budget.Host;

            // Step (b)–(c): moments and running products, for every collected parameter first.
            var moments = new List<Moments>(collected.Count);
            foreach (var index in collected)
            {
                var m = Moment(index, before.StateOf(index), grads[index]!, parameters[index].Length, P, S, lr, beta1, beta2, budget);
                moments.Add(m);
                state[index] = m.State;
                foreach (var name in m.State.Keys) bounds.StateDTypes[(index, name)] = name == "step" ? RecordedDType.Float64 : S;
            }

            // Step (d): HomeAdam's one decision for the group, over min v̂ = amin(v)/bc2 per parameter.
            Approx tauS = RS.Cast(tau);
            bool groupAdaptive = true, groupAmbiguous = false;
            if (rule == BranchRule.GroupMinimum)
            {
                Approx groupMin = Approx.Exact(double.PositiveInfinity);
                bool first = true;
                foreach (var mo in moments)
                {
                    if (mo.V.Length == 0) continue;
                    Approx rawMin = mo.V.Aggregate(Approx.Min);
                    Approx local = RS.Round(rawMin / RS.Round(Approx.One - mo.State["beta2_power"][0]));
                    groupMin = first ? local : Approx.Min(groupMin, local);
                    first = false;
                }
                // Non-capturable: adaptive unless min < τ (a NaN minimum does not veto); capturable: min ≥ τ.
                groupAdaptive = capturable ? groupMin.Value >= tauS.Value : !(groupMin.Value < tauS.Value);
                groupAmbiguous = groupMin.ComparisonUncertain(tauS);
                if (groupAmbiguous) bounds.AmbiguousDecisions++;
            }

            // Step (e): the parameter update.
            Approx epsS = RS.Cast(eps);
            bool hasDecay = weightDecay != 0.0;
            Approx decay = hasDecay ? RP.Round(H.Round(Approx.One - H.Round((Approx)lr * weightDecay))) : Approx.One;
            var toParam = budget.Conversion(S, P);
            foreach (var mo in moments)
            {
                var theta = parameters[mo.Index];
                var next = new Approx[theta.Length];
                for (int i = 0; i < theta.Length; i++)
                {
                    bool takeAdaptive, ambiguous;
                    switch (rule)
                    {
                        case BranchRule.AlwaysAdaptive: takeAdaptive = true; ambiguous = false; break;
                        case BranchRule.GroupMinimum: takeAdaptive = groupAdaptive; ambiguous = groupAmbiguous; break;
                        default:
                            // NaN v̂ compares false: the SGDM branch.
                            takeAdaptive = mo.VHat[i].Value >= tauS.Value;
                            ambiguous = mo.VHat[i].ComparisonUncertain(tauS);
                            if (ambiguous) bounds.AmbiguousDecisions++;
                            break;
                    }
                    next[i] = Update(takeAdaptive);
                    if (ambiguous) bounds.AddAlternative(mo.Index, i, Update(!takeAdaptive));
                    if (takeAdaptive) adaptive++;
                    stepped++;

                    Approx Update(bool adaptiveBranch)
                    {
                        Approx u = adaptiveBranch ? RS.Round(mo.M[i] / RS.Round(mo.VHat[i] + epsS)) : mo.M[i];
                        Approx delta = toParam.Round(RS.Round(u * mo.StepSize));
                        Approx p = hasDecay ? RP.Round(theta[i] * decay) : theta[i];
                        return RP.Round(p - delta);
                    }
                }
                parameters[mo.Index] = next;
            }
        }
        bounds.AdaptiveFraction = stepped == 0 ? null : (double)adaptive / stepped;
        return bounds;
    }

    static Moments Moment(int index, Dictionary<string, Approx[]>? previous, double[] grad, int n, RecordedDType P, RecordedDType S,
        double lr, double beta1, double beta2, ErrorBudget budget)
    {
        var RS = budget.In(S);
        var H = budget.Host;
        var toState = budget.Conversion(P, S);
        var m = previous.Buffer("exp_avg", n);
        var v = previous.Buffer("exp_avg_sq", n);
        Approx step = previous.Scalar("step", 0.0);
        Approx p1 = previous.Scalar("beta1_power", 1.0), p2 = previous.Scalar("beta2_power", 1.0);

        // lerp_(g, w) with w = fl_S(1 − β1): torch picks the formula by w and rounds it as one fused multiply-add.
        Approx w = RS.Round(H.Round(Approx.One - beta1));
        bool lowWeight = w.Value < 0.5;
        Approx oneMinusW = RS.Round(Approx.One - w);
        Approx b2 = RS.Cast(beta2), oneMinusBeta2 = RS.Round(H.Round(Approx.One - beta2));

        var mNext = new Approx[n];
        var vNext = new Approx[n];
        for (int i = 0; i < n; i++)
        {
            Approx g = toState.Round(grad[i]);
            Approx diff = RS.Round(g - m[i]);
            mNext[i] = Ema.CoverEveryOrder(lowWeight ? RS.Round(Approx.Fma(w, diff, m[i])) : RS.Round(Approx.Fma(-diff, oneMinusW, g)), m[i], g, beta1, RS, H);
            vNext[i] = RS.Round(Approx.Fma(RS.Round(oneMinusBeta2 * g), g, RS.Round(v[i] * b2)));
        }
        Approx p1Next = RS.Round(p1 * RS.Cast(beta1));
        Approx p2Next = RS.Round(p2 * b2);
        Approx bc1 = RS.Round(Approx.One - p1Next);
        Approx bc2 = RS.Round(Approx.One - p2Next);
        Approx stepSize = RS.Round(RS.Cast(lr) / bc1);
        var vHat = new Approx[n];
        for (int i = 0; i < n; i++) vHat[i] = RS.Round(vNext[i] / bc2);

        var next = new Dictionary<string, Approx[]>(StringComparer.Ordinal)
        {
            ["step"] = [new Approx(step.Value + 1.0, step.Error)],
            ["exp_avg"] = mNext,
            ["exp_avg_sq"] = vNext,
            ["beta1_power"] = [p1Next],
            ["beta2_power"] = [p2Next],
        };
        return new Moments(index, mNext, vNext, vHat, stepSize, next);
    }
}
