using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// STAC's trunk (paper-notes/stac.md) over <see cref="Approx"/>: decoupled decay θ·fl(1 − ηλ), then, with μ ≠ 0,
/// b ← fma(1−μ, u, b·μ) in the buffer's dtype (<c>trunk_state_dtype</c>, else the parameter's; the gradient is
/// converted to it first), and θ ← fma(−η, sign(b), θ). sign(0) = sign(NaN) = 0. Ambiguity zone: when zero lies within
/// the bound of b, every sign (−1, 0, +1) is acceptable for that element.
/// </summary>
public static class StacTrunkBound
{
    public sealed record Options(double Lr, double Momentum, double WeightDecay, bool Maximize, RecordedDType BufferDType);

    public static Options From(RecordedGroup g, RecordedDType parameter) => new(
        g.Number("lr", 1e-3),
        g.Number("trunk_momentum", 0.9),
        g.Number("weight_decay", 0.0),
        g.Bool("maximize"),
        g.StateDType("trunk_state_dtype", parameter, null));

    internal static Approx[] StepParameter(int index, Approx[] theta, Dictionary<string, Approx[]>? state, double[] grad, Options o,
        RecordedDType P, ErrorBudget budget, StepBounds bounds, Dictionary<int, Dictionary<string, Approx[]>> nextState)
    {
        var RP = budget.In(P);
        var RB = budget.In(o.BufferDType);
        var H = budget.Host;
        var toBuffer = budget.Conversion(P, o.BufferDType);
        int n = theta.Length;
        bool hasDecay = o.WeightDecay != 0.0, hasMomentum = o.Momentum != 0.0;
        Approx decay = hasDecay ? RP.Round(H.Round(Approx.One - H.Round((Approx)o.Lr * o.WeightDecay))) : Approx.One;
        Approx negLr = RP.Cast(-o.Lr);
        Approx mu = RB.Cast(o.Momentum), oneMinusMu = RB.Round(H.Round(Approx.One - o.Momentum));
        var buffer = hasMomentum ? state.Buffer("trunk_momentum_buffer", n) : null;
        var bufferNext = hasMomentum ? new Approx[n] : null;
        var next = new Approx[n];
        for (int i = 0; i < n; i++)
        {
            Approx u = o.Maximize ? -grad[i] : grad[i];
            Approx p = hasDecay ? RP.Round(theta[i] * decay) : theta[i];
            Approx direction;
            bool ambiguous = false;
            if (hasMomentum)
            {
                Approx uB = toBuffer.Round(u);
                Approx b = Ema.CoverEveryOrder(RB.Round(Approx.Fma(oneMinusMu, uB, RB.Round(buffer![i] * mu))), buffer![i], uB, o.Momentum, RB, H);
                bufferNext![i] = b;
                direction = Sign(b);
                ambiguous = b.SignUncertain;
            }
            else direction = Sign(u);

            next[i] = Move(direction.Value);
            if (ambiguous)
            {
                bounds.AmbiguousDecisions++;
                foreach (var other in new[] { -1.0, 0.0, 1.0 })
                    if (other != direction.Value) bounds.AddAlternative(index, i, Move(other));
            }

            Approx Move(double sign) => sign == 0.0 ? p : RP.Round(Approx.Fma(negLr, sign, p));
        }
        if (hasMomentum)
        {
            var s = new Dictionary<string, Approx[]>(StringComparer.Ordinal) { ["trunk_momentum_buffer"] = bufferNext! };
            nextState[index] = s;
            bounds.StateDTypes[(index, "trunk_momentum_buffer")] = o.BufferDType;
        }
        return next;
    }

    /// <summary>torch.sign: 0 for ±0 and for NaN.</summary>
    static Approx Sign(Approx x) => Approx.Exact(x.Value > 0 ? 1.0 : x.Value < 0 ? -1.0 : 0.0);
}
