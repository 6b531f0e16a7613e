using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// A hand-written or hidden trajectory file may carry a module tree that names a parameter the case does not list. Both
/// adapters must say which case, module and parameter, not fail with a bare dictionary lookup.
/// </summary>
public sealed class ModuleTreeValidationTests
{
    public static TheoryData<string> Adapters() => new() { "reference", "production:scalar" };

    static IImplementation Create(string name) =>
        name == "reference" ? new ReferenceImplementation() : new ProductionImplementation(KernelPath.Scalar);

    [Theory]
    [MemberData(nameof(Adapters))]
    public void A_module_naming_an_unknown_parameter_is_refused_with_case_module_and_parameter(string adapter)
    {
        var c = CaseRegistry.Get("stac_two_layers_default").Build();
        var model = c.Model!.Select(m => m.Name == "1"
            ? m with { Params = m.Params.Select(p => p.Name == "bias" ? p with { Qualified = "1.bais" } : p).ToList() }
            : m).ToList();
        var broken = c with { Model = model };

        var e = Assert.Throws<InvalidDataException>(() => { using var _ = Create(adapter).Start(broken); });
        Assert.Contains("'stac_two_layers_default'", e.Message);
        Assert.Contains("module '1'", e.Message);
        Assert.Contains("'1.bais'", e.Message);
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public void A_tied_parameter_pointing_at_an_unknown_owner_is_refused_naming_both(string adapter)
    {
        var c = CaseRegistry.Get("stac_nested_frozen_tied_root").Build();
        var model = c.Model!.Select(m => m.Name == "head"
            ? m with { Params = m.Params.Select(p => p.AliasOf is null ? p : p with { AliasOf = "embed.wieght" }).ToList() }
            : m).ToList();
        var broken = c with { Model = model };

        var e = Assert.Throws<InvalidDataException>(() => { using var _ = Create(adapter).Start(broken); });
        Assert.Contains("'stac_nested_frozen_tied_root'", e.Message);
        Assert.Contains("module 'head'", e.Message);
        Assert.Contains("'head.weight'", e.Message);
        Assert.Contains("'embed.wieght'", e.Message);
    }
}
