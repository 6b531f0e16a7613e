using Optimizers.KernelCheck;
using Optimizers.Kernels;

namespace Optimizers.Tests.Kernels;

/// <summary>
/// Every path (SIMD at the machine's widest width, threads, auto) gives the scalar kernel's bits, for every length
/// 0..256 (every remainder of every vector width), large ragged lengths, every dtype pair and option, with special
/// values (NaN, ±∞, ±0, subnormals, exact zero gradients) at random indices and segments at non-zero offsets in
/// padded arenas, so an element written outside the segment or left unwritten shows up as a difference.
/// </summary>
public class KernelPathEquivalenceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in KernelCase.All()) data.Add(c.ToString());
        return data;
    }

    internal static KernelCase Find(string name) => KernelCase.All().Single(c => c.ToString() == name);

    static readonly KernelPath[] VectorPaths = [KernelPath.Simd, KernelPath.Threads, KernelPath.Auto];

    internal static void AssertSameAsScalar(KernelCase c, int length, int seed, KernelPath[] paths, int paramOffset = 3, int stateOffset = 7, double specialRate = 0.06)
    {
        var inputs = KernelScenario.Prepare(c, length, seed, paramOffset, stateOffset, specialRate);
        var expected = KernelScenario.Execute(inputs, KernelPath.Scalar);
        foreach (var path in paths)
        {
            string? difference = KernelScenario.FirstDifference(expected, KernelScenario.Execute(inputs, path));
            Assert.True(difference is null, $"{c}, length {length}, seed {seed}, offsets {paramOffset}/{stateOffset}, {path} ({KernelInfo.Describe()}): {difference}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_length_up_to_256_matches_the_scalar_kernel(string name)
    {
        var c = Find(name);
        for (int length = 0; length <= 256; length++)
            AssertSameAsScalar(c, length, seed: length * 31 + 1, VectorPaths);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_large_ragged_length_matches_the_scalar_kernel(string name)
    {
        var c = Find(name);
        AssertSameAsScalar(c, 100_003, seed: 7, VectorPaths, paramOffset: 1, stateOffset: 13);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_million_elements_on_threads_match_the_scalar_kernel(string name)
    {
        var c = Find(name);
        // Auto splits this length across threads too (more than 2^16 elements per thread on two cores).
        AssertSameAsScalar(c, 1_000_001, seed: 11, [KernelPath.Threads, KernelPath.Auto], paramOffset: 64, stateOffset: 9, specialRate: 0.01);
    }

    [Fact]
    public void Threaded_calls_from_many_pool_threads_at_once_match_the_scalar_kernel()
    {
        // Every caller has its own dispatcher and jobs, and runs the chunks no pool thread picked up, so a saturated
        // pool neither mixes calls up nor stalls them.
        KernelCase[] cases = [.. KernelCase.All()];
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            AssertSameAsScalar(cases[i * 7 % cases.Length], 20_000 + i, seed: i, [KernelPath.Threads]));
    }
}
