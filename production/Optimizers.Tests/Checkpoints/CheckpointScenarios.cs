using Optimizers.Kernels;
using static Optimizers.Tests.TestModels;

namespace Optimizers.Tests.Checkpoints;

/// <summary>
/// Optimizers of every kind and state dtype, built over freshly initialised parameters, with a deterministic gradient
/// schedule: enough to run a training loop twice (straight through, and interrupted by a checkpoint) and compare bits.
/// </summary>
internal static class CheckpointScenarios
{
    public sealed record Built(Optimizer Optimizer, List<Parameter> Parameters);

    /// <summary>Scenario name → factory taking the initialisation seed (CPU, <see cref="KernelPath.Auto"/>). Names are stable: they are the theory's cases.</summary>
    public static readonly IReadOnlyDictionary<string, Func<int, Built>> All;

    public static IEnumerable<object[]> Names => All.Keys.Select(k => new object[] { k });

    /// <summary>Scenario name → factory taking the initialisation seed, the CPU path and the backend.</summary>
    static readonly Dictionary<string, Func<int, KernelPath, ExecutionBackend?, Built>> Factories = Create();

    static CheckpointScenarios() => All = Factories.ToDictionary(kv => kv.Key, kv => (Func<int, Built>)(seed => kv.Value(seed, KernelPath.Auto, null)), StringComparer.Ordinal);

    /// <summary>Builds <paramref name="scenario"/> on <paramref name="backend"/> (null: the CPU on <paramref name="path"/>).</summary>
    public static Built Build(string scenario, int seed, KernelPath path, ExecutionBackend? backend) => Factories[scenario](seed, path, backend);

    static Dictionary<string, Func<int, KernelPath, ExecutionBackend?, Built>> Create()
    {
        var d = new Dictionary<string, Func<int, KernelPath, ExecutionBackend?, Built>>(StringComparer.Ordinal);
        d["AdamW float32"] = (seed, k, x) => Flat(seed, DType.Float32, ps => new AdamW(ps, new AdamWOptions { Lr = 1e-2, WeightDecay = 0.1 }, k, x));
        d["AdamW float64"] = (seed, k, x) => Flat(seed, DType.Float64, ps => new AdamW(ps, new AdamWOptions { Lr = 1e-2 }, k, x));
        d["AdamW amsgrad, two groups, mixed dtypes"] = (seed, k, x) => Grouped(seed, (a, b) => new AdamW(
            [new ParamGroup<AdamWOptions>(a), new ParamGroup<AdamWOptions>(b, new AdamWOptions { Lr = 3e-3, Amsgrad = true })], new AdamWOptions { Amsgrad = true }, k, x));
        foreach (var state in new[] { DType.Float32, DType.Float64, DType.BFloat16, DType.Float16 })
        {
            d[$"AdamSRF state {state}"] = (seed, k, x) => Grouped(seed, (a, b) => new AdamSrf(
                [new ParamGroup<AdamSrfOptions>(a), new ParamGroup<AdamSrfOptions>(b, new AdamSrfOptions { Lr = 2e-3, StateDType = state, WeightDecay = 0.01 })],
                new AdamSrfOptions { Lr = 1e-2, StateDType = state }, k, x));
            // τ between the typical v̂ of the two groups, so both branches of the group decision are taken along the way.
            // HomeAdam refuses a zero-element tensor with a gradient (its minimum of v̂ is undefined; upstream's amin
            // raises), so its groups leave the empty parameter out.
            d[$"HomeAdam state {state}"] = (seed, k, x) => Grouped(seed, (a, b) => new HomeAdam(
                [new ParamGroup<HomeAdamOptions>(a.Where(p => p.Length > 0).ToList()), new ParamGroup<HomeAdamOptions>(b, new HomeAdamOptions { Lr = 2e-3, StateDType = state, Tau = 1e-6, Capturable = true })],
                new HomeAdamOptions { Lr = 1e-2, StateDType = state, Tau = 1e-2 }, k, x));
            d[$"HomeAdamEW state {state}"] = (seed, k, x) => Grouped(seed, (a, b) => new HomeAdamEW(
                [new ParamGroup<HomeAdamEWOptions>(a), new ParamGroup<HomeAdamEWOptions>(b, new HomeAdamEWOptions { StateDType = state, Tau = 1e-3, UpdateMode = HomeAdamEWUpdateMode.WhereUpdate })],
                new HomeAdamEWOptions { Lr = 1e-2, StateDType = state, Tau = 1e-2 }, k, x));
        }
        d["HomeAdamEW state follows parameter"] = (seed, k, x) => Grouped(seed, (a, b) => new HomeAdamEW([.. a, .. b], new HomeAdamEWOptions { StateDType = null, Tau = 1e-3 }, k, x));
        foreach (var trunk in new DType?[] { null, DType.Float32, DType.Float64, DType.BFloat16, DType.Float16 })
            d[$"STAC trunk state {trunk?.ToString() ?? "follows parameter"}"] = (seed, k, x) => Stac(seed, DType.Float32, new StacOptions { Lr = 1e-2, TrunkStateDType = trunk, WeightDecay = 0.01 }, k, x);
        d["STAC float64, amsgrad cap of two layers"] = (seed, k, x) => Stac(seed, DType.Float64, new StacOptions { LastNLayers = 2, Amsgrad = true, TrunkMomentum = 0.8 }, k, x);
        d["STAC plain sign trunk (no trunk state)"] = (seed, k, x) => Stac(seed, DType.Float32, new StacOptions { TrunkMomentum = 0.0 }, k, x);
        d["STAC all cap"] = (seed, k, x) => Stac(seed, DType.Float32, new StacOptions { LastNLayers = 10 }, k, x);
        return d;
    }

    static Built Flat(int seed, DType dtype, Func<List<Parameter>, Optimizer> build)
    {
        List<Parameter> ps = [new Parameter("w", [3, 5], dtype), new Parameter("b", [5], dtype), new Parameter("late", [4], dtype), new Parameter("empty", [0], dtype)];
        Initialise(ps, seed);
        return new Built(build(ps), ps);
    }

    static Built Grouped(int seed, Func<List<Parameter>, List<Parameter>, Optimizer> build)
    {
        List<Parameter> a = [new Parameter("a.w", [3, 5]), new Parameter("a.b", [5], DType.Float64), new Parameter("a.late", [4]), new Parameter("a.empty", [0])];
        List<Parameter> b = [new Parameter("b.w", [7], DType.Float64), new Parameter("b.scalar", [])];
        Initialise([.. a, .. b], seed);
        var optimizer = build(a, b);
        return new Built(optimizer, AllParameters(optimizer));
    }

    static Built Stac(int seed, DType dtype, StacOptions options, KernelPath path, ExecutionBackend? backend)
    {
        var model = StackedNet(dtype);
        var optimizer = new Stac(model, options, path, backend);
        var ps = AllParameters(optimizer);
        Initialise(ps, seed);
        return new Built(optimizer, ps);
    }

    static void Initialise(IEnumerable<Parameter> ps, int seed)
    {
        int k = 0;
        foreach (var p in ps) Fill(p, new Random(seed * 1000 + k++));
    }

    /// <summary>
    /// The gradients of step <paramref name="step"/>: the same for every run. Parameters named <c>late</c> get none before
    /// step 4 (so a checkpoint taken earlier holds a parameter without state). With <paramref name="injectNaN"/>, step 1
    /// carries a NaN, which the skip policy turns into a skipped step (and a count the checkpoint must carry).
    /// </summary>
    public static void SetGradients(List<Parameter> ps, int step, bool injectNaN)
    {
        var rng = new Random(7919 * (step + 1));
        foreach (var p in ps)
        {
            if (p.Name.Contains("late", StringComparison.Ordinal) && step < 4) { p.ClearGrad(); continue; }
            RandomGrad(p, rng);
        }
        if (injectNaN && step == 1)
        {
            var target = ps.First(p => p.Length > 0 && !p.Name.Contains("late", StringComparison.Ordinal) && p.HasGrad);
            if (target.DType == DType.Float32) target.Grad<float>()[0] = float.NaN; else target.Grad<double>()[0] = double.NaN;
        }
    }

    /// <summary>Runs steps [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static void Run(Built b, int from, int to)
    {
        for (int s = from; s < to; s++)
        {
            SetGradients(b.Parameters, s, b.Optimizer.NonFinitePolicy == NonFinitePolicy.SkipStep);
            b.Optimizer.Step();
        }
    }
}
