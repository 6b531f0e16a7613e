using System.Text;

namespace Optimizers.Accelerators.OpenCl;

/// <summary>One OpenCL device as discovered through the ICD loader.</summary>
/// <param name="Platform">The platform handle.</param>
/// <param name="Device">The device handle.</param>
/// <param name="PlatformName">CL_PLATFORM_NAME.</param>
/// <param name="DeviceName">CL_DEVICE_NAME.</param>
/// <param name="Version">CL_DEVICE_VERSION.</param>
/// <param name="HasFloat64">Whether the device has cl_khr_fp64 (needed for float64 parameters or state).</param>
public sealed record OpenClDevice(nint Platform, nint Device, string PlatformName, string DeviceName, string Version, bool HasFloat64)
{
    /// <inheritdoc/>
    public override string ToString() => $"{PlatformName} / {DeviceName} ({Version}{(HasFloat64 ? ", fp64" : "")})";
}

/// <summary>Discovery of OpenCL platforms and devices, graceful when the loader or every platform is missing.</summary>
public static unsafe class OpenClDevices
{
    static readonly Lazy<(IReadOnlyList<OpenClDevice> Devices, BackendAvailability Availability)> Probe = new(Discover);

    /// <summary>Every device of every platform, in platform order; empty when OpenCL is unavailable.</summary>
    public static IReadOnlyList<OpenClDevice> All => Probe.Value.Devices;

    /// <summary>Whether OpenCL can run here, with the first device's description or the reason it cannot.</summary>
    public static BackendAvailability Availability => Probe.Value.Availability;

    static (IReadOnlyList<OpenClDevice>, BackendAvailability) Discover()
    {
        try
        {
            uint platformCount;
            int status = OpenClNative.clGetPlatformIDs(0, null, &platformCount);
            if (status == OpenClNative.PlatformNotFoundKhr || (status == OpenClNative.Success && platformCount == 0))
                return ([], BackendAvailability.Missing("OpenCL: the ICD loader found no platform (CL_PLATFORM_NOT_FOUND_KHR); install an ICD such as pocl-opencl-icd."));
            if (status != OpenClNative.Success)
                return ([], BackendAvailability.Missing($"OpenCL: clGetPlatformIDs failed with {OpenClException.NameOf(status)}."));
            var platforms = new nint[platformCount];
            fixed (nint* p = platforms) OpenClException.Check("clGetPlatformIDs", OpenClNative.clGetPlatformIDs(platformCount, p, null));
            var devices = new List<OpenClDevice>();
            var problems = new List<string>();
            foreach (var platform in platforms)
            {
                string platformName = PlatformString(platform, OpenClNative.PlatformName);
                uint deviceCount;
                status = OpenClNative.clGetDeviceIDs(platform, OpenClNative.DeviceTypeAll, 0, null, &deviceCount);
                if (status != OpenClNative.Success || deviceCount == 0)
                {
                    // PoCL reports CL_DEVICE_NOT_FOUND when its kernel cache directory is not writable.
                    problems.Add($"{platformName}: no device ({OpenClException.NameOf(status)}; for PoCL check that POCL_CACHE_DIR is writable)");
                    continue;
                }
                var ids = new nint[deviceCount];
                fixed (nint* d = ids) OpenClException.Check("clGetDeviceIDs", OpenClNative.clGetDeviceIDs(platform, OpenClNative.DeviceTypeAll, deviceCount, d, null));
                foreach (var id in ids)
                {
                    string extensions = DeviceString(id, OpenClNative.DeviceExtensions);
                    devices.Add(new OpenClDevice(platform, id, platformName, DeviceString(id, OpenClNative.DeviceName).Trim(),
                        DeviceString(id, OpenClNative.DeviceVersion).Trim(), extensions.Split(' ').Contains("cl_khr_fp64")));
                }
            }
            if (devices.Count == 0)
                return ([], BackendAvailability.Missing("OpenCL: platforms exist but none has a usable device: " + string.Join("; ", problems)));
            return (devices, new BackendAvailability(true, "OpenCL: " + devices[0]));
        }
        catch (DllNotFoundException e)
        {
            return ([], BackendAvailability.Missing($"OpenCL: libOpenCL.so.1 could not be loaded (install ocl-icd-libopencl1): {e.Message}"));
        }
        catch (EntryPointNotFoundException e)
        {
            return ([], BackendAvailability.Missing($"OpenCL: the loader lacks an OpenCL 1.2 entry point: {e.Message}"));
        }
    }

    static string PlatformString(nint platform, uint name)
    {
        nuint size;
        OpenClException.Check("clGetPlatformInfo", OpenClNative.clGetPlatformInfo(platform, name, 0, null, &size));
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenClException.Check("clGetPlatformInfo", OpenClNative.clGetPlatformInfo(platform, name, size, b, null));
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    internal static string DeviceString(nint device, uint name)
    {
        nuint size;
        OpenClException.Check("clGetDeviceInfo", OpenClNative.clGetDeviceInfo(device, name, 0, null, &size));
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) OpenClException.Check("clGetDeviceInfo", OpenClNative.clGetDeviceInfo(device, name, size, b, null));
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }
}
