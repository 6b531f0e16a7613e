using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Accelerators.Cuda;
using Optimizers.Accelerators.OpenCl;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Implementations;

/// <summary>
/// The production library under replay: <c>production</c> (KernelPath.Auto), <c>production:scalar</c>,
/// <c>production:simd</c>, <c>production:threads</c>, and on an accelerator <c>production:opencl</c> (the first OpenCL
/// device) and <c>production:cuda</c> (CUDA device 0). Builds the optimizer from the case's resolved groups (and its
/// model tree for STAC) and speaks upstream's state vocabulary through the optimizer's internal hooks, which move state
/// between host and device as the optimizer documents.
/// </summary>
public sealed partial class ProductionImplementation(KernelPath kernelPath = KernelPath.Auto, ExecutionBackendKind backend = ExecutionBackendKind.Cpu) : IImplementation
{
    public KernelPath KernelPath { get; } = kernelPath;

    /// <summary>Where the optimizers of this implementation run.</summary>
    public ExecutionBackendKind Backend { get; } = backend;

    public string Name => Backend switch
    {
        ExecutionBackendKind.OpenCl => "production:opencl",
        ExecutionBackendKind.Cuda => "production:cuda",
        _ => KernelPath switch
        {
            KernelPath.Scalar => "production:scalar",
            KernelPath.Simd => "production:simd",
            KernelPath.Threads => "production:threads",
            _ => "production",
        },
    };

    // Each session opens (and its optimizer closes) its own device context: sessions stay independent, even in parallel.
    ExecutionBackend? SessionBackend() => Backend switch
    {
        ExecutionBackendKind.OpenCl => ExecutionBackend.OpenCl(),
        ExecutionBackendKind.Cuda => ExecutionBackend.Cuda(),
        _ => null,
    };

    /// <summary>The implementation an <c>--impl</c> name selects, or null if the name is not a production one.</summary>
    public static ProductionImplementation? FromName(string name) => name switch
    {
        "production" => new(KernelPath.Auto),
        "production:scalar" => new(KernelPath.Scalar),
        "production:simd" => new(KernelPath.Simd),
        "production:threads" => new(KernelPath.Threads),
        "production:opencl" => new(KernelPath.Auto, ExecutionBackendKind.OpenCl),
        "production:cuda" => new(KernelPath.Auto, ExecutionBackendKind.Cuda),
        _ => null,
    };

    public bool Supports(TrajectoryCase trajectoryCase, out string? reason)
    {
        reason = trajectoryCase.Optimizer is "AdamW" or "AdamSRF" or "HomeAdam" or "HomeAdamEW" or "STAC"
            ? BackendMissing(trajectoryCase)
            : $"unknown optimizer '{trajectoryCase.Optimizer}'";
        return reason is null;
    }

    string? BackendMissing(TrajectoryCase c)
    {
        switch (Backend)
        {
            case ExecutionBackendKind.OpenCl:
                if (!OpenClDevices.Availability.IsAvailable) return OpenClDevices.Availability.Reason;
                if (!OpenClDevices.All[0].HasFloat64 && UsesFloat64(c))
                    return $"OpenCL device {OpenClDevices.All[0]} lacks cl_khr_fp64, which float64 parameters or state need";
                return null;
            case ExecutionBackendKind.Cuda:
                return CudaKernelBackend.Availability.IsAvailable ? null : CudaKernelBackend.Availability.Reason;
            default:
                return null;
        }
    }

    static bool UsesFloat64(TrajectoryCase c)
        => c.ParamDType == RecordedDType.Float64
           || c.Groups.Any(g => g.DType("state_dtype") == RecordedDType.Float64 || g.DType("trunk_state_dtype") == RecordedDType.Float64);

    public IReplaySession Start(TrajectoryCase trajectoryCase) => new Session(trajectoryCase, KernelPath, SessionBackend());

    internal static DType ToDType(RecordedDType d) => d switch
    {
        RecordedDType.Float32 => DType.Float32,
        RecordedDType.Float64 => DType.Float64,
        RecordedDType.BFloat16 => DType.BFloat16,
        _ => DType.Float16,
    };

    sealed class Session : IReplaySession
    {
        readonly TrajectoryCase _case;
        readonly Parameter[] _params;
        readonly Optimizer _optimizer;
        readonly HashSet<Parameter> _managed = new(ReferenceEqualityComparer.Instance);

        public Session(TrajectoryCase c, KernelPath path, ExecutionBackend? backend)
        {
            _case = c;
            var dtype = ToDType(c.ParamDType);
            _params = c.Params.Select(p => new Parameter(p.Name, p.Shape.ToArray(), dtype)).ToArray();
            for (int i = 0; i < _params.Length; i++) Write(_params[i], c.Params[i].Init);
            _optimizer = c.Optimizer switch
            {
                "AdamW" => new AdamW(c.Groups.Select(g => new ParamGroup<AdamWOptions>(Members(g), AdamWOptionsOf(g))), null, path, backend),
                "AdamSRF" => new AdamSrf(c.Groups.Select(g => new ParamGroup<AdamSrfOptions>(Members(g), Family(new AdamSrfOptions(), g))), null, path, backend),
                "HomeAdam" => new HomeAdam(c.Groups.Select(g => new ParamGroup<HomeAdamOptions>(Members(g),
                    Family(new HomeAdamOptions(), g) with { Tau = g.Double("tau"), Capturable = g.Bool("capturable") })), null, path, backend),
                "HomeAdamEW" => new HomeAdamEW(c.Groups.Select(g => new ParamGroup<HomeAdamEWOptions>(Members(g),
                    Family(new HomeAdamEWOptions(), g) with
                    {
                        Tau = g.Double("tau"),
                        UpdateMode = g.String("update_mode") == "where_update" ? HomeAdamEWUpdateMode.WhereUpdate : HomeAdamEWUpdateMode.Denom,
                    })), null, path, backend),
                "STAC" => BuildStac(c, path, backend),
                _ => throw new NotSupportedException($"unknown optimizer '{c.Optimizer}'"),
            };
            for (int g = 0; g < _optimizer.GroupCount; g++)
                foreach (var p in _optimizer.GroupParameters(g)) _managed.Add(p);
        }

        IReadOnlyList<Parameter> Members(RecordedGroup g) => g.ParamIndices.Select(i => _params[i]).ToArray();

        static AdamWOptions AdamWOptionsOf(RecordedGroup g)
        {
            var (b1, b2) = g.Betas();
            return new AdamWOptions
            {
                Lr = g.Double("lr"), Beta1 = b1, Beta2 = b2, Eps = g.Double("eps"), WeightDecay = g.Double("weight_decay"),
                Amsgrad = g.Bool("amsgrad"), Maximize = g.Bool("maximize"),
            };
        }

        static T Family<T>(T defaults, RecordedGroup g) where T : HomeAdamFamilyOptions
        {
            var (b1, b2) = g.Betas();
            return defaults with
            {
                Lr = g.Double("lr"), Beta1 = b1, Beta2 = b2, Eps = g.Double("eps"), WeightDecay = g.Double("weight_decay"),
                StateDType = g.DType("state_dtype") is { } d ? ToDType(d) : null,
            };
        }

        Stac BuildStac(TrajectoryCase c, KernelPath path, ExecutionBackend? backend)
        {
            if (c.Model is null) throw new InvalidDataException($"case '{c.Id}': a STAC case needs its model tree.");
            var byName = new Dictionary<string, Parameter>(StringComparer.Ordinal);
            for (int i = 0; i < _params.Length; i++) byName[c.Params[i].Name] = _params[i];
            var modules = new Dictionary<string, Module>(StringComparer.Ordinal);
            Module? root = null;
            foreach (var m in c.Model)
            {
                var module = new Module(m.Type);
                if (m.Name.Length == 0) root = module;
                else
                {
                    int dot = m.Name.LastIndexOf('.');
                    string parentName = dot < 0 ? "" : m.Name[..dot];
                    if (!modules.TryGetValue(parentName, out var parent))
                        throw new InvalidDataException(
                            $"case '{c.Id}': module '{m.Name}' comes before its parent '{parentName}' in the module tree, or the tree has no such module.");
                    parent.RegisterModule(dot < 0 ? m.Name : m.Name[(dot + 1)..], module);
                }
                modules[m.Name] = module;
                foreach (var p in m.Params)
                {
                    if (!byName.TryGetValue(p.AliasOf ?? p.Qualified, out var parameter))
                        throw new InvalidDataException(
                            $"case '{c.Id}': module '{m.Name}' names parameter '{p.Qualified}'"
                            + (p.AliasOf is null ? "" : $" (tied to '{p.AliasOf}')")
                            + $", which is not among the case's parameters ({string.Join(", ", c.Params.Select(q => q.Name))}).");
                    parameter.RequiresGrad = p.RequiresGrad;
                    module.RegisterParameter(p.Name, parameter);
                }
            }
            var g0 = c.Groups[0];
            var (b1, b2) = g0.Betas();
            var hyper = c.Hyper;
            var options = new StacOptions
            {
                Lr = hyper.TryGetValue("lr", out var lr) ? TrajectoryReader.ReadNumber(lr) : 1e-3,
                TrunkLr = g0.DoubleOrNull("trunk_lr"),
                CapLr = g0.DoubleOrNull("cap_lr"),
                LastNLayers = hyper.TryGetValue("last_n_layers", out var n) ? n.GetInt32() : 1,
                TrunkMomentum = g0.Double("trunk_momentum"),
                Beta1 = b1,
                Beta2 = b2,
                Eps = g0.Double("eps"),
                WeightDecay = hyper.TryGetValue("weight_decay", out var wd) ? TrajectoryReader.ReadNumber(wd) : 0.0,
                TrunkWeightDecay = g0.DoubleOrNull("trunk_weight_decay"),
                CapWeightDecay = g0.DoubleOrNull("cap_weight_decay"),
                Amsgrad = g0.Bool("amsgrad"),
                Maximize = g0.Bool("maximize"),
                TrunkStateDType = g0.DType("trunk_state_dtype") is { } d ? ToDType(d) : null,
                NonFinitePolicy = g0.Bool("error_if_nonfinite") ? NonFinitePolicy.Throw : NonFinitePolicy.SkipStep,
            };
            return new Stac(root ?? throw new InvalidDataException($"case '{c.Id}': the model tree has no root."), options, path, backend);
        }

        static void Write(Parameter p, double[] values)
        {
            if (values.Length != p.Length) throw new ArgumentException($"'{p.Name}': {values.Length} values for {p.Length} elements.");
            if (p.DType == DType.Float32)
            {
                var span = p.Value<float>();
                for (int i = 0; i < span.Length; i++) span[i] = (float)values[i];
            }
            else values.CopyTo(p.Value<double>());
        }

        public void LoadParams(IReadOnlyList<double[]> values)
        {
            for (int i = 0; i < _params.Length; i++) Write(_params[i], values[i]);
        }

        public void LoadState(IReadOnlyDictionary<int, ParamState> state)
        {
            for (int i = 0; i < _params.Length; i++)
                if (_managed.Contains(_params[i]))
                    _optimizer.ImportUpstreamState(_params[i], state.TryGetValue(i, out var s) ? s : null);
        }

        public void Step(IReadOnlyList<double[]?> grads)
        {
            for (int i = 0; i < _params.Length; i++)
            {
                var p = _params[i];
                if (grads[i] is not { } g) { p.ClearGrad(); continue; }
                if (p.DType == DType.Float32)
                {
                    var span = p.AttachGrad<float>();
                    for (int j = 0; j < span.Length; j++) span[j] = (float)g[j];
                }
                else p.SetGrad<double>(g);
            }
            _optimizer.Step();
        }

        public IReadOnlyList<double[]> Params() => _params.Select(p => p.DType == DType.Float32
            ? Array.ConvertAll(p.Value<float>().ToArray(), x => (double)x)
            : p.Value<double>().ToArray()).ToArray();

        public IReadOnlyDictionary<int, ParamState> State()
        {
            var result = new Dictionary<int, ParamState>();
            for (int i = 0; i < _params.Length; i++)
                if (_managed.Contains(_params[i]) && _optimizer.ExportUpstreamState(_params[i]) is { } s)
                    result[i] = new ParamState(s);
            return result;
        }

        public void Dispose() => _optimizer.Dispose();
    }
}
