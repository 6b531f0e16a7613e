using System.Runtime.InteropServices;
using System.Text;

namespace Optimizers.Accelerators.Cuda;

/// <summary>What NVRTC produces: PTX for a virtual architecture (compute_XY) or a CUBIN for a real one (sm_XY).</summary>
/// <param name="Image">PTX text with its terminating NUL, or the CUBIN bytes; loadable by cuModuleLoadData.</param>
/// <param name="IsCubin">True for CUBIN.</param>
/// <param name="Log">The compiler log (ptxas's resource report when --ptxas-options=-v was given).</param>
public sealed record NvrtcOutput(byte[] Image, bool IsCubin, string Log)
{
    /// <summary>The PTX as text (empty for CUBIN).</summary>
    public string Ptx => IsCubin ? "" : Encoding.ASCII.GetString(Image).TrimEnd('\0');
}

/// <summary>NVRTC failed; <see cref="StatusName"/> is NVRTC's name for the result code.</summary>
public sealed class NvrtcException(string call, int status, string statusName, string? log)
    : Exception(log is null ? $"{call} failed with {statusName} ({status})." : $"{call} failed with {statusName} ({status}). Log:\n{log}")
{
    /// <summary>The API function that failed.</summary>
    public string Call { get; } = call;
    /// <summary>The raw nvrtcResult.</summary>
    public int Status { get; } = status;
    /// <summary>e.g. NVRTC_ERROR_COMPILATION.</summary>
    public string StatusName { get; } = statusName;
    /// <summary>The compiler log, when there is one.</summary>
    public string? Log { get; } = log;
}

/// <summary>
/// The CUDA runtime compiler, bound at run time over the library names it ships under (no binding
/// package exists). Needs no GPU and no driver: it only turns kernel text into PTX or CUBIN.
/// </summary>
public static unsafe class Nvrtc
{
    static readonly string[] LibraryNames =
    [
        "libnvrtc.so", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so.11.0",
        "nvrtc64_120_0.dll", "nvrtc64_112_0.dll", "nvrtc64_111_0.dll",
    ];

    sealed class Api
    {
        public required string LibraryName;
        public required delegate* unmanaged<int*, int*, int> Version;
        public required delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> CreateProgram;
        public required delegate* unmanaged<nint, int, byte**, int> CompileProgram;
        public required delegate* unmanaged<nint, nuint*, int> GetPtxSize;
        public required delegate* unmanaged<nint, byte*, int> GetPtx;
        public required delegate* unmanaged<nint, nuint*, int> GetCubinSize;
        public required delegate* unmanaged<nint, byte*, int> GetCubin;
        public required delegate* unmanaged<nint, nuint*, int> GetLogSize;
        public required delegate* unmanaged<nint, byte*, int> GetLog;
        public required delegate* unmanaged<nint*, int> DestroyProgram;
        public required delegate* unmanaged<int, byte*> GetErrorString;
    }

    static readonly Lazy<(Api? Api, BackendAvailability Availability)> Loaded = new(Load);

    /// <summary>Whether NVRTC could be loaded, with its version and file or the reason it could not.</summary>
    public static BackendAvailability Availability => Loaded.Value.Availability;

    static (Api?, BackendAvailability) Load()
    {
        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            try
            {
                var api = new Api
                {
                    LibraryName = name,
                    Version = (delegate* unmanaged<int*, int*, int>)NativeLibrary.GetExport(handle, "nvrtcVersion"),
                    CreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(handle, "nvrtcCreateProgram"),
                    CompileProgram = (delegate* unmanaged<nint, int, byte**, int>)NativeLibrary.GetExport(handle, "nvrtcCompileProgram"),
                    GetPtxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(handle, "nvrtcGetPTXSize"),
                    GetPtx = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(handle, "nvrtcGetPTX"),
                    GetCubinSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(handle, "nvrtcGetCUBINSize"),
                    GetCubin = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(handle, "nvrtcGetCUBIN"),
                    GetLogSize = (delegate* unmanaged<nint, nuint*, int>)NativeLibrary.GetExport(handle, "nvrtcGetProgramLogSize"),
                    GetLog = (delegate* unmanaged<nint, byte*, int>)NativeLibrary.GetExport(handle, "nvrtcGetProgramLog"),
                    DestroyProgram = (delegate* unmanaged<nint*, int>)NativeLibrary.GetExport(handle, "nvrtcDestroyProgram"),
                    GetErrorString = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(handle, "nvrtcGetErrorString"),
                };
                int major, minor;
                api.Version(&major, &minor);
                return (api, new BackendAvailability(true, $"NVRTC {major}.{minor} ({name})"));
            }
            catch (EntryPointNotFoundException e)
            {
                return (null, BackendAvailability.Missing($"NVRTC: {name} lacks an entry point (CUBIN output needs NVRTC 11.1 or later): {e.Message}"));
            }
        }
        return (null, BackendAvailability.Missing("NVRTC: no libnvrtc found (tried " + string.Join(", ", LibraryNames) + "); on Debian install libnvrtc11.2 from non-free."));
    }

    static Api Require()
        => Loaded.Value.Api ?? throw new PlatformNotSupportedException(Loaded.Value.Availability.Reason);

    /// <summary>NVRTC's (major, minor) version.</summary>
    public static (int Major, int Minor) Version
    {
        get
        {
            var api = Require();
            int major, minor;
            api.Version(&major, &minor);
            return (major, minor);
        }
    }

    /// <summary>
    /// The options that keep CUDA's arithmetic identical to the C# kernel: no contraction into FMA, IEEE
    /// division and square root, subnormals kept. <paramref name="architecture"/> is compute_XY (PTX) or sm_XY (CUBIN).
    /// </summary>
    public static IReadOnlyList<string> KernelOptions(string architecture, DType param, DType state)
        => [$"--gpu-architecture={architecture}", "--fmad=false", "--prec-div=true", "--prec-sqrt=true", "--ftz=false", .. KernelSource.Defines(param, state)];

    /// <summary>Compiles one family's kernel text for a (parameter, state) pair.</summary>
    public static NvrtcOutput CompileKernels(KernelFamily family, DType param, DType state, string architecture, bool ptxasVerbose = false)
    {
        var options = KernelOptions(architecture, param, state).ToList();
        if (ptxasVerbose) options.Add("--ptxas-options=-v");
        return Compile(KernelSource.Compose(KernelDialect.Cuda, family), KernelSource.FileName(family).Replace(".cl.h", ".cu"), options);
    }

    /// <summary>Compiles CUDA C++ text; CUBIN when the architecture is sm_XY, PTX otherwise.</summary>
    public static NvrtcOutput Compile(string source, string name, IReadOnlyList<string> options)
    {
        var api = Require();
        bool cubin = options.Any(o => o.StartsWith("--gpu-architecture=sm_", StringComparison.Ordinal));
        byte[] sourceBytes = Encoding.UTF8.GetBytes(source + "\0");
        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        nint program;
        int status;
        fixed (byte* s = sourceBytes)
        fixed (byte* n = nameBytes)
            status = api.CreateProgram(&program, s, n, 0, null, null);
        Check(api, "nvrtcCreateProgram", status, null);
        try
        {
            var optionHandles = options.Select(o => GCHandle.Alloc(Encoding.UTF8.GetBytes(o + "\0"), GCHandleType.Pinned)).ToArray();
            try
            {
                var pointers = stackalloc byte*[optionHandles.Length];
                for (int i = 0; i < optionHandles.Length; i++) pointers[i] = (byte*)optionHandles[i].AddrOfPinnedObject();
                status = api.CompileProgram(program, optionHandles.Length, pointers);
            }
            finally
            {
                foreach (var handle in optionHandles) handle.Free();
            }
            string log = Log(api, program);
            Check(api, "nvrtcCompileProgram", status, log);
            nuint size;
            Check(api, cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize", cubin ? api.GetCubinSize(program, &size) : api.GetPtxSize(program, &size), log);
            var image = new byte[(int)size];
            fixed (byte* i = image)
                Check(api, cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX", cubin ? api.GetCubin(program, i) : api.GetPtx(program, i), log);
            return new NvrtcOutput(image, cubin, log);
        }
        finally
        {
            api.DestroyProgram(&program);
        }
    }

    static string Log(Api api, nint program)
    {
        nuint size;
        if (api.GetLogSize(program, &size) != 0 || size == 0) return "";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
            if (api.GetLog(program, b) != 0) return "";
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    static void Check(Api api, string call, int status, string? log)
    {
        if (status == 0) return;
        string name = Marshal.PtrToStringAnsi((nint)api.GetErrorString(status)) ?? $"NVRTC_ERROR_{status}";
        throw new NvrtcException(call, status, name, string.IsNullOrEmpty(log) ? null : log);
    }
}
