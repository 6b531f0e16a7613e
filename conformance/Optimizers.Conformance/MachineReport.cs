using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Optimizers.Accelerators.Cuda;
using Optimizers.Accelerators.OpenCl;

namespace Optimizers.Conformance;

/// <summary>What this machine offers the kernels, printed at the start of every run so a green run says which path it covered.</summary>
public static class MachineReport
{
    /// <summary>
    /// Accelerator probes (OpenCL platforms, CUDA devices) register here: a name and a function that describes what it
    /// found, or says why nothing is there.
    /// </summary>
    public static List<(string Name, Func<string> Describe)> AcceleratorProbes { get; } =
    [
        ("OpenCL", () => OpenClDevices.Availability.IsAvailable
            ? string.Join("; ", OpenClDevices.All.Select(d => d.ToString()))
            : $"not available: {OpenClDevices.Availability.Reason}"),
        ("CUDA devices", () => CudaKernelBackend.Availability.IsAvailable
            ? "available"
            : $"not available: {CudaKernelBackend.Availability.Reason}"),
        ("NVRTC (CUDA C to PTX)", () => Nvrtc.Availability.IsAvailable ? "available" : $"not available: {Nvrtc.Availability.Reason}"),
    ];

    /// <summary>The widest vector width the runtime accelerates here: what production's automatic kernel path uses.</summary>
    public static string VectorWidth =>
        Vector512.IsHardwareAccelerated ? "Vector512"
        : Vector256.IsHardwareAccelerated ? "Vector256"
        : Vector128.IsHardwareAccelerated ? "Vector128"
        : "none (scalar)";

    static readonly string[] IsaSwitches = ["DOTNET_EnableAVX512", "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableHWIntrinsic"];

    public static IReadOnlyDictionary<string, string> Facts()
    {
        var facts = new Dictionary<string, string>
        {
            ["vector width exercised"] = VectorWidth,
            ["Vector512 accelerated"] = Vector512.IsHardwareAccelerated.ToString(),
            ["Vector256 accelerated"] = Vector256.IsHardwareAccelerated.ToString(),
            ["Vector128 accelerated"] = Vector128.IsHardwareAccelerated.ToString(),
            ["Vector<float> lanes"] = Vector<float>.Count.ToString(),
            ["processors"] = Environment.ProcessorCount.ToString(),
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["os / architecture"] = $"{RuntimeInformation.OSDescription} / {RuntimeInformation.ProcessArchitecture}",
        };
        var switches = IsaSwitches.Where(s => Environment.GetEnvironmentVariable(s) is not null)
            .Select(s => $"{s}={Environment.GetEnvironmentVariable(s)}").ToList();
        facts["ISA switches"] = switches.Count == 0 ? "none set" : string.Join(", ", switches);
        foreach (var (name, describe) in AcceleratorProbes)
        {
            string text;
            try { text = describe(); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException) { text = $"not available: {e.Message}"; }
            facts[name] = text;
        }
        if (AcceleratorProbes.Count == 0) facts["accelerators"] = "no accelerator backend registered";
        return facts;
    }
}
