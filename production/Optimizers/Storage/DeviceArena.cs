using Optimizers.Accelerators;

namespace Optimizers.Storage;

/// <summary>
/// The device twin of an <see cref="Arena"/>: values, gradients and every state buffer as <see cref="DeviceBuffer"/>s with
/// the same per-tensor segments, so the device kernels take the offsets the CPU kernels take. The host arena stays as
/// the staging copy that <see cref="Parameter"/> spans, state dicts and checkpoints read and write.
/// </summary>
internal sealed class DeviceArena : IDisposable
{
    readonly Arena _host;

    public DeviceArena(AcceleratorKernelBackend backend, Arena host)
    {
        Backend = backend;
        _host = host;
        var allocated = new List<DeviceBuffer>();
        try
        {
            Values = Keep(backend.Upload(host.Values));
            Grads = Keep(backend.Allocate(host.ParamDType, host.Length));
            Buffers = Array.ConvertAll(host.Specs, s => Keep(backend.Allocate(s.DType, host.Length)));
        }
        catch
        {
            foreach (var b in allocated) b.Dispose();
            throw;
        }
        DeviceBuffer Keep(DeviceBuffer b)
        {
            allocated.Add(b);
            return b;
        }
    }

    public AcceleratorKernelBackend Backend { get; }
    public DeviceBuffer Values { get; }
    public DeviceBuffer Grads { get; }
    public DeviceBuffer[] Buffers { get; }

    public void UploadValues() => Backend.Upload(_host.Values, Values);
    public void DownloadValues() => Backend.Download(Values, _host.Values);
    public void UploadGrads() => Backend.Upload(_host.Grads, Grads);

    public void UploadState()
    {
        for (int b = 0; b < Buffers.Length; b++) Backend.Upload(_host.Buffers[b], Buffers[b]);
    }

    public void DownloadState()
    {
        for (int b = 0; b < Buffers.Length; b++) Backend.Download(Buffers[b], _host.Buffers[b]);
    }

    public void Dispose()
    {
        Values.Dispose();
        Grads.Dispose();
        foreach (var b in Buffers) b.Dispose();
    }
}
