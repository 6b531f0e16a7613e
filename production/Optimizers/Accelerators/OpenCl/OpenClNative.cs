using System.Runtime.InteropServices;

namespace Optimizers.Accelerators.OpenCl;

// The OpenCL 1.2 entry points the backend needs, bound straight to the ICD loader (no binding package
// exists on the NuGet mirror). Handles are nint; every call returns a cl_int status or reports one.
internal static unsafe partial class OpenClNative
{
    const string Library = "libOpenCL.so.1";

    public const int Success = 0;
    public const int PlatformNotFoundKhr = -1001;
    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const uint PlatformName = 0x0902;
    public const uint PlatformVersion = 0x0901;
    public const uint DeviceName = 0x102B;
    public const uint DeviceExtensions = 0x1030;
    public const uint DeviceVersion = 0x102F;
    public const uint ProgramBuildLog = 0x1183;
    public const ulong MemReadWrite = 1;

    [LibraryImport(Library)] public static partial int clGetPlatformIDs(uint entries, nint* platforms, uint* count);
    [LibraryImport(Library)] public static partial int clGetPlatformInfo(nint platform, uint name, nuint size, void* value, nuint* sizeReturned);
    [LibraryImport(Library)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint entries, nint* devices, uint* count);
    [LibraryImport(Library)] public static partial int clGetDeviceInfo(nint device, uint name, nuint size, void* value, nuint* sizeReturned);
    [LibraryImport(Library)] public static partial nint clCreateContext(nint* properties, uint deviceCount, nint* devices, nint notify, nint userData, int* status);
    [LibraryImport(Library)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* status);
    [LibraryImport(Library)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* status);
    [LibraryImport(Library)] public static partial int clBuildProgram(nint program, uint deviceCount, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Library)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, void* value, nuint* sizeReturned);
    [LibraryImport(Library)] public static partial nint clCreateKernel(nint program, byte* name, int* status);
    [LibraryImport(Library)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, nint hostPointer, int* status);
    [LibraryImport(Library)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Library)] public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint dimensions, nuint* globalOffset, nuint* globalSize, nuint* localSize, uint waitCount, nint* waitList, nint* eventOut);
    [LibraryImport(Library)] public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source, uint waitCount, nint* waitList, nint* eventOut);
    [LibraryImport(Library)] public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination, uint waitCount, nint* waitList, nint* eventOut);
    [LibraryImport(Library)] public static partial int clFinish(nint queue);
    [LibraryImport(Library)] public static partial int clReleaseMemObject(nint memory);
    [LibraryImport(Library)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Library)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Library)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Library)] public static partial int clReleaseContext(nint context);
}
