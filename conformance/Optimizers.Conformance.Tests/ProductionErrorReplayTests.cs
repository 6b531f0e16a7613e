using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>Every recorded bad-input record replayed through production raises the same kind of error for the same argument.</summary>
public class ProductionErrorReplayTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(ProductionReplayTests.GoldenPath()));

    // Records production cannot or deliberately does not express, each with its reason in paper-notes/deviations.md.
    static readonly HashSet<string> Inexpressible = new(StringComparer.Ordinal)
    {
        "HomeAdam_closure_returns_loss",               // Step() takes no closure
        "STAC_params_iterable_instead_of_model",       // a type error in C#, not a runtime error
        "HomeAdam_group_tau_negative_not_validated",   // production validates group options
        "HomeAdamEW_group_tau_negative_not_validated",
        "AdamSRF_lr_nan_accepted",                     // production rejects NaN options
        "HomeAdam_lr_nan_accepted",
        "HomeAdamEW_lr_nan_accepted",
        "HomeAdam_tau_nan_accepted",
        "HomeAdamEW_tau_nan_accepted",
        "STAC_lr_nan_accepted",
    };

    public static TheoryData<string> ErrorIds()
    {
        var data = new TheoryData<string>();
        foreach (var e in Golden.Value.Errors) data.Add(e.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(ErrorIds))]
    public void Production_raises_what_upstream_raised(string id)
    {
        var record = Golden.Value.Errors.Single(e => e.Id == id);
        var outcome = new ProductionImplementation().Replay(record);
        if (Inexpressible.Contains(id))
        {
            Assert.NotNull(outcome.Unsupported);
            return;
        }
        Assert.Null(outcome.Unsupported);
        Assert.True(record.Exception == outcome.Kind, $"{id}: upstream {record.Exception ?? "accepted"} ({record.Message}), production {outcome.Kind ?? "accepted"} ({outcome.Message})");
        if (record.Exception is not null)
            Assert.Equal(UpstreamKwargs.ArgumentNamedBy(record.Message), outcome.Argument);
        // A RuntimeError carries no argument to compare, so the kind alone would let any deliberate runtime error stand in
        // for another: production's message must name the same cause upstream's does.
        if (record.Exception == "RuntimeError" && record.Message is { } upstreamMessage)
        {
            var cause = RuntimeCauses.FirstOrDefault(c => upstreamMessage.Contains(c.Upstream, StringComparison.OrdinalIgnoreCase));
            Assert.True(cause.Production is not null, $"{id}: no known cause for upstream's RuntimeError '{upstreamMessage}'");
            Assert.Contains(cause.Production, outcome.Message ?? "", StringComparison.OrdinalIgnoreCase);
        }
    }

    // Upstream's RuntimeError causes and the fragment production's message uses for the same cause.
    static readonly (string Upstream, string Production)[] RuntimeCauses =
    [
        ("sparse gradients", "sparse gradients"),
        ("non-finite gradients", "non-finite gradients"),
        ("add_param_group", "AddParamGroup"),
        ("amin", "no elements"),
    ];
}
