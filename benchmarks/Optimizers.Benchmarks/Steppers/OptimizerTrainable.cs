namespace Optimizers.Benchmarks.Steppers;

/// <summary>
/// A production optimizer (<see cref="Optimizers.Optimizer"/>) over freshly created float32 parameters, one per
/// <see cref="TensorSpec"/>, seen through <see cref="ITrainable"/>. Each parameter's gradient is attached once and
/// never cleared: the workloads overwrite it before every step, so <c>ZeroGrad</c> would only add a pass.
/// </summary>
public sealed class OptimizerTrainable : ITrainable
{
    readonly Parameter[] _parameters;

    OptimizerTrainable(Optimizer optimizer, Parameter[] parameters, bool telemetry)
    {
        Optimizer = optimizer;
        _parameters = parameters;
        optimizer.TelemetryEnabled = telemetry;
        foreach (var p in parameters) p.AttachGrad<float>();
    }

    /// <summary>The optimizer itself, for diagnostics that read its state (the HomeAdam study reads v̂ through StateDict()).</summary>
    public Optimizer Optimizer { get; }

    public int TensorCount => _parameters.Length;
    public Span<float> Value(int tensor) => _parameters[tensor].Value<float>();
    public Span<float> Grad(int tensor) => _parameters[tensor].Grad<float>();
    public void Step() => Optimizer.Step();

    /// <summary>Adaptive elements over stepped elements of the last step, all groups together; null without telemetry or an adaptive branch.</summary>
    public double? AdaptiveFraction
    {
        get
        {
            if (!Optimizer.TelemetryEnabled) return null;
            long adaptive = 0, stepped = 0;
            bool hasBranch = false;
            foreach (var g in Optimizer.Telemetry)
            {
                adaptive += g.AdaptiveElements;
                stepped += g.SteppedElements;
                hasBranch |= !double.IsNaN(g.AdaptiveFraction);
            }
            return hasBranch && stepped > 0 ? (double)adaptive / stepped : null;
        }
    }

    public static OptimizerTrainable Create(OptimizerKind kind, IReadOnlyList<TensorSpec> tensors, OptimizerSettings s)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(s);
        if (tensors.Count == 0) throw new ArgumentException("An optimizer needs at least one tensor.", nameof(tensors));
        var parameters = tensors.Select(t => new Parameter(t.Name, [t.Length])).ToArray();
        Optimizer optimizer = kind switch
        {
            OptimizerKind.AdamW => new AdamW(parameters, new AdamWOptions
            {
                Lr = s.Lr, Beta1 = s.Beta1 ?? 0.9, Beta2 = s.Beta2 ?? 0.999, Eps = s.Eps ?? 1e-8, WeightDecay = s.WeightDecay,
            }, s.Path),
            OptimizerKind.AdamSrf => new AdamSrf(parameters, new AdamSrfOptions
            {
                Lr = s.Lr, Beta1 = s.Beta1 ?? 0.9, Beta2 = s.Beta2 ?? 0.99, Eps = s.Eps ?? 1e-7, WeightDecay = s.WeightDecay, StateDType = s.StateDType,
            }, s.Path),
            OptimizerKind.HomeAdam => new HomeAdam(parameters, new HomeAdamOptions
            {
                Lr = s.Lr, Beta1 = s.Beta1 ?? 0.9, Beta2 = s.Beta2 ?? 0.99, Eps = s.Eps ?? 1e-7, WeightDecay = s.WeightDecay, StateDType = s.StateDType,
                Tau = s.Tau,
            }, s.Path),
            OptimizerKind.HomeAdamEW => new HomeAdamEW(parameters, new HomeAdamEWOptions
            {
                Lr = s.Lr, Beta1 = s.Beta1 ?? 0.9, Beta2 = s.Beta2 ?? 0.99, Eps = s.Eps ?? 1e-7, WeightDecay = s.WeightDecay, StateDType = s.StateDType,
                Tau = s.Tau,
            }, s.Path),
            OptimizerKind.Stac => new Stac(ModuleTree(tensors, parameters), new StacOptions
            {
                Lr = s.Lr, TrunkLr = s.TrunkLr, LastNLayers = s.CapLastLayers, TrunkMomentum = s.Momentum,
                Beta1 = s.Beta1 ?? 0.9, Beta2 = s.Beta2 ?? 0.999, Eps = s.Eps ?? 1e-8, WeightDecay = s.WeightDecay,
                TrunkStateDType = s.StateDType,
            }, s.Path),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No production class for this kind (SGD with momentum stays the hand-written stepper)."),
        };
        return new OptimizerTrainable(optimizer, parameters, s.Telemetry);
    }

    /// <summary>One module per distinct <see cref="TensorSpec.Layer"/>, in first-appearance order, owning that layer's tensors: what STAC partitions.</summary>
    static Module ModuleTree(IReadOnlyList<TensorSpec> tensors, Parameter[] parameters)
    {
        var root = new Module("Net");
        var layers = new Dictionary<string, Module>(StringComparer.Ordinal);
        for (int t = 0; t < tensors.Count; t++)
        {
            var spec = tensors[t];
            if (!layers.TryGetValue(spec.Layer, out var layer))
            {
                layer = root.RegisterModule(spec.Layer, new Module("Linear"));
                layers.Add(spec.Layer, layer);
            }
            // Module names may not contain '.': "trunk_0.weight" is registered as "weight" on module "trunk_0".
            string local = spec.Name.StartsWith(spec.Layer + ".", StringComparison.Ordinal) ? spec.Name[(spec.Layer.Length + 1)..] : spec.Name;
            layer.RegisterParameter(local, parameters[t]);
        }
        return root;
    }
}
