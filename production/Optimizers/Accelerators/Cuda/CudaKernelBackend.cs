using System.Text;

namespace Optimizers.Accelerators.Cuda;

/// <summary>
/// The optimizer kernels on a CUDA device: the same kernel text as OpenCL, compiled by NVRTC to PTX for
/// the device's architecture and loaded through the driver API, in the device's primary context (the
/// one the CUDA runtime, PyTorch and TorchSharp use), so their device pointers can be handed to
/// <see cref="Wrap"/> without a copy.
/// </summary>
public sealed unsafe class CudaKernelBackend : AcceleratorKernelBackend
{
    readonly CudaDriver.Api _api;
    readonly int _device;
    readonly nint _context;
    readonly nint _stream;
    readonly string _deviceName;
    readonly Dictionary<string, nint> _modules = new();
    readonly Dictionary<(nint Module, string Name), nint> _functions = new();
    bool _disposed;

    /// <summary>Whether kernels can run: NVRTC and a CUDA driver with at least one device; otherwise the reason.</summary>
    public static BackendAvailability Availability
    {
        get
        {
            if (!Nvrtc.Availability.IsAvailable) return Nvrtc.Availability;
            return CudaDriver.Availability;
        }
    }

    /// <summary>Opens device <paramref name="ordinal"/>'s primary context; launches go to <paramref name="stream"/> (0: the legacy default stream; pass e.g. torch.cuda.current_stream().cuda_stream to order with PyTorch's work).</summary>
    public CudaKernelBackend(int ordinal = 0, nint stream = 0)
    {
        if (!Availability.IsAvailable) throw new PlatformNotSupportedException(Availability.Reason);
        _api = CudaDriver.Require();
        int device;
        CudaDriver.Check(_api, "cuDeviceGet", _api.DeviceGet(&device, ordinal));
        _device = device;
        nint context;
        CudaDriver.Check(_api, "cuDevicePrimaryCtxRetain", _api.PrimaryCtxRetain(&context, device));
        _context = context;
        _stream = stream;
        int major, minor;
        CudaDriver.Check(_api, "cuDeviceGetAttribute", _api.DeviceGetAttribute(&major, CudaDriver.AttributeComputeCapabilityMajor, device));
        CudaDriver.Check(_api, "cuDeviceGetAttribute", _api.DeviceGetAttribute(&minor, CudaDriver.AttributeComputeCapabilityMinor, device));
        ComputeCapability = (major, minor);
        _deviceName = $"{CudaDriver.DeviceName(_api, device)} (sm_{major}{minor})";
    }

    /// <summary>The device's compute capability.</summary>
    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>The virtual architecture the PTX is built for: the device's own, capped at what this NVRTC knows (the driver JITs PTX forward).</summary>
    public string Architecture
    {
        get
        {
            int arch = ComputeCapability.Major * 10 + ComputeCapability.Minor;
            // compute_90 is the newest target NVRTC 11.8 (the oldest we support) knows; newer devices JIT it.
            return $"compute_{Math.Min(arch, 90)}";
        }
    }

    /// <inheritdoc/>
    public override string DeviceName => _deviceName;

    /// <inheritdoc/>
    public override KernelDialect Dialect => KernelDialect.Cuda;

    sealed class CuMemory(CudaKernelBackend owner, ulong pointer, long bytes, bool owned) : DeviceMemory(owner, bytes)
    {
        public ulong Pointer { get; } = pointer;
        protected override void Release()
        {
            if (!owned) return;
            var backend = (CudaKernelBackend)Owner;
            backend.MakeCurrent();
            backend._api.MemFree(Pointer);
        }
    }

    /// <summary>
    /// Lends caller-owned device memory (a TorchSharp tensor's data pointer, a cupy array, ...) to the
    /// kernels as an arena of <paramref name="length"/> elements of <paramref name="dtype"/>, without a copy.
    /// The memory must be contiguous, belong to this device's primary context and outlive the buffer;
    /// disposing the buffer does not free it.
    /// </summary>
    public DeviceBuffer Wrap(nint devicePointer, int length, DType dtype)
    {
        if (devicePointer == 0) throw new ArgumentOutOfRangeException(nameof(devicePointer), "A device pointer must not be null.");
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long bytes = (long)length * DeviceBuffer.ElementSize(dtype);
        if (devicePointer % DeviceBuffer.ElementSize(dtype) != 0)
            throw new ArgumentOutOfRangeException(nameof(devicePointer), $"A {dtype} pointer must be aligned to {DeviceBuffer.ElementSize(dtype)} bytes.");
        return View(new CuMemory(this, (ulong)devicePointer, bytes, owned: false), dtype, length);
    }

    /// <summary>The device address of an arena of this backend (owned or lent), e.g. to hand our state to another CUDA library.</summary>
    public nint DevicePointer(DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return (nint)Pointer(buffer.Memory);
    }

    void MakeCurrent() => CudaDriver.Check(_api, "cuCtxSetCurrent", _api.CtxSetCurrent(_context));

    /// <inheritdoc/>
    protected override DeviceMemory AllocateMemory(long byteLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        MakeCurrent();
        ulong pointer;
        CudaDriver.Check(_api, "cuMemAlloc", _api.MemAlloc(&pointer, (nuint)byteLength));
        return new CuMemory(this, pointer, byteLength, owned: true);
    }

    /// <inheritdoc/>
    protected override void Write(DeviceMemory memory, long byteOffset, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return;
        MakeCurrent();
        // Kernels already enqueued on a user stream may still read this memory.
        CudaDriver.Check(_api, "cuStreamSynchronize", _api.StreamSynchronize(_stream));
        fixed (byte* s = source)
            CudaDriver.Check(_api, "cuMemcpyHtoD", _api.MemcpyHtoD(Pointer(memory) + (ulong)byteOffset, s, (nuint)source.Length));
    }

    /// <inheritdoc/>
    protected override void Read(DeviceMemory memory, long byteOffset, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        MakeCurrent();
        CudaDriver.Check(_api, "cuStreamSynchronize", _api.StreamSynchronize(_stream));
        fixed (byte* d = destination)
            CudaDriver.Check(_api, "cuMemcpyDtoH", _api.MemcpyDtoH(d, Pointer(memory) + (ulong)byteOffset, (nuint)destination.Length));
    }

    /// <inheritdoc/>
    public override void Synchronize()
    {
        MakeCurrent();
        CudaDriver.Check(_api, "cuStreamSynchronize", _api.StreamSynchronize(_stream));
    }

    /// <inheritdoc/>
    public override void Warm(KernelFamily family, DType param, DType state)
    {
        nint module = Module(family, param, state);
        foreach (var name in KernelSource.EntryPoints(family)) Function(module, name);
    }

    /// <inheritdoc/>
    protected override void Launch(KernelFamily family, DType param, DType state, string kernel, int workItems, ReadOnlySpan<KernelArgument> arguments)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        MakeCurrent();
        nint function = Function(Module(family, param, state), kernel);
        long* values = stackalloc long[arguments.Length];
        void** pointers = stackalloc void*[arguments.Length];
        for (int i = 0; i < arguments.Length; i++)
        {
            // Little-endian: an int or float argument is the low 4 bytes of its slot.
            values[i] = arguments[i].Kind == KernelArgumentKind.Memory ? (long)Pointer(arguments[i].Memory!) : arguments[i].Bits;
            pointers[i] = &values[i];
        }
        uint blocks = (uint)(((long)workItems + KernelSource.WorkGroupSize - 1) / KernelSource.WorkGroupSize);
        CudaDriver.Check(_api, $"cuLaunchKernel({kernel})",
            _api.LaunchKernel(function, blocks, 1, 1, KernelSource.WorkGroupSize, 1, 1, 0, _stream, pointers, null));
    }

    nint Module(KernelFamily family, DType param, DType state)
    {
        string key = $"{family}/{param}/{state}";
        if (_modules.TryGetValue(key, out var cached)) return cached;
        var output = Nvrtc.CompileKernels(family, param, state, Architecture);
        nint module;
        fixed (byte* image = output.Image)
            CudaDriver.Check(_api, $"cuModuleLoadData({KernelSource.FileName(family)})", _api.ModuleLoadData(&module, image));
        _modules[key] = module;
        return module;
    }

    nint Function(nint module, string name)
    {
        if (_functions.TryGetValue((module, name), out var cached)) return cached;
        byte[] bytes = Encoding.ASCII.GetBytes(name + "\0");
        nint function;
        fixed (byte* n = bytes) CudaDriver.Check(_api, $"cuModuleGetFunction({name})", _api.ModuleGetFunction(&function, module, n));
        _functions[(module, name)] = function;
        return function;
    }

    ulong Pointer(DeviceMemory memory)
    {
        if (memory is not CuMemory cu || !ReferenceEquals(cu.Owner, this))
            throw new ArgumentException("The memory belongs to another backend.", nameof(memory));
        ObjectDisposedException.ThrowIf(cu.IsDisposed, cu);
        return cu.Pointer;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_disposed) return;
        base.Dispose();
        _disposed = true;
        MakeCurrent();
        foreach (var module in _modules.Values) _api.ModuleUnload(module);
        _modules.Clear();
        _functions.Clear();
        _api.PrimaryCtxRelease(_device);
    }
}
