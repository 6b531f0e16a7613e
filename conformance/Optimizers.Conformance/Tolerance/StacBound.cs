using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tolerance;

/// <summary>
/// STAC (0.1.2 API with 0.1.4's trunk_state_dtype and skip-on-non-finite): the trunk group through
/// <see cref="StacTrunkBound"/>, the cap group through <see cref="AdamWBound"/> (the cap is torch's AdamW).
/// A non-finite gradient anywhere skips the whole step when <c>error_if_nonfinite</c> is off (0.1.3 and later).
/// </summary>
public static class StacBound
{
    public static StepBounds Step(TrajectoryCase c, BoundState before, IReadOnlyList<double[]?> grads, ErrorBudget budget)
    {
        var parameters = before.Params.ToList();
        var state = before.State.ToDictionary(kv => kv.Key, kv => kv.Value);
        var bounds = new StepBounds(new BoundState(parameters, state));

        bool anyNonFinite = c.Groups.SelectMany(g => g.WithGradient(grads)).Any(i => grads[i]!.Any(x => !double.IsFinite(x)));
        bool raises = c.Groups.Any(g => g.Bool("error_if_nonfinite"));
        if (anyNonFinite && !raises)
        {
            bounds.Skipped = true;
            foreach (var (index, buffers) in state)
                foreach (var name in buffers.Keys)
                    bounds.StateDTypes[(index, name)] = DTypeOf(c, index, name);
            return bounds;
        }

        foreach (var group in c.Groups)
        {
            var role = group.String("stac_role");
            foreach (var index in group.WithGradient(grads))
            {
                switch (role)
                {
                    case "trunk":
                        parameters[index] = StacTrunkBound.StepParameter(index, parameters[index], before.StateOf(index), grads[index]!,
                            StacTrunkBound.From(group, c.ParamDType), c.ParamDType, budget, bounds, state);
                        break;
                    case "cap":
                        var (theta, buffers) = AdamWBound.StepParameter(parameters[index], before.StateOf(index), grads[index]!,
                            CapOptions(group), c.ParamDType, budget);
                        parameters[index] = theta;
                        state[index] = buffers;
                        AdamWBound.DeclareDTypes(bounds, index, buffers, c.ParamDType);
                        break;
                    default:
                        throw new InvalidDataException($"Unexpected STAC parameter group role: '{role}'.");
                }
            }
        }
        return bounds;
    }

    static AdamWBound.Options CapOptions(RecordedGroup g) => new(
        g.Number("lr", 1e-3),
        g.BetasOr((0.9, 0.999)).Beta1,
        g.BetasOr((0.9, 0.999)).Beta2,
        g.Number("eps", 1e-8),
        g.Number("weight_decay", 0.0),
        g.Bool("amsgrad"),
        g.Bool("maximize"));

    static RecordedDType DTypeOf(TrajectoryCase c, int index, string buffer)
    {
        if (buffer == "step") return RecordedDType.Float64;
        if (buffer != "trunk_momentum_buffer") return c.ParamDType;
        var group = c.Groups.FirstOrDefault(g => g.ParamIndices.Contains(index));
        return group is null ? c.ParamDType : group.StateDType("trunk_state_dtype", c.ParamDType, null);
    }
}
