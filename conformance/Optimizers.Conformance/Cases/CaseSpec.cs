using System.Text.Json;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Cases;

/// <summary>
/// A seeded gradient stream: magnitudes spread log-uniformly over decades with random signs, exact zeros, periodic sign
/// flips, steps where a parameter has no gradient, and NaN/±∞ injected at chosen places. Values are rounded to the
/// parameter dtype, so every implementation sees the same numbers.
/// </summary>
/// <param name="Fixed">Explicit gradients per step (flat per parameter), used instead of the random stream where given.</param>
public sealed record GradientRecipe(
    int Seed,
    double MinDecade = -6,
    double MaxDecade = 1,
    double ZeroFraction = 0.1,
    int SignFlipEvery = 0,
    IReadOnlyList<(int Step, int Param)>? NoGradient = null,
    IReadOnlyList<(int Step, int Param, int Index, double Value)>? Injections = null,
    IReadOnlyList<double[][]>? Fixed = null);

/// <summary>A parameter group: which parameters, and upstream's option names and values.</summary>
public sealed record GroupSpec(int[] Params, IReadOnlyDictionary<string, object?> Options);

/// <summary>
/// One declarative case: optimizer, options, shapes and dtypes, gradients, step count, and, only with a written reason,
/// a tolerance override. <see cref="Build()"/> turns it into a trajectory whose outputs the lockstep runner takes from the
/// reference.
/// </summary>
/// <param name="Why">What the case is for: the behaviour or corner it pins down.</param>
/// <param name="Model">STAC: the module tree (each module's own parameters, in registration order).</param>
/// <param name="ToleranceOverrideReason">Null: the tolerance model applies unchanged. Any override needs its reason here.</param>
public sealed record CaseSpec(
    string Id,
    string Optimizer,
    string Why,
    RecordedDType ParamDType,
    IReadOnlyList<int[]> Shapes,
    IReadOnlyList<GroupSpec> Groups,
    GradientRecipe Gradients,
    int Steps,
    IReadOnlyDictionary<string, object?>? Hyper = null,
    IReadOnlyList<RecordedModule>? Model = null,
    RecordedPartition? Partition = null,
    double[][]? Init = null,
    string? ToleranceOverrideReason = null)
{
    public int Elements => Shapes.Sum(s => s.Aggregate(1, (a, b) => a * b));

    public TrajectoryCase Build() => Build(Steps);

    /// <summary>
    /// The case over <paramref name="steps"/> steps: past the end of <see cref="GradientRecipe.Fixed"/> the seeded
    /// stream takes over, so a drift run can go on after a case's hand-placed steps.
    /// </summary>
    public TrajectoryCase Build(int steps)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be ≥ 0.");
        var random = new Random(Gradients.Seed);
        var lengths = Shapes.Select(s => s.Aggregate(1, (a, b) => a * b)).ToList();
        var init = Init ?? lengths.Select(n => Enumerable.Range(0, n).Select(_ => Round(Normal(random))).ToArray()).ToArray();
        var names = ParameterNames();
        var parameters = Shapes.Select((shape, i) => new RecordedParam(names[i], shape, init[i])).ToList();
        var recorded = new List<RecordedStep>(steps);
        var empty = new Dictionary<int, ParamState>();
        var noExtra = new Dictionary<string, JsonElement>();
        for (int t = 0; t < steps; t++)
        {
            var grads = new List<double[]?>(lengths.Count);
            for (int p = 0; p < lengths.Count; p++)
            {
                if (Gradients.NoGradient?.Contains((t, p)) == true) { grads.Add(null); continue; }
                double[] g = Gradients.Fixed is { } fixedSteps && t < fixedSteps.Count
                    ? fixedSteps[t][p].Select(Round).ToArray()
                    : Enumerable.Range(0, lengths[p]).Select(_ => Round(Draw(random, t))).ToArray();
                foreach (var (step, param, index, value) in Gradients.Injections ?? [])
                    if (step == t && param == p && index < g.Length) g[index] = value;
                grads.Add(g);
            }
            recorded.Add(new RecordedStep(grads, [], empty, noExtra));
        }
        var hyper = (Hyper ?? new Dictionary<string, object?>()).ToDictionary(kv => kv.Key, kv => JsonSerializer.SerializeToElement(kv.Value));
        var groups = Groups.Select(g => new RecordedGroup(g.Params,
            g.Options.ToDictionary(kv => kv.Key, kv => JsonSerializer.SerializeToElement(kv.Value)))).ToList();
        return new TrajectoryCase(Id, Why, Optimizer, Gradients.Seed, hyper, groups, ParamDType, parameters, Model, Partition, recorded);
    }

    /// <summary>
    /// The golden format names a parameter by its qualified name in the module tree (<c>params[i].name</c> equals the
    /// <c>qualified</c> of the module parameter that owns it), lists each tensor once (a tied parameter appears only
    /// under its first module; later modules point at it with <c>alias_of</c>), and orders <c>params</c> as the
    /// tree registers them. A case with a tree is built the same way, so adapters that accept golden cases accept it.
    /// </summary>
    string[] ParameterNames()
    {
        if (Model is null) return Shapes.Select((_, i) => $"p{i}").ToArray();
        var owned = Model.SelectMany(m => m.Params).Where(p => p.AliasOf is null).ToList();
        if (owned.Count != Shapes.Count)
            throw new InvalidOperationException($"case '{Id}': the module tree owns {owned.Count} parameters, the case lists {Shapes.Count} shapes.");
        for (int i = 0; i < owned.Count; i++)
            if (!owned[i].Shape.SequenceEqual(Shapes[i]))
                throw new InvalidOperationException(
                    $"case '{Id}': parameter {i} ('{owned[i].Qualified}') has shape [{string.Join(",", owned[i].Shape)}] in the tree, [{string.Join(",", Shapes[i])}] in the case.");
        var qualified = owned.Select(p => p.Qualified).ToHashSet(StringComparer.Ordinal);
        foreach (var tied in Model.SelectMany(m => m.Params).Where(p => p.AliasOf is not null))
            if (!qualified.Contains(tied.AliasOf!))
                throw new InvalidOperationException($"case '{Id}': '{tied.Qualified}' is tied to '{tied.AliasOf}', which no module owns.");
        return owned.Select(p => p.Qualified).ToArray();
    }

    /// <summary>
    /// Steps of a free-running drift run: <see cref="CaseRegistry.DriftSteps"/>, or the case's own count if longer.
    /// Cases of 10⁵ elements or more keep their own count: they exist to exercise full vector widths and ragged tails,
    /// which a few steps do, and thirty float64 reference steps over a million elements would dominate the run's time.
    /// </summary>
    public int DriftStepCount => Elements >= 100_000 ? Steps : Math.Max(Steps, CaseRegistry.DriftSteps);

    double Draw(Random random, int step)
    {
        if (random.NextDouble() < Gradients.ZeroFraction) return 0.0;
        double magnitude = Math.Pow(10, Gradients.MinDecade + random.NextDouble() * (Gradients.MaxDecade - Gradients.MinDecade));
        double sign = random.Next(2) == 0 ? -1 : 1;
        if (Gradients.SignFlipEvery > 0 && (step / Gradients.SignFlipEvery) % 2 == 1) sign = -sign;
        return sign * magnitude;
    }

    static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    double Round(double x) => ParamDType == RecordedDType.Float32 ? (float)x : x;
}
