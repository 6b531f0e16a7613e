using System.Reflection;
using Optimizers.Conformance.Replay;

namespace Optimizers.Conformance.Implementations;

/// <summary>
/// The implementations the harness can drive, by <c>--impl</c> name. Adapters in this namespace with a public
/// parameterless constructor are found on their own (the reference and production adapters land here);
/// <c>Add</c> registers anything else (accelerator backends, test doubles).
/// </summary>
public sealed class ImplementationRegistry
{
    public sealed record Entry(string Name, string Description, Func<IImplementation> Create);

    readonly List<Entry> entries = new();

    public IReadOnlyList<Entry> Entries => entries;

    /// <summary>Adapters that were found but could not be created, with the reason: printed, never silently dropped.</summary>
    public List<string> Problems { get; } = new();

    public void Add(string name, string description, Func<IImplementation> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (Find(name) is not null) throw new ArgumentException($"An implementation named '{name}' is already registered.", nameof(name));
        entries.Add(new Entry(name, description, create));
    }

    public void Add(IImplementation implementation, string description) => Add(implementation.Name, description, () => implementation);

    public Entry? Find(string name) => entries.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Names matching a pattern: exact, or a prefix before ':' (<c>production</c> selects <c>production:simd</c> too).</summary>
    public IReadOnlyList<Entry> Select(string? pattern) => pattern is null
        ? entries
        : entries.Where(e => string.Equals(e.Name, pattern, StringComparison.OrdinalIgnoreCase)
                             || e.Name.StartsWith(pattern + ":", StringComparison.OrdinalIgnoreCase)).ToList();

    public static ImplementationRegistry CreateDefault()
    {
        var registry = new ImplementationRegistry();
        foreach (var type in Discoverable())
        {
            object instance;
            try { instance = Activator.CreateInstance(type)!; }
            catch (TargetInvocationException e)
            {
                registry.Problems.Add($"{type.Name} could not be created: {e.InnerException?.Message ?? e.Message}");
                continue;
            }
            var members = instance is IImplementationFamily family ? family.Members() : [(IImplementation)instance];
            foreach (var member in members)
                if (registry.Find(member.Name) is null)
                    registry.Add(member, Describe(member));
        }
        return registry;
    }

    static IEnumerable<Type> Discoverable() =>
        typeof(ImplementationRegistry).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true }
                        && t.Namespace == typeof(ImplementationRegistry).Namespace
                        && (typeof(IImplementation).IsAssignableFrom(t) || typeof(IImplementationFamily).IsAssignableFrom(t))
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            // The reference first, production next, the model last: the order of the results table.
            .OrderBy(t => t.Name.StartsWith("Reference", StringComparison.Ordinal) ? 0 : t.Name.StartsWith("Production", StringComparison.Ordinal) ? 1 : 2)
            .ThenBy(t => t.Name, StringComparer.Ordinal);

    static string Describe(IImplementation implementation) => implementation switch
    {
        ToleranceModelImplementation => "the tolerance model's own float64 evaluation of upstream's formulas (a self-check of the model)",
        _ when implementation.Name.StartsWith("production", StringComparison.Ordinal) => "production library path, compared bit for bit",
        _ when implementation.Name == "reference" => "F# reference, float64, compared under the tolerance model",
        _ => implementation.GetType().Name,
    };
}
