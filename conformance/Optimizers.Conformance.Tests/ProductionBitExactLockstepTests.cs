using Optimizers.Accelerators.Cuda;
using Optimizers.Conformance.Cases;
using Optimizers.Conformance.Implementations;
using Optimizers.Conformance.Lockstep;
using Optimizers.Conformance.Replay;
using Optimizers.Conformance.Trajectories;
using Optimizers.Kernels;
using Xunit.Abstractions;

namespace Optimizers.Conformance.Tests;

/// <summary>
/// What the bit-exact rows of <c>run</c> check, as theories over the same registry: every production path other than
/// the scalar kernel steps free-running beside <c>production:scalar</c> and must hold equal bits in every parameter and
/// state buffer after every step (NaN matched by class, paper-notes/backends.md).
/// </summary>
public sealed class ProductionBitExactLockstepTests(ITestOutputHelper output)
{
    static readonly ProductionImplementation Scalar = new(KernelPath.Scalar);

    public static TheoryData<string, string> CpuPathsByCase()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in CaseRegistry.All)
            foreach (var path in new[] { "production", "production:simd", "production:threads" })
                data.Add(c.Id, path);
        return data;
    }

    public static TheoryData<string> RegistryIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in CaseRegistry.All) data.Add(c.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(CpuPathsByCase))]
    public void Every_cpu_path_is_bit_identical_to_the_scalar_kernel(string id, string path) =>
        AssertBitIdentical(id, ProductionImplementation.FromName(path)!);

    [OpenClReplayTheory]
    [MemberData(nameof(RegistryIds))]
    public void Opencl_is_bit_identical_to_the_scalar_kernel(string id) =>
        AssertBitIdentical(id, ProductionImplementation.FromName("production:opencl")!);

    // Without a driver nothing can run: every case must say so with the backend's reason, never pass having checked nothing.
    [Fact]
    public void Cuda_is_bit_identical_to_the_scalar_kernel_or_every_case_says_why_not()
    {
        var cuda = ProductionImplementation.FromName("production:cuda")!;
        foreach (var spec in CaseRegistry.All)
        {
            var result = LockstepRunner.RunBitExact(spec.Build(), Scalar, cuda);
            if (CudaKernelBackend.Availability.IsAvailable)
                Assert.True(result.Verdict == Verdict.Pass, $"{spec.Id}: {result.Reason} {result.FirstFailure}");
            else
            {
                Assert.Equal(Verdict.Unsupported, result.Verdict);
                Assert.Contains(CudaKernelBackend.Availability.Reason!, result.Reason);
            }
        }
    }

    [Fact]
    public void One_ulp_in_one_state_element_at_one_step_fails_and_is_located()
    {
        var c = CaseRegistry.Get("adamw_f32_decades").Build();
        var tweaked = new Tweaked(Scalar, step: 3, (_, state) =>
        {
            var v = state[1]["exp_avg_sq"];
            v[2] = MathF.BitIncrement((float)v[2]);
        });
        var result = LockstepRunner.RunBitExact(c, Scalar, tweaked);
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal(3, result.FirstFailure!.Step);
        Assert.Equal("state[1].exp_avg_sq", result.FirstFailure.Buffer);
        Assert.Equal(2, result.FirstFailure.Index);
    }

    [Fact]
    public void Minus_zero_for_plus_zero_fails()
    {
        // Element 1 of this case's gradient is exactly zero every step, so its first moment is +0 after step 0.
        var c = CaseRegistry.Get("adamsrf_eps0_zero_gradients_f32").Build();
        double seen = double.NaN;
        var tweaked = new Tweaked(Scalar, step: 0, (_, state) =>
        {
            var m = state[0]["exp_avg"];
            seen = m[1];
            m[1] = -m[1];
        });
        var result = LockstepRunner.RunBitExact(c, Scalar, tweaked);
        Assert.Equal(0L, BitConverter.DoubleToInt64Bits(seen));
        Assert.Equal(Verdict.Fail, result.Verdict);
        Assert.Equal("state[0].exp_avg", result.FirstFailure!.Buffer);
    }

    [Fact]
    public void A_nan_of_another_sign_and_payload_matches()
    {
        var c = CaseRegistry.Get("adamw_nonfinite_gradients_propagate").Build();
        var reference = new Tweaked(Scalar, step: -1, (_, _) => { });
        var flipped = new Tweaked(Scalar, step: -1, (parameters, state) =>
        {
            foreach (var buffer in parameters.Concat(state.Values.SelectMany(s => s.Values)))
                for (int i = 0; i < buffer.Length; i++)
                    if (double.IsNaN(buffer[i])) buffer[i] = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(buffer[i]) ^ unchecked((long)0x8000_0000_0000_0001UL));
        }, everyStep: true);
        var result = LockstepRunner.RunBitExact(c, reference, flipped);
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
        var plain = Scalar.Start(c);
        foreach (var s in c.Steps) plain.Step(s.Grads);
        Assert.Contains(plain.Params().SelectMany(p => p), double.IsNaN); // the case really carries NaN to compare
        plain.Dispose();
    }

    void AssertBitIdentical(string id, IImplementation candidate)
    {
        var result = LockstepRunner.RunBitExact(CaseRegistry.Get(id).Build(), Scalar, candidate);
        output.WriteLine($"{id} {candidate.Name}: {result.Verdict}, {result.Steps} steps, max {result.MaxUlp:G3} ulp");
        Assert.True(result.Verdict == Verdict.Pass, $"{result.Reason} {result.FirstFailure}");
    }

    /// <summary>A production path whose reported values are altered after a chosen step (or every step).</summary>
    sealed class Tweaked(IImplementation inner, int step, Action<List<double[]>, Dictionary<int, ParamState>> alter,
        bool everyStep = false) : IImplementation
    {
        int Step { get; } = step;
        Action<List<double[]>, Dictionary<int, ParamState>> Alter { get; } = alter;
        bool EveryStep { get; } = everyStep;

        public string Name => inner.Name + "+tweaked";
        public bool Supports(TrajectoryCase c, out string? reason) => inner.Supports(c, out reason);
        public ErrorOutcome Replay(ErrorRecord record) => inner.Replay(record);
        public IReplaySession Start(TrajectoryCase c) => new Session(inner.Start(c), this);

        sealed class Session(IReplaySession inner, Tweaked owner) : IReplaySession
        {
            int taken = -1;
            public void LoadParams(IReadOnlyList<double[]> values) => inner.LoadParams(values);
            public void LoadState(IReadOnlyDictionary<int, ParamState> state) => inner.LoadState(state);
            public void Step(IReadOnlyList<double[]?> grads) { inner.Step(grads); taken++; }

            (List<double[]>, Dictionary<int, ParamState>) Current()
            {
                var parameters = inner.Params().Select(p => (double[])p.Clone()).ToList();
                var state = inner.State().ToDictionary(kv => kv.Key,
                    kv => new ParamState(kv.Value.ToDictionary(b => b.Key, b => (double[])b.Value.Clone())));
                if (owner.EveryStep || taken == owner.Step) owner.Alter(parameters, state);
                return (parameters, state);
            }

            public IReadOnlyList<double[]> Params() => Current().Item1;
            public IReadOnlyDictionary<int, ParamState> State() => Current().Item2;
            public void Dispose() => inner.Dispose();
        }
    }
}
