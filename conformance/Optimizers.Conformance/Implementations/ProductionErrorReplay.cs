using System.Text.Json;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Implementations;

// Bad-input records against production: the recorded arguments are bound the way CPython binds them (UpstreamKwargs),
// expressed through production's C# API, and whatever production throws is reported in upstream's vocabulary.
public sealed partial class ProductionImplementation
{
    /// <summary>Production's option names (exception ParamName) in upstream's spelling.</summary>
    static readonly Dictionary<string, string> UpstreamName = new(StringComparer.Ordinal)
    {
        ["Lr"] = "lr", ["Beta1"] = "betas", ["Beta2"] = "betas", ["Eps"] = "eps", ["WeightDecay"] = "weight_decay",
        ["Tau"] = "tau", ["StateDType"] = "state_dtype", ["UpdateMode"] = "update_mode",
        ["TrunkMomentum"] = "trunk_momentum", ["TrunkLr"] = "trunk_lr", ["CapLr"] = "cap_lr",
        ["TrunkWeightDecay"] = "trunk_weight_decay", ["CapWeightDecay"] = "cap_weight_decay",
        ["LastNLayers"] = "last_n_layers", ["TrunkStateDType"] = "trunk_state_dtype",
        ["NonFinitePolicy"] = "error_if_nonfinite", ["parameters"] = "params", ["model"] = "model",
    };

    // A dtype production's enum cannot name (an integer dtype, an unknown alias): production must refuse it.
    const DType NotAFloatingDType = (DType)1000;

    public ErrorOutcome Replay(ErrorRecord record)
    {
        if (record.Args.ContainsKey("closure"))
            return ErrorOutcome.NotExpressible("Step() takes no closure: the caller computes the loss before stepping (paper-notes/deviations.md)");
        if (record.Args.TryGetValue("model", out var m) && m.GetString() == "model.parameters()")
            return ErrorOutcome.NotExpressible("Stac takes a Module; passing a parameter sequence does not compile in C#");
        if (record.Args.TryGetValue("params", out var ps) && ps.ValueKind == JsonValueKind.Array && ps.EnumerateArray().Any(g => g.ValueKind == JsonValueKind.Object))
            return ErrorOutcome.NotExpressible("production validates parameter-group options like the defaults, stricter than upstream (paper-notes/deviations.md)");
        if (record.Stage == "constructor" && record.Exception is null && record.Args.Values.Any(IsNaN))
            return ErrorOutcome.NotExpressible("production rejects NaN options that upstream's one-sided checks let through (paper-notes/deviations.md)");
        try
        {
            var args = UpstreamKwargs.Bind(record.Optimizer, record.Args);
            return record.Stage switch
            {
                "constructor" => Constructed(Construct(record, args, out _)),
                "step" => StepScenario(record, args),
                "add_param_group" => AddParamGroup(record, args),
                _ => ErrorOutcome.NotExpressible($"stage '{record.Stage}' has no production counterpart"),
            };
        }
        catch (UpstreamCallException e) { return new ErrorOutcome(e.Kind, e.Argument, e.Message); }
        // Only option validation names an option: any other ArgumentException is an adapter or production bug and must
        // surface as one rather than "match" upstream's ValueError.
        catch (ArgumentException e) when (e.ParamName is { } n && UpstreamName.ContainsKey(n))
        {
            return new ErrorOutcome("ValueError", UpstreamName[e.ParamName!], e.Message);
        }
        catch (Exception e) when (IsDeliberateRuntimeError(e)) { return new ErrorOutcome("RuntimeError", null, e.Message); }
    }

    /// <summary>
    /// The runtime errors production raises on purpose, where upstream raises RuntimeError: a NotSupportedException of
    /// production's own (sparse gradients in Step, STAC's AddParamGroup), a non-finite gradient under the Throw policy, and
    /// HomeAdam's refusal of a zero-element parameter (no dedicated type, so its message). Anything else propagates.
    /// </summary>
    static bool IsDeliberateRuntimeError(Exception e) => e switch
    {
        NonFiniteGradientException => true,
        NotSupportedException => ThrownByProduction(e),
        InvalidOperationException => ThrownByProduction(e) && e.Message.Contains("has no elements", StringComparison.Ordinal),
        _ => false,
    };

    static bool ThrownByProduction(Exception e) => e.TargetSite?.DeclaringType?.Assembly == typeof(Optimizer).Assembly;

    static ErrorOutcome Constructed(Optimizer _) => ErrorOutcome.Accepted;

    static bool IsNaN(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() == "NaN",
        JsonValueKind.Array => value.EnumerateArray().Any(IsNaN),
        _ => false,
    };

    /// <summary>Steps, and reports a failed step that changed a parameter as a mismatch (production's steps are atomic).</summary>
    static ErrorOutcome AtomicStep(Optimizer optimizer, Parameter[] parameters)
    {
        var before = Snapshot(parameters);
        try
        {
            optimizer.Step();
        }
        catch (Exception e) when (IsDeliberateRuntimeError(e))
        {
            return Snapshot(parameters).SequenceEqual(before)
                ? new ErrorOutcome("RuntimeError", null, e.Message)
                : new ErrorOutcome("ResultMismatch", null, "production changed parameters in a step that failed: " + e.Message);
        }
        if (optimizer.NonFiniteSkippedSteps > 0 && !Snapshot(parameters).SequenceEqual(before))
            return new ErrorOutcome("ResultMismatch", null, "production changed parameters in a skipped step");
        return ErrorOutcome.Accepted;
    }

    static DType? ToStateDType(DTypeArgument d) => d.Kind switch
    {
        DTypeArgumentKind.FollowParameter => null,
        DTypeArgumentKind.Floating => d.Name switch
        {
            "float32" => DType.Float32,
            "float64" => DType.Float64,
            "bfloat16" => DType.BFloat16,
            "float16" => DType.Float16,
            _ => NotAFloatingDType,
        },
        _ => NotAFloatingDType,
    };

    static T Family<T>(T defaults, UpstreamArguments a) where T : HomeAdamFamilyOptions
    {
        var (b1, b2) = a.Betas();
        return defaults with
        {
            Lr = a.Double("lr"), Beta1 = b1, Beta2 = b2, Eps = a.Double("eps"), WeightDecay = a.Double("weight_decay"),
            StateDType = ToStateDType(a.TorchDType("state_dtype")),
        };
    }

    /// <summary>The optimizer the record's arguments describe, over <paramref name="parameters"/> (or a small model for STAC).</summary>
    Optimizer Construct(ErrorRecord record, UpstreamArguments a, out Parameter[] parameters, Parameter[]? given = null, Module? model = null)
    {
        parameters = given ?? (a.ParamsGivenEmpty ? [] : [Parameter.Create("p", new double[] { 1, 1, 1 }, 3)]);
        switch (record.Optimizer)
        {
            case "AdamW":
            {
                var (b1, b2) = a.Betas();
                return new AdamW(parameters, new AdamWOptions
                {
                    Lr = a.Double("lr"), Beta1 = b1, Beta2 = b2, Eps = a.Double("eps"), WeightDecay = a.Double("weight_decay"),
                    Amsgrad = a.Bool("amsgrad"), Maximize = a.Bool("maximize"),
                }, KernelPath);
            }
            case "AdamSRF":
                return new AdamSrf(parameters, Family(new AdamSrfOptions(), a), KernelPath);
            case "HomeAdam":
                return new HomeAdam(parameters, Family(new HomeAdamOptions(), a) with { Tau = a.Double("tau"), Capturable = a.Bool("capturable") }, KernelPath);
            case "HomeAdamEW":
                return new HomeAdamEW(parameters, Family(new HomeAdamEWOptions(), a) with
                {
                    Tau = a.Double("tau"),
                    UpdateMode = a.String("update_mode") switch
                    {
                        "denom" => HomeAdamEWUpdateMode.Denom,
                        "where_update" => HomeAdamEWUpdateMode.WhereUpdate,
                        _ => (HomeAdamEWUpdateMode)1000,
                    },
                }, KernelPath);
            case "STAC":
            {
                var (b1, b2) = a.Betas();
                long lastN = a.Integer("last_n_layers");
                var options = new StacOptions
                {
                    Lr = a.Double("lr"), TrunkLr = a.DoubleOrNone("trunk_lr"), CapLr = a.DoubleOrNone("cap_lr"),
                    LastNLayers = (int)Math.Clamp(lastN, int.MinValue, int.MaxValue),
                    TrunkMomentum = a.Double("trunk_momentum"), TrunkStateDType = ToStateDType(a.StacTrunkStateDType()),
                    Beta1 = b1, Beta2 = b2, Eps = a.Double("eps"), WeightDecay = a.Double("weight_decay"),
                    TrunkWeightDecay = a.DoubleOrNone("trunk_weight_decay"), CapWeightDecay = a.DoubleOrNone("cap_weight_decay"),
                    Amsgrad = a.Bool("amsgrad"), Maximize = a.Bool("maximize"),
                    NonFinitePolicy = a.Bool("error_if_nonfinite") ? NonFinitePolicy.Throw : NonFinitePolicy.SkipStep,
                };
                model ??= ModelFor(record, out parameters);
                return new Stac(model, options, KernelPath);
            }
            default:
                throw new NotSupportedException($"unknown optimizer '{record.Optimizer}'");
        }
    }

    /// <summary>The model a STAC record names: all frozen, an embedding plus head, or three linear layers with biases.</summary>
    static Module ModelFor(ErrorRecord record, out Parameter[] parameters)
    {
        string description = record.Args.TryGetValue("model", out var d) ? d.GetString() ?? "" : "";
        var root = new Module("Sequential");
        var list = new List<Parameter>();
        Parameter Add(Module owner, string name, int[] shape, bool trainable = true)
        {
            var p = new Parameter(name, shape, DType.Float64) { RequiresGrad = trainable };
            var span = p.Value<double>();
            for (int i = 0; i < span.Length; i++) span[i] = 0.5 + 0.01 * i;
            owner.RegisterParameter(name[(name.LastIndexOf('.') + 1)..], p);
            list.Add(p);
            return p;
        }
        if (description.Contains("all frozen", StringComparison.Ordinal))
        {
            var lin = root.RegisterModule("0", new Module("Linear"));
            Add(lin, "0.weight", [2, 2], trainable: false);
            Add(lin, "0.bias", [2], trainable: false);
        }
        else if (description.StartsWith("Embedding", StringComparison.Ordinal))
        {
            Add(root.RegisterModule("0", new Module("Embedding")), "0.weight", [8, 4]);
            var head = root.RegisterModule("1", new Module("Linear"));
            Add(head, "1.weight", [1, 4]);
            Add(head, "1.bias", [1]);
        }
        else
        {
            for (int layer = 0; layer < 3; layer++)
            {
                var lin = root.RegisterModule($"{2 * layer}", new Module("Linear"));
                Add(lin, $"{2 * layer}.weight", [2, 2]);
                Add(lin, $"{2 * layer}.bias", [2]);
                if (layer < 2) root.RegisterModule($"{2 * layer + 1}", new Module("ReLU"));
            }
        }
        parameters = [.. list];
        return root;
    }

    ErrorOutcome StepScenario(ErrorRecord record, UpstreamArguments a)
    {
        var args = record.Args;
        if (record.Optimizer == "STAC") return StacStepScenario(record, a);
        if (args.TryGetValue("groups", out var groups) && groups.GetInt32() == 2)
        {
            // Two groups, a sparse gradient in the second: upstream has already stepped the first group when it raises;
            // production refuses the whole step first (paper-notes/deviations.md), so only the error kind is compared.
            var first = Parameter.Create("g0", new double[] { 1, 1 }, 2);
            var second = Parameter.Create("g1", new double[] { 1, 1, 1 }, 3);
            Optimizer optimizer = record.Optimizer switch
            {
                "AdamSRF" => new AdamSrf([new ParamGroup<AdamSrfOptions>([first]), new ParamGroup<AdamSrfOptions>([second])], Family(new AdamSrfOptions(), a), KernelPath),
                "HomeAdam" => new HomeAdam([new ParamGroup<HomeAdamOptions>([first]), new ParamGroup<HomeAdamOptions>([second])], Family(new HomeAdamOptions(), a) with { Tau = a.Double("tau") }, KernelPath),
                _ => new HomeAdamEW([new ParamGroup<HomeAdamEWOptions>([first]), new ParamGroup<HomeAdamEWOptions>([second])], Family(new HomeAdamEWOptions(), a) with { Tau = a.Double("tau") }, KernelPath),
            };
            first.SetGrad<double>([1, 1]);
            second.AttachSparseGrad<double>([0], [1.0]);
            return AtomicStep(optimizer, [first, second]);
        }

        var optimizerOne = Construct(record, a, out var parameters);
        var p = parameters[0];
        var grad = args["grad"];
        if (grad.ValueKind == JsonValueKind.String && grad.GetString() == "sparse_coo")
            p.AttachSparseGrad<double>([0, 2], [0.5, -0.5]);
        else
            p.SetGrad<double>(grad.EnumerateArray().Select(TrajectoryReader.ReadNumber).ToArray());
        optimizerOne.Step();
        if (record.Result is { ValueKind: JsonValueKind.Object } result && result.TryGetProperty("param_after", out var expected))
        {
            var want = expected.EnumerateArray().Select(TrajectoryReader.ReadNumber).ToArray();
            var got = p.Value<double>().ToArray();
            if (!want.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(got.Select(BitConverter.DoubleToInt64Bits))
                && !want.Zip(got).All(x => double.IsNaN(x.First) ? double.IsNaN(x.Second) : x.First == x.Second))
                return new ErrorOutcome("ResultMismatch", null, $"param_after [{string.Join(", ", got)}], upstream [{string.Join(", ", want)}]");
        }
        return ErrorOutcome.Accepted;
    }

    ErrorOutcome StacStepScenario(ErrorRecord record, UpstreamArguments a)
    {
        var model = ModelFor(record, out var parameters);
        var optimizer = (Stac)Construct(record, a, out _, parameters, model);
        var args = record.Args;
        for (int i = 0; i < parameters.Length; i++)
            parameters[i].SetGrad<double>(Enumerable.Range(0, parameters[i].Length).Select(j => 0.1 * (j + 1) * (i % 2 == 0 ? 1 : -1)).ToArray());
        int Target(string key) => args[key].GetString()!.StartsWith("first", StringComparison.Ordinal) ? 0 : parameters.Length - 1;
        if (args.ContainsKey("nan_in")) parameters[Target("nan_in")].Grad<double>()[0] = double.NaN;
        if (args.ContainsKey("inf_in")) parameters[Target("inf_in")].Grad<double>()[0] = double.PositiveInfinity;
        if (args.ContainsKey("sparse_in")) parameters[Target("sparse_in")].AttachSparseGrad<double>([0], [1.0]);
        if (args.ContainsKey("model")) parameters[0].AttachSparseGrad<double>([0], [1.0]);
        // Production never changes anything in a failed or skipped step (paper-notes/deviations.md).
        var outcome = AtomicStep(optimizer, parameters);
        if (outcome != ErrorOutcome.Accepted) return outcome;
        if (record.Result is { ValueKind: JsonValueKind.Object } result && result.TryGetProperty("skipped_steps", out var skipped)
            && skipped.GetInt64() != optimizer.NonFiniteSkippedSteps)
            return new ErrorOutcome("ResultMismatch", null, $"skipped {optimizer.NonFiniteSkippedSteps} steps, upstream {skipped.GetInt64()}");
        return ErrorOutcome.Accepted;
    }

    ErrorOutcome AddParamGroup(ErrorRecord record, UpstreamArguments a)
    {
        var stac = (Stac)Construct(record, a, out _);
        stac.AddParamGroup([new Parameter("extra", [1])]);
        return ErrorOutcome.Accepted;
    }

    static List<long> Snapshot(IEnumerable<Parameter> parameters)
        => parameters.SelectMany(p => p.Value<double>().ToArray()).Select(BitConverter.DoubleToInt64Bits).ToList();
}
