using System.Text.Json;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;

namespace Optimizers.Conformance.Tests;

/// <summary>An implementation that returns the recorded values themselves: the replayer must find zero error.</summary>
internal class EchoImplementation(string name = "echo") : IImplementation
{
    public string Name => name;

    public virtual bool Supports(TrajectoryCase trajectoryCase, out string? reason)
    {
        reason = Name == "refusing" ? "no module trees here" : null;
        return reason is null;
    }

    public IReplaySession Start(TrajectoryCase trajectoryCase) => new Session(trajectoryCase, this);

    public virtual ErrorOutcome Replay(ErrorRecord record) =>
        new(record.Exception, UpstreamMessages.ArgumentOf(record), record.Message);

    /// <summary>Lets a derived fake change what the session reports.</summary>
    protected virtual void Alter(int step, List<double[]> parameters, Dictionary<int, ParamState> state) { }

    sealed class Session(TrajectoryCase c, EchoImplementation owner) : IReplaySession
    {
        int taken;
        List<double[]> parameters = c.Params.Select(p => (double[])p.Init.Clone()).ToList();
        Dictionary<int, ParamState> state = new();

        public void LoadParams(IReadOnlyList<double[]> values) { }
        public void LoadState(IReadOnlyDictionary<int, ParamState> values) { }

        public void Step(IReadOnlyList<double[]?> grads)
        {
            var record = c.Steps[taken];
            parameters = record.ParamsAfter.Select(p => (double[])p.Clone()).ToList();
            state = record.State.ToDictionary(kv => kv.Key,
                kv => new ParamState(kv.Value.ToDictionary(b => b.Key, b => (double[])b.Value.Clone())));
            owner.Alter(taken, parameters, state);
            taken++;
        }

        public IReadOnlyList<double[]> Params() => parameters;
        public IReadOnlyDictionary<int, ParamState> State() => state;
        public void Dispose() { }
    }
}

/// <summary>The echo with one element changed: the replayer must fail there and say where.</summary>
internal sealed class PerturbingImplementation(int step, string buffer, int index, Func<double, double> change, string name = "perturbed")
    : EchoImplementation(name)
{
    protected override void Alter(int taken, List<double[]> parameters, Dictionary<int, ParamState> state)
    {
        if (taken != step) return;
        if (buffer.StartsWith("params[", StringComparison.Ordinal))
        {
            int p = int.Parse(buffer[7..^1]);
            parameters[p][index] = change(parameters[p][index]);
            return;
        }
        // state[i].name
        int close = buffer.IndexOf(']');
        int param = int.Parse(buffer[6..close]);
        var name = buffer[(close + 2)..];
        state[param][name][index] = change(state[param][name][index]);
    }
}

/// <summary>Small hand-built trajectory cases for the tolerance model's unit tests.</summary>
internal static class Synthetic
{
    public static JsonElement Json(object? value) => JsonSerializer.SerializeToElement(value);

    public static RecordedGroup Group(int[] indices, params (string Key, object? Value)[] options) =>
        new(indices, options.ToDictionary(o => o.Key, o => Json(o.Value)));

    public static TrajectoryCase Case(string optimizer, RecordedDType dtype, IReadOnlyList<double[]> init, IReadOnlyList<RecordedGroup> groups,
        params IReadOnlyList<double[]?>[] grads) =>
        new($"synthetic-{optimizer}", null, optimizer, 0, new Dictionary<string, JsonElement>(), groups, dtype,
            init.Select((v, i) => new RecordedParam($"p{i}", [v.Length], v)).ToList(), null, null,
            grads.Select(g => new RecordedStep(g, init, new Dictionary<int, ParamState>(), new Dictionary<string, JsonElement>())).ToList());
}
