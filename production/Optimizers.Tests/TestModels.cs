namespace Optimizers.Tests;

/// <summary>Small models and helpers shared by the tests (the upstream test suites' helper models rebuilt as module trees).</summary>
internal static class TestModels
{
    /// <summary>upstream StackedNet: stem Linear(4,4), block Sequential(Linear(4,3), ReLU, Linear(3,2)), head Linear(2,1).</summary>
    public static Module StackedNet(DType dtype = DType.Float64, bool headFrozen = false)
    {
        var root = new Module("StackedNet");
        Linear(root, "stem", 4, 4, dtype);
        var block = root.RegisterModule("block", new Module("Sequential"));
        Linear(block, "0", 4, 3, dtype);
        block.RegisterModule("1", new Module("ReLU"));
        Linear(block, "2", 3, 2, dtype);
        var head = Linear(root, "head", 2, 1, dtype);
        if (headFrozen)
            foreach (var (_, p) in head.OwnParameters) p.RequiresGrad = false;
        return root;
    }

    /// <summary>upstream TwoLayerNet: trunk Linear(1,1,bias=False), head Linear(1,1,bias=False), weights set to <paramref name="weight"/>.</summary>
    public static (Module Model, Parameter Trunk, Parameter Head) TwoLayerNet(double weight = 1.0)
    {
        var root = new Module("TwoLayerNet");
        var trunk = root.RegisterModule("trunk", new Module("Linear")).RegisterParameter("weight", Parameter.Create("trunk.weight", [weight], 1, 1));
        var head = root.RegisterModule("head", new Module("Linear")).RegisterParameter("weight", Parameter.Create("head.weight", [weight], 1, 1));
        return (root, trunk, head);
    }

    public static Module Linear(Module parent, string name, int inFeatures, int outFeatures, DType dtype, bool bias = true, int seed = 0)
    {
        var m = parent.RegisterModule(name, new Module("Linear"));
        var w = m.RegisterParameter("weight", new Parameter($"{name}.weight", [outFeatures, inFeatures], dtype));
        Fill(w, new Random(seed + name.Sum(c => c) * 31 + inFeatures));
        if (bias) Fill(m.RegisterParameter("bias", new Parameter($"{name}.bias", [outFeatures], dtype)), new Random(seed + 1));
        return m;
    }

    public static void Fill(Parameter p, Random rng, double scale = 1.0)
    {
        if (p.DType == DType.Float32) { var s = p.Value<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)(scale * (rng.NextDouble() * 2 - 1)); }
        else { var s = p.Value<double>(); for (int i = 0; i < s.Length; i++) s[i] = scale * (rng.NextDouble() * 2 - 1); }
    }

    /// <summary>Attaches a gradient with magnitudes spread over several decades, some exact zeros and sign flips.</summary>
    public static void RandomGrad(Parameter p, Random rng)
    {
        if (p.DType == DType.Float32)
        {
            var g = p.AttachGrad<float>();
            for (int i = 0; i < g.Length; i++) g[i] = (float)Sample(rng);
        }
        else
        {
            var g = p.AttachGrad<double>();
            for (int i = 0; i < g.Length; i++) g[i] = Sample(rng);
        }
    }

    static double Sample(Random rng)
    {
        if (rng.Next(16) == 0) return 0.0;
        double magnitude = Math.Pow(10, rng.NextDouble() * 6 - 4);
        return rng.Next(2) == 0 ? magnitude : -magnitude;
    }

    public static void SetGrad(Parameter p, params double[] g)
    {
        if (p.DType == DType.Float32) p.SetGrad<float>(Array.ConvertAll(g, x => (float)x));
        else p.SetGrad<double>(g);
    }

    public static double[] Values(Parameter p) => p.DType == DType.Float32
        ? Array.ConvertAll(p.Value<float>().ToArray(), x => (double)x)
        : p.Value<double>().ToArray();

    public static long[] Bits(Parameter p) => Array.ConvertAll(Values(p), BitConverter.DoubleToInt64Bits);

    /// <summary>Every value and state bit of an optimizer: parameters and every buffer and counter of its state dict.</summary>
    public static List<long> Fingerprint(Optimizer optimizer, IEnumerable<Parameter> parameters)
    {
        var bits = new List<long>();
        foreach (var p in parameters) bits.AddRange(Bits(p));
        var state = optimizer.StateDict();
        bits.Add(state.NonFiniteSkippedSteps);
        foreach (var g in state.Groups)
            foreach (var ps in g.Parameters)
            {
                if (ps is null) { bits.Add(-1); continue; }
                bits.Add(BitConverter.DoubleToInt64Bits(ps.Step));
                bits.Add(BitConverter.DoubleToInt64Bits(ps.Beta1Power ?? -2));
                bits.Add(BitConverter.DoubleToInt64Bits(ps.Beta2Power ?? -2));
                foreach (var (name, t) in ps.Buffers.OrderBy(b => b.Key, StringComparer.Ordinal))
                {
                    bits.Add(name.GetHashCode(StringComparison.Ordinal));
                    bits.AddRange(t.ToDoubles().Select(BitConverter.DoubleToInt64Bits));
                }
            }
        return bits;
    }

    public static List<Parameter> AllParameters(Optimizer o)
        => Enumerable.Range(0, o.GroupCount).SelectMany(o.GroupParameters).ToList();
}
