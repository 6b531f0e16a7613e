using System.Runtime.Intrinsics;

namespace Optimizers.Benchmarks.Workloads;

/// <summary>What vector hardware this process's JIT will use, after the DOTNET_Enable* switches.</summary>
public static class IsaInfo
{
    /// <summary>Widest accelerated vector: v512, v256, v128 or none.</summary>
    public static string Widest =>
        Vector512.IsHardwareAccelerated ? "v512"
        : Vector256.IsHardwareAccelerated ? "v256"
        : Vector128.IsHardwareAccelerated ? "v128"
        : "none";

    public static string Describe() =>
        $"Vector512={Vector512.IsHardwareAccelerated} Vector256={Vector256.IsHardwareAccelerated} Vector128={Vector128.IsHardwareAccelerated} " +
        $"DOTNET_EnableAVX512={Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") ?? "(unset)"} " +
        $"DOTNET_EnableAVX2={Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") ?? "(unset)"} " +
        $"DOTNET_EnableHWIntrinsic={Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") ?? "(unset)"}";
}
