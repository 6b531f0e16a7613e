using System.Text;

namespace Optimizers.Accelerators.OpenCl;

/// <summary>
/// The optimizer kernels on an OpenCL device: one context and one in-order queue, device-resident
/// arenas, programs built once per (source, options) and cached for the backend's lifetime.
/// Proven bit-identical to the scalar C# kernels on PoCL.
/// </summary>
public sealed unsafe class OpenClKernelBackend : AcceleratorKernelBackend
{
    /// <summary>Options every build gets: OpenCL C 1.2 (the subset CUDA shares; a newer feature must fail
    /// here, not on a GPU later) and float32 division and sqrt correctly rounded, as .NET computes them.
    /// Contraction is switched off by the pragma in opencl_prelude.h, which no build option can undo.</summary>
    public const string BaseBuildOptions = "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt";

    readonly OpenClDevice _device;
    readonly nint _context;
    readonly nint _queue;
    readonly bool _halfViaBits;
    readonly Dictionary<string, nint> _programs = new();
    readonly Dictionary<(nint Program, string Name), nint> _kernels = new();
    bool _disposed;

    /// <summary>Opens a context and queue on <paramref name="device"/>.</summary>
    /// <param name="device">One of <see cref="OpenClDevices.All"/>.</param>
    /// <param name="halfViaBits">Use common.h's bit-level float16 conversions (CUDA's) instead of vload_half/vstore_half_rte, to test them on this device.</param>
    public OpenClKernelBackend(OpenClDevice device, bool halfViaBits = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _halfViaBits = halfViaBits;
        nint id = device.Device;
        int status;
        _context = OpenClNative.clCreateContext(null, 1, &id, 0, 0, &status);
        OpenClException.Check("clCreateContext", status);
        _queue = OpenClNative.clCreateCommandQueue(_context, id, 0, &status);
        if (status != OpenClNative.Success)
        {
            OpenClNative.clReleaseContext(_context);
            throw new OpenClException("clCreateCommandQueue", status);
        }
    }

    /// <summary>A backend on the first device found, or an exception saying why there is none.</summary>
    public static OpenClKernelBackend CreateDefault(bool halfViaBits = false)
    {
        var availability = OpenClDevices.Availability;
        if (!availability.IsAvailable) throw new PlatformNotSupportedException(availability.Reason);
        return new OpenClKernelBackend(OpenClDevices.All[0], halfViaBits);
    }

    /// <inheritdoc/>
    public override string DeviceName => _device.ToString();

    /// <inheritdoc/>
    public override KernelDialect Dialect => KernelDialect.OpenCl;

    /// <summary>How many distinct programs have been built (the cache's size).</summary>
    public int BuiltProgramCount => _programs.Count;

    /// <summary>The build options for one (parameter, state) variant.</summary>
    public string BuildOptions(DType param, DType state)
        => string.Join(' ', [BaseBuildOptions, .. KernelSource.Defines(param, state), .. (_halfViaBits ? new[] { "-DHALF_VIA_BITS=1" } : [])]);

    sealed class ClMemory(OpenClKernelBackend owner, nint handle, long bytes) : DeviceMemory(owner, bytes)
    {
        public nint Handle { get; } = handle;
        protected override void Release() => OpenClNative.clReleaseMemObject(Handle);
    }

    /// <inheritdoc/>
    protected override DeviceMemory AllocateMemory(long byteLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int status;
        nint handle = OpenClNative.clCreateBuffer(_context, OpenClNative.MemReadWrite, (nuint)byteLength, 0, &status);
        OpenClException.Check("clCreateBuffer", status);
        return new ClMemory(this, handle, byteLength);
    }

    /// <inheritdoc/>
    protected override void Write(DeviceMemory memory, long byteOffset, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return;
        // Blocking, so the caller may reuse its host memory at once.
        fixed (byte* s = source)
            OpenClException.Check("clEnqueueWriteBuffer", OpenClNative.clEnqueueWriteBuffer(_queue, Handle(memory), 1, (nuint)byteOffset, (nuint)source.Length, s, 0, null, null));
    }

    /// <inheritdoc/>
    protected override void Read(DeviceMemory memory, long byteOffset, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        fixed (byte* d = destination)
            OpenClException.Check("clEnqueueReadBuffer", OpenClNative.clEnqueueReadBuffer(_queue, Handle(memory), 1, (nuint)byteOffset, (nuint)destination.Length, d, 0, null, null));
    }

    /// <inheritdoc/>
    public override void Synchronize() => OpenClException.Check("clFinish", OpenClNative.clFinish(_queue));

    /// <inheritdoc/>
    public override void Warm(KernelFamily family, DType param, DType state)
    {
        nint program = Program(family, param, state);
        foreach (var name in KernelSource.EntryPoints(family)) Kernel(program, name);
    }

    /// <inheritdoc/>
    protected override void Launch(KernelFamily family, DType param, DType state, string kernel, int workItems, ReadOnlySpan<KernelArgument> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Enqueue(Kernel(Program(family, param, state), kernel), kernel, workItems, arguments);
    }

    /// <summary>
    /// Builds (cached) and launches a kernel from arbitrary source, with the same options and geometry as
    /// the optimizer kernels: how the tests run common.h's helpers alone, exhaustively.
    /// </summary>
    internal void LaunchSource(string source, string options, string kernel, int workItems, ReadOnlySpan<KernelArgument> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string key = options + "\n" + source;
        if (!_programs.TryGetValue(key, out var program)) _programs[key] = program = BuildProgram(source, options);
        Enqueue(Kernel(program, kernel), kernel, workItems, arguments);
    }

    void Enqueue(nint handle, string kernel, int workItems, ReadOnlySpan<KernelArgument> arguments)
    {
        for (int i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            int status;
            if (argument.Kind == KernelArgumentKind.Memory)
            {
                nint mem = Handle(argument.Memory!);
                status = OpenClNative.clSetKernelArg(handle, (uint)i, (nuint)sizeof(nint), &mem);
            }
            else
            {
                long bits = argument.Bits;
                // Little-endian: the low 4 bytes of the long are the int or float.
                status = OpenClNative.clSetKernelArg(handle, (uint)i, (nuint)argument.ScalarSize, &bits);
            }
            if (status != OpenClNative.Success) throw new OpenClException($"clSetKernelArg({kernel}, {i})", status);
        }
        nuint local = KernelSource.WorkGroupSize;
        nuint global = (nuint)(((long)workItems + KernelSource.WorkGroupSize - 1) / KernelSource.WorkGroupSize * KernelSource.WorkGroupSize);
        int launch = OpenClNative.clEnqueueNDRangeKernel(_queue, handle, 1, null, &global, &local, 0, null, null);
        if (launch != OpenClNative.Success) throw new OpenClException($"clEnqueueNDRangeKernel({kernel})", launch);
    }

    nint Program(KernelFamily family, DType param, DType state)
    {
        if ((param == DType.Float64 || state == DType.Float64) && !_device.HasFloat64)
            throw new NotSupportedException($"{_device} has no cl_khr_fp64; float64 parameters or state cannot run on it.");
        string source = KernelSource.Compose(KernelDialect.OpenCl, family);
        string options = BuildOptions(param, state);
        string key = options + "\n" + source;
        if (_programs.TryGetValue(key, out var cached)) return cached;
        try
        {
            return _programs[key] = BuildProgram(source, options);
        }
        catch (OpenClException e) when (e.BuildLog is not null)
        {
            throw new OpenClException($"clBuildProgram({KernelSource.FileName(family)}, {options})", e.Status, e.BuildLog);
        }
    }

    /// <summary>Builds OpenCL C source for this backend's device (uncached); a failure carries the build log.</summary>
    internal nint BuildProgram(string source, string options)
    {
        byte[] sourceBytes = Encoding.UTF8.GetBytes(source);
        byte[] optionBytes = Encoding.UTF8.GetBytes(options + "\0");
        int status;
        nint program;
        fixed (byte* s = sourceBytes)
        {
            byte* strings = s;
            nuint length = (nuint)sourceBytes.Length;
            program = OpenClNative.clCreateProgramWithSource(_context, 1, &strings, &length, &status);
        }
        OpenClException.Check("clCreateProgramWithSource", status);
        nint device = _device.Device;
        fixed (byte* o = optionBytes) status = OpenClNative.clBuildProgram(program, 1, &device, o, 0, 0);
        if (status != OpenClNative.Success)
        {
            string log = BuildLog(program);
            OpenClNative.clReleaseProgram(program);
            throw new OpenClException("clBuildProgram", status, log);
        }
        return program;
    }

    nint Kernel(nint program, string name)
    {
        if (_kernels.TryGetValue((program, name), out var cached)) return cached;
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        int status;
        nint kernel;
        fixed (byte* n = nameBytes) kernel = OpenClNative.clCreateKernel(program, n, &status);
        if (status != OpenClNative.Success) throw new OpenClException($"clCreateKernel({name})", status);
        _kernels[(program, name)] = kernel;
        return kernel;
    }

    string BuildLog(nint program)
    {
        nuint size;
        if (OpenClNative.clGetProgramBuildInfo(program, _device.Device, OpenClNative.ProgramBuildLog, 0, null, &size) != OpenClNative.Success) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
            if (OpenClNative.clGetProgramBuildInfo(program, _device.Device, OpenClNative.ProgramBuildLog, size, b, null) != OpenClNative.Success) return "(no build log)";
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    nint Handle(DeviceMemory memory)
    {
        if (memory is not ClMemory cl || !ReferenceEquals(cl.Owner, this))
            throw new ArgumentException("The memory belongs to another backend.", nameof(memory));
        ObjectDisposedException.ThrowIf(cl.IsDisposed, cl);
        return cl.Handle;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_disposed) return;
        base.Dispose();
        _disposed = true;
        foreach (var kernel in _kernels.Values) OpenClNative.clReleaseKernel(kernel);
        foreach (var program in _programs.Values) OpenClNative.clReleaseProgram(program);
        _kernels.Clear();
        _programs.Clear();
        OpenClNative.clReleaseCommandQueue(_queue);
        OpenClNative.clReleaseContext(_context);
    }
}
