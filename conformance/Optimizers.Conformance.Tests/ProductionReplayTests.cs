using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// Production replays conformance/golden/upstream-public.json bit for bit: every parameter and every recorded state buffer
/// after every step, teacher-forced (recorded parameters and state loaded before each step) and free-running from init.
/// </summary>
public class ProductionReplayTests
{
    static readonly Lazy<TrajectoryFile> Golden = new(() => TrajectoryReader.Read(GoldenPath()));

    internal static string GoldenPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "conformance", "golden", "upstream-public.json");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("conformance/golden/upstream-public.json not found above " + AppContext.BaseDirectory);
    }

    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Golden.Value.Cases) data.Add(c.Id);
        return data;
    }

    [Fact]
    public void The_golden_file_has_the_41_public_cases()
        => Assert.Equal(41, Golden.Value.Cases.Count);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Teacher_forced_replay_is_bit_exact(string id) => Replay(id, teacherForced: true, KernelPath.Auto);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Free_running_replay_is_bit_exact(string id) => Replay(id, teacherForced: false, KernelPath.Auto);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Scalar_path_replay_is_bit_exact(string id) => Replay(id, teacherForced: true, KernelPath.Scalar);

    // Every path must give the scalar kernel's bits; these hold the SIMD and threaded paths to the golden file too.
    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Simd_path_replay_is_bit_exact(string id) => Replay(id, teacherForced: true, KernelPath.Simd);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Threads_path_replay_is_bit_exact(string id) => Replay(id, teacherForced: true, KernelPath.Threads);

    static void Replay(string id, bool teacherForced, KernelPath path)
        => Replay(Case(id), teacherForced, path);

    internal static TrajectoryCase Case(string id) => Golden.Value.Cases.Single(x => x.Id == id);

    /// <summary>Replays one case and asserts every parameter and recorded state buffer after every step, bit for bit.</summary>
    internal static void Replay(TrajectoryCase c, bool teacherForced, KernelPath path) => Replay(c, teacherForced, new ProductionImplementation(path));

    /// <summary>Replays one case through <paramref name="impl"/> (a CPU path or an accelerator) and asserts every parameter and recorded state buffer after every step, bit for bit.</summary>
    internal static void Replay(TrajectoryCase c, bool teacherForced, ProductionImplementation impl)
    {
        string id = c.Id;
        Assert.True(impl.Supports(c, out var reason), reason);
        using var session = impl.Start(c);
        bool float32 = c.ParamDType == RecordedDType.Float32;
        for (int s = 0; s < c.Steps.Count; s++)
        {
            var step = c.Steps[s];
            if (teacherForced)
            {
                session.LoadParams(s == 0 ? c.Params.Select(p => p.Init).ToList() : c.Steps[s - 1].ParamsAfter);
                session.LoadState(s == 0 ? new Dictionary<int, ParamState>() : c.Steps[s - 1].State);
            }
            session.Step(step.Grads);
            var actual = session.Params();
            for (int p = 0; p < c.Params.Count; p++)
                AssertBits(id, s, $"param {p} ({c.Params[p].Name})", step.ParamsAfter[p], actual[p], float32);
            var state = session.State();
            Assert.True(step.State.Keys.OrderBy(k => k).SequenceEqual(state.Keys.OrderBy(k => k)),
                $"{id} step {s}: state held for parameters [{string.Join(",", state.Keys.OrderBy(k => k))}], upstream [{string.Join(",", step.State.Keys.OrderBy(k => k))}]");
            foreach (var (index, expected) in step.State)
            {
                var got = state[index];
                foreach (var (key, values) in expected)
                {
                    Assert.True(got.TryGetValue(key, out var actualValues), $"{id} step {s}: param {index} lacks state '{key}'");
                    AssertBits(id, s, $"state {index}.{key}", values, actualValues!, float32: false);
                }
            }
        }
    }

    /// <summary>float64 bits, or float32 bits for float32 data; any NaN equals any NaN (torch does not specify payloads).</summary>
    static void AssertBits(string id, int step, string what, double[] expected, double[] actual, bool float32)
    {
        Assert.True(expected.Length == actual.Length, $"{id} step {step} {what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool same = double.IsNaN(e) ? double.IsNaN(a)
                : float32 ? BitConverter.SingleToInt32Bits((float)e) == BitConverter.SingleToInt32Bits((float)a)
                : BitConverter.DoubleToInt64Bits(e) == BitConverter.DoubleToInt64Bits(a);
            Assert.True(same, $"{id} step {step} {what}[{i}]: expected {e:R}, actual {a:R} ({(float32 ? "float32" : "float64")} bits differ)");
        }
    }
}
