namespace Optimizers;

/// <summary>
/// A node of a model tree, as STAC sees a torch <c>nn.Module</c>: named child modules and named own parameters, both in
/// registration order. A parameter registered on two modules (the same <see cref="Parameter"/> object) is tied: it
/// belongs to the first module that owns it in traversal order. Frozen parameters have <see cref="Parameter.RequiresGrad"/> false.
/// </summary>
/// <example><code>
/// var model = new Module("Net");
/// var stem = model.RegisterModule("stem", new Module("Linear"));
/// stem.RegisterParameter("weight", new Parameter("stem.weight", [4, 4]));
/// var head = model.RegisterModule("head", new Module("Linear"));
/// head.RegisterParameter("weight", new Parameter("head.weight", [1, 4]));
/// </code></example>
public class Module
{
    readonly List<(string Name, Module Module)> _children = [];
    readonly List<(string Name, Parameter Parameter)> _parameters = [];

    /// <summary>Creates an empty module.</summary>
    /// <param name="typeName">A label such as <c>Linear</c>; informational only.</param>
    public Module(string typeName = "Module") => TypeName = typeName;

    /// <summary>The label given at construction.</summary>
    public string TypeName { get; }

    /// <summary>Child modules in registration order.</summary>
    public IReadOnlyList<(string Name, Module Module)> Children => _children;

    /// <summary>This module's own parameters (not its children's) in registration order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> OwnParameters => _parameters;

    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> and returns it.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, contains '.', or is already taken on this module.</exception>
    public TModule RegisterModule<TModule>(string name, TModule child) where TModule : Module
    {
        ArgumentNullException.ThrowIfNull(child);
        CheckName(name);
        _children.Add((name, child));
        return child;
    }

    /// <summary>Registers <paramref name="parameter"/> as this module's own parameter <paramref name="name"/> and returns it.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, contains '.', or is already taken on this module.</exception>
    public Parameter RegisterParameter(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckName(name);
        _parameters.Add((name, parameter));
        return parameter;
    }

    void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.')) throw new ArgumentException($"Invalid name '{name}': a module or parameter name must not contain '.'.", nameof(name));
        if (_children.Any(c => c.Name == name) || _parameters.Any(p => p.Name == name))
            throw new ArgumentException($"Invalid name '{name}': already registered on this {TypeName}.", nameof(name));
    }

    /// <summary>
    /// Every module of the tree, pre-order depth-first in registration order, the root first with name <c>""</c>; a module
    /// reachable under several names is visited once, under the first (torch's <c>named_modules()</c>).
    /// </summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var result = new List<(string, Module)>();
        Visit(this, "", seen, result);
        return result;
    }

    static void Visit(Module m, string name, HashSet<Module> seen, List<(string, Module)> result)
    {
        if (!seen.Add(m)) return;
        result.Add((name, m));
        foreach (var (childName, child) in m._children)
            Visit(child, name.Length == 0 ? childName : $"{name}.{childName}", seen, result);
    }
}
