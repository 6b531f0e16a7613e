namespace Optimizers;

/// <summary>A trainable layer: a module with at least one own trainable parameter not claimed by an earlier module.</summary>
/// <param name="Name">The module's path (<c>block.0</c>), or <c>&lt;root&gt;</c> for the root's own parameters.</param>
/// <param name="ParameterNames">Fully qualified parameter names, in registration order.</param>
/// <param name="Parameters">The parameters, in the same order.</param>
public sealed record LayerGroup(string Name, IReadOnlyList<string> ParameterNames, IReadOnlyList<Parameter> Parameters);

/// <summary>
/// STAC's split of a model into a sign-momentum trunk and an AdamW cap (upstream 0.1.2 <c>partition_trainable_layers</c>):
/// layers are the modules, in pre-order registration order, that directly own trainable parameters (frozen ones skipped,
/// a tied parameter owned by its first module, the root's own parameters first as <c>&lt;root&gt;</c>); the last
/// <c>lastNLayers</c> layers form the cap, the rest the trunk.
/// </summary>
public sealed class StacPartition
{
    StacPartition(IReadOnlyList<LayerGroup> trunk, IReadOnlyList<LayerGroup> cap)
    {
        TrunkLayers = trunk;
        CapLayers = cap;
    }

    /// <summary>Computes the partition.</summary>
    /// <param name="model">The root module.</param>
    /// <param name="lastNLayers">N, the number of trailing layers in the cap. 0 keeps every layer in the trunk; N ≥ the number of layers puts every layer in the cap. Valid N ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lastNLayers"/> &lt; 0.</exception>
    /// <exception cref="ArgumentException">The model has no trainable parameter.</exception>
    public static StacPartition Create(Module model, int lastNLayers)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (lastNLayers < 0)
            throw new ArgumentOutOfRangeException(nameof(StacOptions.LastNLayers), $"Invalid last_n_layers: {lastNLayers} (expected last_n_layers ≥ 0).");
        var claimed = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var layers = new List<LayerGroup>();
        foreach (var (name, module) in model.NamedModules())
        {
            var names = new List<string>();
            var parameters = new List<Parameter>();
            foreach (var (pname, p) in module.OwnParameters)
            {
                if (!p.RequiresGrad || !claimed.Add(p)) continue;
                names.Add(name.Length == 0 ? pname : $"{name}.{pname}");
                parameters.Add(p);
            }
            if (parameters.Count > 0) layers.Add(new LayerGroup(name.Length == 0 ? "<root>" : name, names, parameters));
        }
        if (layers.Count == 0) throw new ArgumentException("STAC requires at least one trainable parameter.", nameof(model));
        int trunkCount = Math.Max(layers.Count - lastNLayers, 0);
        return new StacPartition(layers.Take(trunkCount).ToArray(), layers.Skip(trunkCount).ToArray());
    }

    /// <summary>Trunk layers, in order.</summary>
    public IReadOnlyList<LayerGroup> TrunkLayers { get; }

    /// <summary>Cap layers, in order.</summary>
    public IReadOnlyList<LayerGroup> CapLayers { get; }

    /// <summary>Names of the trunk layers.</summary>
    public IReadOnlyList<string> TrunkLayerNames => TrunkLayers.Select(l => l.Name).ToArray();

    /// <summary>Names of the cap layers.</summary>
    public IReadOnlyList<string> CapLayerNames => CapLayers.Select(l => l.Name).ToArray();

    /// <summary>Qualified names of the trunk parameters, layer by layer.</summary>
    public IReadOnlyList<string> TrunkParameterNames => TrunkLayers.SelectMany(l => l.ParameterNames).ToArray();

    /// <summary>Qualified names of the cap parameters, layer by layer.</summary>
    public IReadOnlyList<string> CapParameterNames => CapLayers.SelectMany(l => l.ParameterNames).ToArray();

    /// <summary>The trunk parameters, layer by layer.</summary>
    public IReadOnlyList<Parameter> TrunkParameters => TrunkLayers.SelectMany(l => l.Parameters).ToArray();

    /// <summary>The cap parameters, layer by layer.</summary>
    public IReadOnlyList<Parameter> CapParameters => CapLayers.SelectMany(l => l.Parameters).ToArray();

    /// <summary>Both sides non-empty: the trunk's default learning rate is then 0.75·η.</summary>
    public bool IsHybrid => TrunkLayers.Count > 0 && CapLayers.Count > 0;

    internal StacPartitionNames Names => new(TrunkLayerNames, CapLayerNames, TrunkParameterNames, CapParameterNames);
}
