using System.Runtime.InteropServices;
using System.Text;

namespace Optimizers.Accelerators.Cuda;

/// <summary>A CUDA driver API call failed; <see cref="StatusName"/> is the driver's name for the CUresult.</summary>
public sealed class CudaException(string call, int status, string statusName)
    : Exception($"{call} failed with {statusName} ({status}).")
{
    /// <summary>The API function that failed.</summary>
    public string Call { get; } = call;
    /// <summary>The raw CUresult.</summary>
    public int Status { get; } = status;
    /// <summary>e.g. CUDA_ERROR_NO_DEVICE.</summary>
    public string StatusName { get; } = statusName;
}

/// <summary>
/// The CUDA driver API (libcuda, installed with the NVIDIA driver), bound at run time. Absent on machines
/// without an NVIDIA driver; <see cref="Availability"/> then says so.
/// </summary>
internal static unsafe class CudaDriver
{
    static readonly string[] LibraryNames = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];

    public const int NoDevice = 100;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;

    public sealed class Api
    {
        public required delegate* unmanaged<uint, int> Init;
        public required delegate* unmanaged<int*, int> DeviceGetCount;
        public required delegate* unmanaged<int*, int, int> DeviceGet;
        public required delegate* unmanaged<byte*, int, int, int> DeviceGetName;
        public required delegate* unmanaged<int*, int, int, int> DeviceGetAttribute;
        public required delegate* unmanaged<nint*, int, int> PrimaryCtxRetain;
        public required delegate* unmanaged<int, int> PrimaryCtxRelease;
        public required delegate* unmanaged<nint, int> CtxSetCurrent;
        public required delegate* unmanaged<nint*, void*, int> ModuleLoadData;
        public required delegate* unmanaged<nint, int> ModuleUnload;
        public required delegate* unmanaged<nint*, nint, byte*, int> ModuleGetFunction;
        public required delegate* unmanaged<ulong*, nuint, int> MemAlloc;
        public required delegate* unmanaged<ulong, int> MemFree;
        public required delegate* unmanaged<ulong, void*, nuint, int> MemcpyHtoD;
        public required delegate* unmanaged<void*, ulong, nuint, int> MemcpyDtoH;
        public required delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> LaunchKernel;
        public required delegate* unmanaged<nint, int> StreamSynchronize;
        public required delegate* unmanaged<int, byte**, int> GetErrorName;
    }

    static readonly Lazy<(Api? Api, BackendAvailability Availability)> Loaded = new(Load);

    public static BackendAvailability Availability => Loaded.Value.Availability;

    public static Api Require() => Loaded.Value.Api ?? throw new PlatformNotSupportedException(Loaded.Value.Availability.Reason);

    static (Api?, BackendAvailability) Load()
    {
        nint handle = 0;
        string? loaded = null;
        foreach (var name in LibraryNames)
            if (NativeLibrary.TryLoad(name, out handle)) { loaded = name; break; }
        if (loaded is null)
            return (null, BackendAvailability.Missing("no CUDA driver/device: the CUDA driver library (libcuda.so.1) is not installed, so nothing can launch; NVRTC compilation still works without it."));
        Api api;
        try
        {
            T Export<T>(string symbol) where T : unmanaged
            {
                nint address = NativeLibrary.GetExport(handle, symbol);
                return *(T*)&address;
            }
            api = new Api
            {
                Init = (delegate* unmanaged<uint, int>)Export<nint>("cuInit"),
                DeviceGetCount = (delegate* unmanaged<int*, int>)Export<nint>("cuDeviceGetCount"),
                DeviceGet = (delegate* unmanaged<int*, int, int>)Export<nint>("cuDeviceGet"),
                DeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Export<nint>("cuDeviceGetName"),
                DeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Export<nint>("cuDeviceGetAttribute"),
                PrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Export<nint>("cuDevicePrimaryCtxRetain"),
                PrimaryCtxRelease = (delegate* unmanaged<int, int>)Export<nint>("cuDevicePrimaryCtxRelease_v2"),
                CtxSetCurrent = (delegate* unmanaged<nint, int>)Export<nint>("cuCtxSetCurrent"),
                ModuleLoadData = (delegate* unmanaged<nint*, void*, int>)Export<nint>("cuModuleLoadData"),
                ModuleUnload = (delegate* unmanaged<nint, int>)Export<nint>("cuModuleUnload"),
                ModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Export<nint>("cuModuleGetFunction"),
                MemAlloc = (delegate* unmanaged<ulong*, nuint, int>)Export<nint>("cuMemAlloc_v2"),
                MemFree = (delegate* unmanaged<ulong, int>)Export<nint>("cuMemFree_v2"),
                MemcpyHtoD = (delegate* unmanaged<ulong, void*, nuint, int>)Export<nint>("cuMemcpyHtoD_v2"),
                MemcpyDtoH = (delegate* unmanaged<void*, ulong, nuint, int>)Export<nint>("cuMemcpyDtoH_v2"),
                LaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)Export<nint>("cuLaunchKernel"),
                StreamSynchronize = (delegate* unmanaged<nint, int>)Export<nint>("cuStreamSynchronize"),
                GetErrorName = (delegate* unmanaged<int, byte**, int>)Export<nint>("cuGetErrorName"),
            };
        }
        catch (EntryPointNotFoundException e)
        {
            return (null, BackendAvailability.Missing($"CUDA: {loaded} is older than the driver API this backend needs (CUDA 11): {e.Message}"));
        }
        int status = api.Init(0);
        if (status != 0)
            return (null, BackendAvailability.Missing($"no CUDA driver/device: cuInit failed with {NameOf(api, status)} ({status})."));
        int count;
        status = api.DeviceGetCount(&count);
        if (status != 0 || count == 0)
            return (null, BackendAvailability.Missing($"no CUDA driver/device: the driver reports no device ({(status == 0 ? "0 devices" : NameOf(api, status))})."));
        return (api, new BackendAvailability(true, $"CUDA: {count} device(s) through {loaded}"));
    }

    public static string NameOf(Api api, int status)
    {
        byte* name;
        return api.GetErrorName(status, &name) == 0 && name != null ? Marshal.PtrToStringAnsi((nint)name) ?? $"CUDA_ERROR_{status}" : $"CUDA_ERROR_{status}";
    }

    public static void Check(Api api, string call, int status)
    {
        if (status != 0) throw new CudaException(call, status, NameOf(api, status));
    }

    public static string DeviceName(Api api, int device)
    {
        var bytes = new byte[256];
        fixed (byte* b = bytes) Check(api, "cuDeviceGetName", api.DeviceGetName(b, bytes.Length, device));
        return Encoding.ASCII.GetString(bytes).TrimEnd('\0');
    }
}
