using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Replay;

/// <summary>
/// Something the replayer and the lockstep runner can drive: the F# reference, or one path of the
/// production library. Values cross this boundary as float64 arrays; float32 values are exact in them.
/// </summary>
public interface IImplementation
{
    /// <summary>The name used by <c>--impl</c>: <c>reference</c>, <c>production</c>, <c>production:scalar</c>, ...</summary>
    string Name { get; }

    /// <summary>Whether this implementation can run the case; <paramref name="reason"/> says why not (it must also be written in paper-notes).</summary>
    bool Supports(TrajectoryCase trajectoryCase, out string? reason);

    /// <summary>Builds the optimizer from the case's resolved groups (and model tree for STAC) and loads the initial parameters.</summary>
    IReplaySession Start(TrajectoryCase trajectoryCase);

    /// <summary>Replays one recorded bad-input record and reports what happened.</summary>
    ErrorOutcome Replay(ErrorRecord record);
}

/// <summary>A live optimizer under replay.</summary>
public interface IReplaySession : IDisposable
{
    /// <summary>Overwrites every parameter (teacher forcing). Values are in the case's parameter dtype.</summary>
    void LoadParams(IReadOnlyList<double[]> values);

    /// <summary>
    /// Overwrites the optimizer state with recorded state in upstream's vocabulary (teacher forcing).
    /// A parameter index absent from <paramref name="state"/> has no state yet (lazy creation).
    /// </summary>
    void LoadState(IReadOnlyDictionary<int, ParamState> state);

    /// <summary>Sets the gradients (<c>null</c> = no gradient this step) and takes one step.</summary>
    void Step(IReadOnlyList<double[]?> grads);

    /// <summary>Every parameter, flat, row-major.</summary>
    IReadOnlyList<double[]> Params();

    /// <summary>The optimizer state in upstream's vocabulary, keyed by parameter index, only for parameters that have state.</summary>
    IReadOnlyDictionary<int, ParamState> State();
}

/// <summary>What an implementation did with a bad-input record.</summary>
/// <param name="Kind">The upstream exception kind this maps to (<c>ValueError</c>, <c>TypeError</c>, <c>RuntimeError</c>), or <c>null</c> when the input was accepted.</param>
/// <param name="Argument">The argument the error names (upstream spelling), when it names one.</param>
/// <param name="Message">The message that was raised.</param>
/// <param name="Unsupported">Set when the record cannot be expressed against this implementation; the reason.</param>
public sealed record ErrorOutcome(string? Kind, string? Argument, string? Message, string? Unsupported = null)
{
    public static ErrorOutcome Accepted { get; } = new(null, null, null);
    public static ErrorOutcome NotExpressible(string reason) => new(null, null, null, reason);
}
