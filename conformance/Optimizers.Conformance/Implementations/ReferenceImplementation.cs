// F# options are null when None, so nullable annotations add noise without safety at this boundary.
#nullable disable warnings
using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Reference;
using RecordedState = Optimizers.Conformance.Trajectories.ParamState;

namespace Optimizers.Conformance.Implementations;

// Inside the namespace so they win over the production classes of the same names in Optimizers.
using AdamSrf = global::Optimizers.Reference.AdamSrf;
using AdamW = global::Optimizers.Reference.AdamW;
using HomeAdam = global::Optimizers.Reference.HomeAdam;
using HomeAdamEW = global::Optimizers.Reference.HomeAdamEW;
using Stac = global::Optimizers.Reference.Stac;
using StacPartition = global::Optimizers.Reference.StacPartition;

/// <summary>
/// Drives the F# float64 reference (<c>reference/Optimizers.Reference</c>) under replay. Every value is computed in
/// float64 whatever the recorded dtypes; the state dtype is accepted and validated only.
/// </summary>
public sealed class ReferenceImplementation : IImplementation
{
    static readonly string[] Optimizers = ["AdamW", "AdamSRF", "HomeAdam", "HomeAdamEW", "STAC"];

    public string Name => "reference";

    public bool Supports(TrajectoryCase trajectoryCase, out string? reason)
    {
        reason = Optimizers.Contains(trajectoryCase.Optimizer) ? null : $"the reference has no optimizer named '{trajectoryCase.Optimizer}'";
        return reason is null;
    }

    public IReplaySession Start(TrajectoryCase trajectoryCase)
    {
        var initial = trajectoryCase.Params.Select(p => p.Init).ToList();
        return trajectoryCase.Optimizer switch
        {
            "AdamW" => new AdamWSession(trajectoryCase.Groups.Select(AdamWGroup).ToList(), initial),
            "AdamSRF" => new FamilySession<Moments.FamilyOptions, Unit>(
                trajectoryCase.Groups.Select(g => Group(FamilyOptions(g), g.ParamIndices)).ToList(), initial,
                (gs, p, gr, s) => Reference.Groups.stepAll("AdamSRF", Fun4<Moments.FamilyOptions, Unit>(AdamSrf.stepGroup), gs, p, gr, s)),
            "HomeAdam" => new FamilySession<HomeAdam.Options, HomeAdam.Decision>(
                trajectoryCase.Groups.Select(g => Group(HomeAdamOptions(g, trajectoryCase.ParamDType), g.ParamIndices)).ToList(), initial,
                (gs, p, gr, s) => HomeAdam.step(gs, p, gr, s)),
            "HomeAdamEW" => new FamilySession<HomeAdamEW.Options, FSharpList<FSharpOption<bool[]>>>(
                trajectoryCase.Groups.Select(g => Group(HomeAdamEWOptions(g, trajectoryCase.ParamDType), g.ParamIndices)).ToList(), initial,
                (gs, p, gr, s) => HomeAdamEW.step(gs, p, gr, s)),
            "STAC" => StartStac(trajectoryCase, initial),
            var other => throw new NotSupportedException($"the reference has no optimizer named '{other}'"),
        };
    }

    // ---- building reference options from recorded groups ------------------------------------------------------

    static Group<T> Group<T>(T options, IEnumerable<int> members) => new(options, ListModule.OfSeq(members));

    static FSharpFunc<TOptions, FSharpFunc<FSharpList<Vector<double>>, FSharpFunc<FSharpList<FSharpOption<Gradient>>, FSharpFunc<FSharpList<FSharpOption<Moments.MomentState>>, Tuple<FSharpList<Vector<double>>, FSharpList<FSharpOption<Moments.MomentState>>, TReport>>>>>
        Fun4<TOptions, TReport>(Func<TOptions, FSharpList<Vector<double>>, FSharpList<FSharpOption<Gradient>>, FSharpList<FSharpOption<Moments.MomentState>>, Tuple<FSharpList<Vector<double>>, FSharpList<FSharpOption<Moments.MomentState>>, TReport>> f) =>
        FuncConvert.FromFunc<TOptions, FSharpList<Vector<double>>, FSharpList<FSharpOption<Gradient>>, FSharpList<FSharpOption<Moments.MomentState>>, Tuple<FSharpList<Vector<double>>, FSharpList<FSharpOption<Moments.MomentState>>, TReport>>(f);

    static FSharpOption<StateDType> StateDTypeOf(DTypeArgument dtype) => dtype.Kind switch
    {
        DTypeArgumentKind.FollowParameter => FSharpOption<StateDType>.None,
        DTypeArgumentKind.Floating => FSharpOption<StateDType>.Some(dtype.Name switch
        {
            "float64" => StateDType.Float64,
            "float32" => StateDType.Float32,
            "bfloat16" => StateDType.BFloat16,
            "float16" => StateDType.Float16,
            var n => throw new InvalidDataException($"unexpected floating dtype '{n}'"),
        }),
        _ => FSharpOption<StateDType>.Some(StateDType.NewNonFloating(dtype.Name ?? "?")),
    };

    static DTypeArgument RecordedStateDType(RecordedGroup g, string key) =>
        g.Options.TryGetValue(key, out var e) ? UpstreamKwargs.ParseTorchDType(e) : DTypeArgument.FollowParameter;

    static Moments.FamilyOptions FamilyOptions(RecordedGroup g)
    {
        var (b1, b2) = g.Betas();
        return new Moments.FamilyOptions(g.Double("lr"), b1, b2, g.Double("eps"), g.Double("weight_decay"), StateDTypeOf(RecordedStateDType(g, "state_dtype")));
    }

    // Upstream compares v̂ with τ in the state dtype, so τ itself is first rounded to it (torch casts the Python scalar to
    // the tensor's dtype: 1e-50 becomes 0 in float32). The reference takes the threshold as given, so it is handed the
    // value upstream actually compares against; the comparison itself stays in float64.
    static double ThresholdAsCompared(RecordedGroup g, RecordedDType paramDType, double tau)
    {
        var stateDType = g.Options.TryGetValue("state_dtype", out var e) && e.ValueKind == JsonValueKind.String ? g.DType("state_dtype")!.Value : paramDType;
        return stateDType switch
        {
            RecordedDType.Float64 => tau,
            RecordedDType.Float32 => (float)tau,
            RecordedDType.Float16 => (double)(Half)(float)tau,
            _ => RoundToBFloat16((float)tau),
        };
    }

    static double RoundToBFloat16(float x)
    {
        if (float.IsNaN(x)) return double.NaN;
        int bits = BitConverter.SingleToInt32Bits(x);
        bits += 0x7FFF + ((bits >> 16) & 1);
        return BitConverter.Int32BitsToSingle(bits & unchecked((int)0xFFFF0000));
    }

    static HomeAdam.Options HomeAdamOptions(RecordedGroup g, RecordedDType paramDType) =>
        new(FamilyOptions(g), ThresholdAsCompared(g, paramDType, g.Double("tau")), g.Bool("capturable"));

    static HomeAdamEW.Options HomeAdamEWOptions(RecordedGroup g, RecordedDType paramDType) =>
        new(FamilyOptions(g), ThresholdAsCompared(g, paramDType, g.Double("tau")), HomeAdamEW.parseUpdateMode(g.String("update_mode") ?? "denom"));

    static Group<AdamW.Options> AdamWGroup(RecordedGroup g)
    {
        var (b1, b2) = g.Betas();
        return Group(new AdamW.Options(g.Double("lr"), b1, b2, g.Double("eps"), g.Double("weight_decay"), g.Bool("amsgrad"), g.Bool("maximize")), g.ParamIndices);
    }

    // ---- STAC: built from the constructor arguments and the module tree, then checked against upstream's groups --------

    // A non-integral last_n_layers fails in upstream only where the partition slices its layer list: after every option
    // check before the partition and after the "no trainable parameter" check, before the resolved lr/decay checks. So
    // those earlier checks run first (with the resolved values left at their always-valid defaults), then the TypeError.
    static Stac.Options StacOptions(UpstreamArguments a, FSharpList<StacPartition.NamedModule> modules)
    {
        try
        {
            a.Integer("last_n_layers");
        }
        catch (UpstreamCallException)
        {
            var earlier = StacOptions(a, lastNLayers: 0);
            Stac.create(new Stac.Options(earlier.Lr, FSharpOption<double>.None, FSharpOption<double>.None, 0, earlier.TrunkMomentum, earlier.TrunkStateDType,
                earlier.Beta1, earlier.Beta2, earlier.Eps, earlier.WeightDecay, FSharpOption<double>.None, FSharpOption<double>.None,
                earlier.Amsgrad, earlier.Maximize, earlier.NonFinite), modules);
            throw;
        }
        return StacOptions(a, checked((int)a.Integer("last_n_layers")));
    }

    static Stac.Options StacOptions(UpstreamArguments a, int lastNLayers)
    {
        var (b1, b2) = a.Betas();
        static FSharpOption<double> Opt(double? x) => x is { } v ? FSharpOption<double>.Some(v) : FSharpOption<double>.None;
        return new Stac.Options(
            a.Double("lr"), Opt(a.DoubleOrNone("trunk_lr")), Opt(a.DoubleOrNone("cap_lr")), lastNLayers,
            a.Double("trunk_momentum"), StateDTypeOf(a.StacTrunkStateDType()), b1, b2, a.Double("eps"), a.Double("weight_decay"),
            Opt(a.DoubleOrNone("trunk_weight_decay")), Opt(a.DoubleOrNone("cap_weight_decay")), a.Bool("amsgrad"), a.Bool("maximize"),
            a.Bool("error_if_nonfinite") ? Stac.NonFinitePolicy.Throw : Stac.NonFinitePolicy.Skip);
    }

    static FSharpList<StacPartition.NamedModule> NamedModules(IReadOnlyList<RecordedModule> model, IReadOnlyList<RecordedParam> parameters,
        string? caseId = null)
    {
        var index = parameters.Select((p, i) => (p.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        int Identity(RecordedModule m, RecordedModuleParam p) =>
            index.TryGetValue(p.AliasOf ?? p.Qualified, out var i) ? i : throw new InvalidDataException(
                $"{(caseId is null ? "" : $"case '{caseId}': ")}module '{m.Name}' names parameter '{p.Qualified}'"
                + (p.AliasOf is null ? "" : $" (tied to '{p.AliasOf}')") + ", which is not among the case's parameters");
        return ListModule.OfSeq(model.Select(m => new StacPartition.NamedModule(
            m.Name, ListModule.OfSeq(m.Params.Select(p => new StacPartition.ModuleParameter(p.Name, p.RequiresGrad, Identity(m, p)))))));
    }

    static IReplaySession StartStac(TrajectoryCase c, List<double[]> initial)
    {
        if (c.Model is null) throw new InvalidDataException($"STAC case '{c.Id}' has no module tree");
        var modules = NamedModules(c.Model, c.Params, c.Id);
        var optimizer = Stac.create(StacOptions(UpstreamKwargs.Bind("STAC", c.Hyper), modules), modules);
        CheckAgainstRecordedGroups(c, optimizer);
        return new StacSession(optimizer, initial);
    }

    // The partition and the lr/decay resolution are part of what the reference must reproduce, so a case's recorded
    // groups are compared with what the reference derived rather than used to build it.
    static void CheckAgainstRecordedGroups(TrajectoryCase c, Stac.Optimizer optimizer)
    {
        var derived = new List<(string Role, IEnumerable<int> Members, double Lr, double WeightDecay)>();
        if (FSharpOption<Stac.TrunkGroup>.get_IsSome(optimizer.Trunk))
            derived.Add(("trunk", optimizer.Trunk.Value.Members, optimizer.Trunk.Value.Lr, optimizer.Trunk.Value.WeightDecay));
        if (FSharpOption<Group<AdamW.Options>>.get_IsSome(optimizer.Cap))
            derived.Add(("cap", optimizer.Cap.Value.Members, optimizer.Cap.Value.Options.Lr, optimizer.Cap.Value.Options.WeightDecay));
        if (derived.Count != c.Groups.Count)
            throw new InvalidDataException($"case '{c.Id}': the reference derived {derived.Count} groups, upstream recorded {c.Groups.Count}");
        for (int i = 0; i < derived.Count; i++)
        {
            var (role, members, lr, wd) = derived[i];
            var g = c.Groups[i];
            if (g.String("stac_role") != role || !members.SequenceEqual(g.ParamIndices) || lr != g.Double("lr") || wd != g.Double("weight_decay"))
                throw new InvalidDataException(
                    $"case '{c.Id}' group {i}: reference ({role}, [{string.Join(",", members)}], lr {lr}, wd {wd}) differs from upstream " +
                    $"({g.String("stac_role")}, [{string.Join(",", g.ParamIndices)}], lr {g.Double("lr")}, wd {g.Double("weight_decay")})");
        }
    }

    // ---- conversions --------------------------------------------------------------------------------------------

    internal static Vector<double> Vec(double[] values) => Vector<double>.Build.DenseOfArray((double[])values.Clone());

    internal static FSharpList<Vector<double>> Vectors(IEnumerable<double[]> values) => ListModule.OfSeq(values.Select(Vec));

    internal static FSharpList<FSharpOption<Gradient>> Grads(IEnumerable<double[]?> grads) =>
        ListModule.OfSeq(grads.Select(g => g is null ? FSharpOption<Gradient>.None : FSharpOption<Gradient>.Some(Gradient.NewDense(Vec(g)))));

    static double[] Scalar(double x) => [x];

    static double[] Required(RecordedState s, string key, int index) =>
        s.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"state of parameter {index} lacks '{key}'");

    // ---- sessions -----------------------------------------------------------------------------------------------

    // A session that can also be stepped with gradients the IImplementation boundary cannot carry (sparse ones).
    interface IGradientStepper : IReplaySession
    {
        void StepWith(FSharpList<FSharpOption<Gradient>> grads);
    }

    abstract class Session<TState> : IGradientStepper
    {
        protected List<Vector<double>> Parameters;
        protected FSharpOption<TState>[] States;

        protected Session(List<double[]> initial)
        {
            Parameters = initial.Select(Vec).ToList();
            States = new FSharpOption<TState>[initial.Count];
        }

        public void LoadParams(IReadOnlyList<double[]> values) => Parameters = values.Select(Vec).ToList();

        public void LoadState(IReadOnlyDictionary<int, RecordedState> state)
        {
            for (int i = 0; i < States.Length; i++)
                States[i] = state.TryGetValue(i, out var s) ? FSharpOption<TState>.Some(FromRecorded(s, i)) : FSharpOption<TState>.None;
        }

        public IReadOnlyList<double[]> Params() => Parameters.Select(p => p.ToArray()).ToList();

        public IReadOnlyDictionary<int, RecordedState> State()
        {
            var result = new Dictionary<int, RecordedState>();
            for (int i = 0; i < States.Length; i++)
                if (FSharpOption<TState>.get_IsSome(States[i])) result[i] = ToRecorded(States[i].Value);
            return result;
        }

        public void Step(IReadOnlyList<double[]?> grads) => StepWith(Grads(grads));
        public abstract void StepWith(FSharpList<FSharpOption<Gradient>> grads);
        protected abstract TState FromRecorded(RecordedState s, int index);
        protected abstract RecordedState ToRecorded(TState s);
        public void Dispose() { }
    }

    sealed class FamilySession<TOptions, TReport>(
        List<Group<TOptions>> groups,
        List<double[]> initial,
        Func<FSharpList<Group<TOptions>>, FSharpList<Vector<double>>, FSharpList<FSharpOption<Gradient>>, FSharpList<FSharpOption<Moments.MomentState>>,
            Tuple<FSharpList<Vector<double>>, FSharpList<FSharpOption<Moments.MomentState>>, FSharpList<TReport>>> step)
        : Session<Moments.MomentState>(initial)
    {
        public override void StepWith(FSharpList<FSharpOption<Gradient>> grads)
        {
            var (p, s, _) = step(ListModule.OfSeq(groups), ListModule.OfSeq(Parameters), grads, ListModule.OfSeq(States));
            Parameters = p.ToList();
            States = s.ToArray();
        }

        protected override Moments.MomentState FromRecorded(RecordedState s, int i) => new(
            checked((int)Required(s, "step", i)[0]), Vec(Required(s, "exp_avg", i)), Vec(Required(s, "exp_avg_sq", i)),
            Required(s, "beta1_power", i)[0], Required(s, "beta2_power", i)[0]);

        protected override RecordedState ToRecorded(Moments.MomentState s) => new()
        {
            ["step"] = Scalar(s.Step), ["exp_avg"] = s.ExpAvg.ToArray(), ["exp_avg_sq"] = s.ExpAvgSq.ToArray(),
            ["beta1_power"] = Scalar(s.Beta1Power), ["beta2_power"] = Scalar(s.Beta2Power),
        };
    }

    static AdamW.ParamState AdamWFromRecorded(RecordedState s, int i) => new(
        checked((int)Required(s, "step", i)[0]), Vec(Required(s, "exp_avg", i)), Vec(Required(s, "exp_avg_sq", i)),
        s.TryGetValue("max_exp_avg_sq", out var mx) ? FSharpOption<Vector<double>>.Some(Vec(mx)) : FSharpOption<Vector<double>>.None);

    static RecordedState AdamWToRecorded(AdamW.ParamState s)
    {
        var r = new RecordedState { ["step"] = Scalar(s.Step), ["exp_avg"] = s.ExpAvg.ToArray(), ["exp_avg_sq"] = s.ExpAvgSq.ToArray() };
        if (FSharpOption<Vector<double>>.get_IsSome(s.MaxExpAvgSq)) r["max_exp_avg_sq"] = s.MaxExpAvgSq.Value.ToArray();
        return r;
    }

    sealed class AdamWSession(List<Group<AdamW.Options>> groups, List<double[]> initial) : Session<AdamW.ParamState>(initial)
    {
        public override void StepWith(FSharpList<FSharpOption<Gradient>> grads)
        {
            var stepGroup = FuncConvert.FromFunc<AdamW.Options, FSharpList<Vector<double>>, FSharpList<FSharpOption<Gradient>>, FSharpList<FSharpOption<AdamW.ParamState>>,
                Tuple<FSharpList<Vector<double>>, FSharpList<FSharpOption<AdamW.ParamState>>, Unit>>((o, p, g, s) =>
                {
                    var (p2, s2) = AdamW.stepGroup(o, p, g, s);
                    return Tuple.Create(p2, s2, (Unit)null!);
                });
            var (pn, sn, _) = Reference.Groups.stepAll("AdamW", stepGroup, ListModule.OfSeq(groups), ListModule.OfSeq(Parameters), grads, ListModule.OfSeq(States));
            Parameters = pn.ToList();
            States = sn.ToArray();
        }

        protected override AdamW.ParamState FromRecorded(RecordedState s, int i) => AdamWFromRecorded(s, i);
        protected override RecordedState ToRecorded(AdamW.ParamState s) => AdamWToRecorded(s);
    }

    sealed class StacSession(Stac.Optimizer optimizer, List<double[]> initial) : Session<Stac.ParamState>(initial)
    {
        int skipped;

        public int NonfiniteSkippedSteps => skipped;

        public override void StepWith(FSharpList<FSharpOption<Gradient>> grads)
        {
            var state = new Stac.State(ListModule.OfSeq(States), skipped);
            var (p, s, _) = Stac.step(optimizer, ListModule.OfSeq(Parameters), grads, state);
            Parameters = p.ToList();
            States = s.Params.ToArray();
            skipped = s.NonfiniteSkippedSteps;
        }

        protected override Stac.ParamState FromRecorded(RecordedState s, int i) =>
            s.TryGetValue("trunk_momentum_buffer", out var b)
                ? Stac.ParamState.NewTrunkMomentumBuffer(Vec(b))
                : Stac.ParamState.NewCapState(AdamWFromRecorded(s, i));

        protected override RecordedState ToRecorded(Stac.ParamState s) => s switch
        {
            Stac.ParamState.TrunkMomentumBuffer b => new RecordedState { ["trunk_momentum_buffer"] = b.Item.ToArray() },
            Stac.ParamState.CapState c => AdamWToRecorded(c.Item),
            _ => throw new InvalidOperationException("unknown STAC state"),
        };
    }

    // ---- bad-input records --------------------------------------------------------------------------------------

    public ErrorOutcome Replay(ErrorRecord record)
    {
        try
        {
            return record.Stage switch
            {
                "constructor" => Construct(record),
                "step" => StepScenario(record),
                "add_param_group" => ErrorOutcome.NotExpressible(
                    "the reference's STAC optimizer has no add_param_group operation: its groups come only from the partition"),
                var stage => ErrorOutcome.NotExpressible($"stage '{stage}' has no counterpart in the reference"),
            };
        }
        catch (UpstreamCallException e) { return new ErrorOutcome(e.Kind, e.Argument, e.Message); }
        catch (ArgumentException e) { return new ErrorOutcome("ValueError", e.ParamName, e.Message); }
        catch (NotSupportedException e) { return new ErrorOutcome("RuntimeError", null, e.Message); }
        catch (InvalidOperationException e) { return new ErrorOutcome("RuntimeError", null, e.Message); }
    }

    // What an error record's optimizer is built over when the record does not say: a few small parameters of ones.
    static readonly double[][] DefaultParams = [[1.0, 1.0, 1.0]];

    static ErrorOutcome Construct(ErrorRecord record)
    {
        if (record.Optimizer == "STAC")
        {
            if (record.Args.TryGetValue("model", out var m) && m.GetString() == "model.parameters()")
                return ErrorOutcome.NotExpressible("passing a parameter iterable where STAC takes a model is a Python type error; the reference's signature takes a module list");
            BuildStac(record.Args);
            return ErrorOutcome.Accepted;
        }
        BuildFamilyOrAdamW(record, DefaultParams);
        return ErrorOutcome.Accepted;
    }

    static IGradientStepper BuildFamilyOrAdamW(ErrorRecord record, double[][] parameters)
    {
        var a = UpstreamKwargs.Bind(record.Optimizer, record.Args);
        var overrides = a.ParamGroups();
        List<(IReadOnlyList<int> Members, IReadOnlyDictionary<string, JsonElement> Overrides)> groups =
            overrides is null
                ? [(Enumerable.Range(0, parameters.Length).ToList(), new Dictionary<string, JsonElement>())]
                : overrides.Select(g => (g.ParamIndices ?? Enumerable.Range(0, parameters.Length).ToList(), g.Overrides)).ToList();
        double D(IReadOnlyDictionary<string, JsonElement> o, string k) => o.TryGetValue(k, out var v) ? UpstreamKwargs.ReadDouble(v, k) : a.Double(k);
        (double, double) B(IReadOnlyDictionary<string, JsonElement> o) =>
            o.TryGetValue("betas", out var v) ? (UpstreamKwargs.ReadDouble(v[0], "betas"), UpstreamKwargs.ReadDouble(v[1], "betas")) : a.Betas();

        if (record.Optimizer == "AdamW")
        {
            var (b1, b2) = a.Betas();
            AdamW.validate(new AdamW.Options(a.Double("lr"), b1, b2, a.Double("eps"), a.Double("weight_decay"), a.Bool("amsgrad"), a.Bool("maximize")));
            RequireParams(a);
            var gs = groups.Select(g =>
            {
                var (g1, g2) = B(g.Overrides);
                return Group(new AdamW.Options(D(g.Overrides, "lr"), g1, g2, D(g.Overrides, "eps"), D(g.Overrides, "weight_decay"), a.Bool("amsgrad"), a.Bool("maximize")), g.Members);
            }).ToList();
            return new AdamWSession(gs, parameters.ToList());
        }

        var (beta1, beta2) = a.Betas();
        var family = new Moments.FamilyOptions(a.Double("lr"), beta1, beta2, a.Double("eps"), a.Double("weight_decay"), StateDTypeOf(a.TorchDType("state_dtype")));
        Moments.FamilyOptions GroupFamily(IReadOnlyDictionary<string, JsonElement> o)
        {
            var (g1, g2) = B(o);
            return new Moments.FamilyOptions(D(o, "lr"), g1, g2, D(o, "eps"), D(o, "weight_decay"), family.StateDType);
        }
        switch (record.Optimizer)
        {
            case "AdamSRF":
            {
                AdamSrf.validate(family);
                RequireParams(a);
                return new FamilySession<Moments.FamilyOptions, Unit>(groups.Select(g => Group(GroupFamily(g.Overrides), g.Members)).ToList(), parameters.ToList(),
                    (gs, p, gr, st) => Reference.Groups.stepAll("AdamSRF", Fun4<Moments.FamilyOptions, Unit>(AdamSrf.stepGroup), gs, p, gr, st));
            }
            case "HomeAdam":
            {
                HomeAdam.validate(new HomeAdam.Options(family, a.Double("tau"), a.Bool("capturable")));
                RequireParams(a);
                return new FamilySession<HomeAdam.Options, HomeAdam.Decision>(
                    groups.Select(g => Group(new HomeAdam.Options(GroupFamily(g.Overrides), D(g.Overrides, "tau"), a.Bool("capturable")), g.Members)).ToList(), parameters.ToList(),
                    (gs, p, gr, st) => HomeAdam.step(gs, p, gr, st));
            }
            case "HomeAdamEW":
            {
                // update_mode is upstream's last check, so the other options are validated before the mode is parsed.
                HomeAdamEW.validate(new HomeAdamEW.Options(family, a.Double("tau"), HomeAdamEW.UpdateMode.Denom));
                var mode = HomeAdamEW.parseUpdateMode(a.String("update_mode") ?? "denom");
                RequireParams(a);
                return new FamilySession<HomeAdamEW.Options, FSharpList<FSharpOption<bool[]>>>(
                    groups.Select(g => Group(new HomeAdamEW.Options(GroupFamily(g.Overrides), D(g.Overrides, "tau"), mode), g.Members)).ToList(), parameters.ToList(),
                    (gs, p, gr, st) => HomeAdamEW.step(gs, p, gr, st));
            }
            default:
                throw new InvalidDataException($"unknown optimizer '{record.Optimizer}'");
        }
    }

    static void RequireParams(UpstreamArguments a)
    {
        if (a.ParamsGivenEmpty) throw new ArgumentException("optimizer got an empty parameter list (expected at least one parameter).", "params");
    }

    // Models named by STAC records. The default is three Linear layers (six parameters), the shape the step records report.
    static (List<RecordedModule> Modules, List<RecordedParam> Params) StacModel(string? description)
    {
        static RecordedModuleParam P(string module, string name, bool trainable = true) => new(name, module == "" ? name : $"{module}.{name}", [], trainable, null);
        static RecordedParam R(string name, int length) => new(name, [length], Enumerable.Repeat(1.0, length).ToArray());
        switch (description)
        {
            case null:
                return ([new("", "Sequential", []), new("0", "Linear", [P("0", "weight"), P("0", "bias")]), new("1", "Linear", [P("1", "weight"), P("1", "bias")]),
                         new("2", "Linear", [P("2", "weight"), P("2", "bias")])],
                        [R("0.weight", 6), R("0.bias", 3), R("1.weight", 9), R("1.bias", 3), R("2.weight", 6), R("2.bias", 2)]);
            case "Linear(2,2) all frozen":
                return ([new("", "Linear", [P("", "weight", false), P("", "bias", false)])], [R("weight", 4), R("bias", 2)]);
            case "Embedding(sparse=True)+Linear":
                return ([new("", "Module", []), new("embedding", "Embedding", [P("embedding", "weight")]), new("linear", "Linear", [P("linear", "weight"), P("linear", "bias")])],
                        [R("embedding.weight", 8), R("linear.weight", 4), R("linear.bias", 1)]);
            default:
                throw new InvalidDataException($"unknown model description '{description}'");
        }
    }

    static (Stac.Optimizer Optimizer, List<RecordedParam> Params) BuildStac(IReadOnlyDictionary<string, JsonElement> args)
    {
        var kwargs = new Dictionary<string, JsonElement>(args, StringComparer.Ordinal);
        if (kwargs.Remove("last", out var last)) kwargs["last_n_layers"] = last;
        var a = UpstreamKwargs.Bind("STAC", kwargs);
        var (modules, parameters) = StacModel(args.TryGetValue("model", out var m) ? m.GetString() : null);
        var named = NamedModules(modules, parameters);
        return (Stac.create(StacOptions(a, named), named), parameters);
    }

    static int Which(string description, int count) =>
        description.StartsWith("first", StringComparison.Ordinal) ? 0
        : description.StartsWith("last", StringComparison.Ordinal) ? count - 1
        : throw new InvalidDataException($"cannot tell which parameter '{description}' means");

    static ErrorOutcome StepScenario(ErrorRecord record)
    {
        var args = record.Args;
        if (args.ContainsKey("closure"))
            return ErrorOutcome.NotExpressible("the reference's step is a pure function of (options, parameters, gradients, state); evaluating a loss closure is the caller's business");

        if (record.Optimizer == "STAC")
        {
            var (optimizer, parameters) = BuildStac(args);
            var grads = parameters.Select(p => FSharpOption<Gradient>.Some(Gradient.NewDense(Vec(Enumerable.Repeat(0.5, p.Length).ToArray())))).ToArray();
            if (args.TryGetValue("nan_in", out var nanIn)) grads[Which(nanIn.GetString()!, grads.Length)] = Dense(parameters[Which(nanIn.GetString()!, grads.Length)].Length, double.NaN);
            if (args.TryGetValue("inf_in", out var infIn)) grads[Which(infIn.GetString()!, grads.Length)] = Dense(parameters[Which(infIn.GetString()!, grads.Length)].Length, double.PositiveInfinity);
            if (args.TryGetValue("sparse_in", out var sparseIn)) grads[Which(sparseIn.GetString()!, grads.Length)] = Sparse();
            if (args.TryGetValue("model", out var model) && model.GetString()!.Contains("sparse=True", StringComparison.Ordinal)) grads[0] = Sparse();
            var before = Vectors(parameters.Select(p => p.Init));
            var (after, state, skippedStep) = Stac.step(optimizer, before, ListModule.OfSeq(grads), Stac.emptyState(parameters.Count));
            if (record.Result is { } result && result.TryGetProperty("skipped_steps", out var skippedSteps))
            {
                var changed = before.Zip(after, (x, y) => !x.Equals(y)).ToList();
                if (state.NonfiniteSkippedSteps != skippedSteps.GetInt32() || changed.Any(c => c) != !skippedStep || changed.Any(c => c))
                    return new ErrorOutcome("ResultMismatch", null, $"upstream skipped {skippedSteps.GetInt32()} step(s) and changed nothing; the reference skipped {state.NonfiniteSkippedSteps} and changed [{string.Join(",", changed)}]");
            }
            return ErrorOutcome.Accepted;
        }

        double[][] parametersOfRecord = args.TryGetValue("groups", out var groupCount) && groupCount.GetInt32() == 2 ? [[1.0, 1.0], [1.0, 1.0, 1.0]] : DefaultParams;
        var kwargs = new Dictionary<string, JsonElement>(args, StringComparer.Ordinal);
        if (kwargs.TryGetValue("groups", out _))
            kwargs["params"] = JsonDocument.Parse("[{\"param_indices\":[0]},{\"param_indices\":[1]}]").RootElement.Clone();
        var built = BuildFamilyOrAdamW(record with { Args = kwargs }, parametersOfRecord);
        var gradients = parametersOfRecord.Select(p => (double[]?)Enumerable.Repeat(1.0, p.Length).ToArray()).ToList();
        if (args.TryGetValue("grad", out var grad))
        {
            if (grad.ValueKind == JsonValueKind.String && grad.GetString() == "sparse_coo")
                return StepWithSparse(built, parametersOfRecord, 0);
            gradients[0] = grad.EnumerateArray().Select(x => UpstreamKwargs.ReadDouble(x, "grad")).ToArray();
        }
        if (args.TryGetValue("sparse_in", out var sparse) && sparse.GetString() == "group 1")
            return StepWithSparse(built, parametersOfRecord, 1);

        built.Step(gradients);
        var after2 = built.Params();
        if (record.Result is { } r && r.TryGetProperty("param_after", out var expected))
        {
            var want = expected.EnumerateArray().Select(x => UpstreamKwargs.ReadDouble(x, "param_after")).ToArray();
            var got = after2[0];
            bool Close(double e, double g) => double.IsNaN(e) ? double.IsNaN(g) : Math.Abs(e - g) <= 1e-12 * Math.Max(1.0, Math.Abs(e));
            if (want.Length != got.Length || want.Zip(got, Close).Any(ok => !ok))
                return new ErrorOutcome("ResultMismatch", null, $"upstream param_after [{string.Join(",", want)}], reference [{string.Join(",", got)}]");
        }
        return ErrorOutcome.Accepted;
    }

    static FSharpOption<Gradient> Dense(int length, double value) =>
        FSharpOption<Gradient>.Some(Gradient.NewDense(Vector<double>.Build.Dense(length, value)));

    static FSharpOption<Gradient> Sparse() => FSharpOption<Gradient>.Some(Gradient.NewSparseCoo([0], [1.0]));

    // Sparse gradients cannot cross the IImplementation boundary (double arrays), so the step is driven directly.
    static ErrorOutcome StepWithSparse(IGradientStepper session, double[][] parameters, int sparseIndex)
    {
        var grads = parameters.Select((p, i) => i == sparseIndex ? Sparse() : Dense(p.Length, 1.0));
        session.StepWith(ListModule.OfSeq(grads));
        return ErrorOutcome.Accepted;
    }
}
