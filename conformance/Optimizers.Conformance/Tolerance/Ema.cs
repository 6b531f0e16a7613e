namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// The exponential moving average m' = β·m + (1 − β)·g is where evaluation orders differ most: upstream's lerp rounds
/// g − m, torch 1.13's AdamW rounds β·m, and a reference written from the paper rounds both products. Under
/// cancellation (m' small next to β·m) their errors follow different terms, so the safety factor alone cannot cover one
/// with the other's bound. The bound used is the largest over these orders: each side is priced for whichever order it
/// uses, since u_E·T₁ + u_A·T₂ ≤ (u_E + u_A)·max(T₁, T₂).
/// </summary>
internal static class Ema
{
    public static Approx CoverEveryOrder(Approx upstream, Approx m, Approx g, double beta, Rounding r, Rounding host)
    {
        Approx weight = r.Round(host.Round(Approx.One - beta));
        Approx products = r.Round(r.Round(r.Cast(beta) * m) + r.Round(weight * g));
        Approx lerp = r.Round(m + r.Round(weight * r.Round(g - m)));
        // With ±∞ among the inputs the orders can disagree on the class of the result (∞ − ∞ = NaN in the lerp only).
        if (!upstream.IsFinite || !products.IsFinite || !lerp.IsFinite)
        {
            bool agree = ElementComparison.SameClass(upstream.Value, products.Value) && ElementComparison.SameClass(upstream.Value, lerp.Value)
                         && !products.ClassOpen && !lerp.ClassOpen;
            if (upstream.IsFinite || agree) return upstream;
            return Approx.OpenClass(upstream.Value);
        }
        double error = Math.Max(upstream.Error, Math.Max(products.Error, lerp.Error));
        return error == upstream.Error ? upstream : new Approx(upstream.Value, error);
    }
}
