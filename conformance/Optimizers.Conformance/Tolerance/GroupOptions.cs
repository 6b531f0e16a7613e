using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>Reading a recorded group's options with upstream's defaults where a key is absent.</summary>
internal static class GroupOptions
{
    public static double Number(this RecordedGroup group, string key, double fallback) => group.DoubleOrNull(key) ?? fallback;

    public static (double Beta1, double Beta2) BetasOr(this RecordedGroup group, (double, double) fallback) =>
        group.Has("betas") ? group.Betas() : fallback;

    /// <summary>
    /// The dtype a dtype-valued option resolves to: the key present with <c>null</c> follows the parameter;
    /// an absent key takes <paramref name="whenAbsent"/> (upstream's default).
    /// </summary>
    public static RecordedDType StateDType(this RecordedGroup group, string key, RecordedDType parameter, RecordedDType? whenAbsent)
    {
        if (!group.Has(key)) return whenAbsent ?? parameter;
        var text = group.String(key);
        if (text is null) return parameter;
        // STAC 0.1.4 accepts aliases such as "parameter"/"match_parameter" for "follow the parameter".
        var normalized = text.Trim().ToLowerInvariant();
        if (normalized.Contains("param")) return parameter;
        return TrajectoryReader.ParseDType(normalized);
    }

    /// <summary>Indices of the group's parameters that have a gradient this step, in group order.</summary>
    public static List<int> WithGradient(this RecordedGroup group, IReadOnlyList<double[]?> grads) =>
        group.ParamIndices.Where(i => i < grads.Count && grads[i] is not null).ToList();

    public static Dictionary<string, Approx[]>? StateOf(this BoundState state, int index) =>
        state.State.TryGetValue(index, out var s) ? s : null;

    public static Approx[] Buffer(this Dictionary<string, Approx[]>? state, string name, int length, double initial = 0.0)
    {
        if (state is not null && state.TryGetValue(name, out var values)) return values;
        var fresh = new Approx[length];
        Array.Fill(fresh, Approx.Exact(initial));
        return fresh;
    }

    public static Approx Scalar(this Dictionary<string, Approx[]>? state, string name, double initial) =>
        state is not null && state.TryGetValue(name, out var values) && values.Length > 0 ? values[0] : Approx.Exact(initial);
}
