using System.Security.Cryptography;
using Optimizers.Kernels;
using Optimizers.KernelCheck;

// Prints, per kernel path, a SHA-256 of every buffer and return value of every case over fixed seeds and lengths,
// then the vector width that ran. Arguments name the paths to run (default: all four). A parent process runs this under DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 and
// DOTNET_EnableHWIntrinsic=0 and compares the hashes with its own scalar run.
KernelPath[] paths = args.Length > 0 ? [.. args.Select(Enum.Parse<KernelPath>)] : [KernelPath.Scalar, KernelPath.Simd, KernelPath.Threads, KernelPath.Auto];
foreach (KernelPath path in paths)
    Console.WriteLine($"{path} {KernelCheckHash.Compute(path)}");
Console.WriteLine($"info {KernelInfo.Describe()}");

namespace Optimizers.KernelCheck
{
    /// <summary>The hash the ISA matrix compares.</summary>
    public static class KernelCheckHash
    {
        /// <summary>Lengths that cover every remainder of every width, and sizes that Threads cuts into chunks.</summary>
        public static readonly int[] Lengths = [.. Enumerable.Range(0, 70), 127, 128, 129, 255, 256, 257, 1000, 4099];

        public static string Compute(KernelPath path)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> scratch = stackalloc byte[8];
            foreach (var c in KernelCase.All())
                foreach (int length in Lengths)
                {
                    var run = KernelScenario.Run(c, length, seed: 20260303, path);
                    foreach (var (_, buffer) in run.Buffers) hash.AppendData(KernelScenario.CanonicalBytes(buffer));
                    BitConverter.TryWriteBytes(scratch, run.AdaptiveCount);
                    hash.AppendData(scratch);
                    BitConverter.TryWriteBytes(scratch, double.IsNaN(run.Minimum) ? -1L : BitConverter.DoubleToInt64Bits(run.Minimum));
                    hash.AppendData(scratch);
                }
            return Convert.ToHexString(hash.GetHashAndReset());
        }
    }
}
