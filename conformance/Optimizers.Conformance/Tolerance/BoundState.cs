using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// Parameters and optimizer state as intervals, in upstream's vocabulary. Teacher forcing starts every step from
/// exact recorded values; free running carries the bounds of the previous step forward, so they keep growing.
/// </summary>
public sealed class BoundState
{
    public BoundState(IReadOnlyList<Approx[]> parameters, IReadOnlyDictionary<int, Dictionary<string, Approx[]>> state)
    {
        Params = parameters;
        State = state;
    }

    public IReadOnlyList<Approx[]> Params { get; }

    /// <summary>Per parameter index, per upstream buffer name (<c>exp_avg</c>, <c>step</c>, ...). Absent index: no state yet.</summary>
    public IReadOnlyDictionary<int, Dictionary<string, Approx[]>> State { get; }

    public static BoundState Exact(IReadOnlyList<double[]> parameters, IReadOnlyDictionary<int, ParamState> state)
    {
        var p = parameters.Select(v => v.Select(Approx.Exact).ToArray()).ToList();
        var s = new Dictionary<int, Dictionary<string, Approx[]>>();
        foreach (var (index, buffers) in state)
        {
            var d = new Dictionary<string, Approx[]>(StringComparer.Ordinal);
            foreach (var (name, values) in buffers) d[name] = values.Select(Approx.Exact).ToArray();
            s[index] = d;
        }
        return new BoundState(p, s);
    }

    /// <summary>The values alone, as an implementation under replay would be loaded with them.</summary>
    public (List<double[]> Params, Dictionary<int, ParamState> State) Values()
    {
        var p = Params.Select(v => v.Select(a => a.Value).ToArray()).ToList();
        var s = new Dictionary<int, ParamState>();
        foreach (var (index, buffers) in State)
        {
            var ps = new ParamState();
            foreach (var (name, values) in buffers) ps[name] = values.Select(a => a.Value).ToArray();
            s[index] = ps;
        }
        return (p, s);
    }
}

/// <summary>What the model says about one step: the bounded result, the branches still open, the dtypes to measure ulps in.</summary>
public sealed class StepBounds
{
    public StepBounds(BoundState after) => After = after;

    public BoundState After { get; }

    /// <summary>
    /// Parameter elements whose branch (HomeAdam's group decision, HomeAdamEW's per-element test, STAC's sign) is
    /// decided within rounding of its threshold: the results of the other branches, each acceptable.
    /// </summary>
    public Dictionary<(int Param, int Index), List<Approx>> Alternatives { get; } = new();

    /// <summary>Decisions (a group, an element, a sign) taken inside an ambiguity zone this step.</summary>
    public int AmbiguousDecisions { get; set; }

    /// <summary>dtype of each state buffer, for ulps; <c>step</c> counters are exact integers.</summary>
    public Dictionary<(int Param, string Buffer), Trajectories.RecordedDType> StateDTypes { get; } = new();

    /// <summary>HomeAdam family: the fraction of stepped elements that took the adaptive branch (by the model's decision).</summary>
    public double? AdaptiveFraction { get; set; }

    /// <summary>STAC: the step was skipped because a gradient was non-finite.</summary>
    public bool Skipped { get; set; }

    public void AddAlternative(int param, int index, Approx value)
    {
        if (!Alternatives.TryGetValue((param, index), out var list)) Alternatives[(param, index)] = list = new List<Approx>(2);
        list.Add(value);
    }
}
