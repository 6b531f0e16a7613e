using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Optimizers.Numerics;

namespace Optimizers.Checkpoints;

/// <summary>The element types this library reads and writes in safetensors files (the format's own spelling).</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE binary32, <see cref="float"/>.</summary>
    F32,
    /// <summary>IEEE binary64, <see cref="double"/>.</summary>
    F64,
    /// <summary>bfloat16, <see cref="BFloat16"/>.</summary>
    BF16,
    /// <summary>IEEE binary16, <see cref="Half"/>.</summary>
    F16,
    /// <summary>Signed 64-bit integer, <see cref="long"/>.</summary>
    I64,
}

/// <summary>
/// A tensor to write: a name, a dtype, a shape and the elements, flat and row-major. <see cref="Data"/> must be the array
/// type of <see cref="DType"/> (<c>float[]</c>, <c>double[]</c>, <see cref="BFloat16"/><c>[]</c>, <c>Half[]</c>,
/// <c>long[]</c>) and hold exactly the product of <see cref="Shape"/> elements (1 for the 0-d shape <c>[]</c>).
/// </summary>
/// <param name="Name">The tensor's name; not empty, not <c>__metadata__</c>, unique within a file.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions, each ≥ 0.</param>
/// <param name="Data">The elements.</param>
public sealed record SafeTensor(string Name, SafeTensorDType DType, IReadOnlyList<long> Shape, Array Data);

/// <summary>One tensor entry of a safetensors header, validated against the file it came from.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="Begin">First byte of the tensor, relative to the data region that follows the header.</param>
/// <param name="End">One past the last byte, relative to the data region.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long ElementCount => SafeTensors.ElementCount(Shape);
}

/// <summary>A safetensors file that is malformed, truncated, or fails its checksum. The message names the file and, where one is to blame, the tensor.</summary>
public sealed class SafeTensorsFormatException : IOException
{
    /// <summary>Creates the exception; the message is prefixed with the file (and tensor) it is about.</summary>
    /// <param name="filePath">The file being read.</param>
    /// <param name="tensorName">The tensor the problem is about, or <c>null</c>.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public SafeTensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}", inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file being read.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem is about, or <c>null</c> when it concerns the file as a whole.</summary>
    public string? TensorName { get; }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}</c>, padded with
/// spaces so that the data starts 8-byte aligned), then the raw little-endian tensor bytes, packed in header order.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header this reader accepts (the reference implementation's limit): larger means a corrupt length.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    const string MetadataKey = "__metadata__";

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => 4,
        SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
        SafeTensorDType.BF16 or SafeTensorDType.F16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Expected F32, F64, BF16, F16 or I64."),
    };

    internal static long ElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (long d in shape) n = checked(n * d);
        return n;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (packed in the given order) and <paramref name="metadata"/> to
    /// <paramref name="path"/> atomically: the bytes go to a temporary file in the same directory, are flushed to the
    /// disk, and the temporary file then replaces <paramref name="path"/> in one rename. A reader (or a crash) sees
    /// either the old file or the complete new one, never a mixture.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor's name is empty, reserved or repeated, a dimension is negative, or
    /// its data is not the array type of its dtype or does not hold the product of its shape elements.</exception>
    /// <exception cref="IOException">The file could not be written; <paramref name="path"/> is then unchanged.</exception>
    public static void Write(string path, IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        byte[] header = BuildHeader(tensors, metadata);
        WriteAtomically(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in tensors) ForEachSlice(t.Data, stream.Write);
        });
    }

    /// <summary>
    /// Validates <paramref name="tensors"/> and builds the padded header (tensor entries in data order, metadata first).
    /// </summary>
    internal static byte[] BuildHeader(IReadOnlyList<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors stores little-endian bytes; this writer runs on little-endian machines only.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                {
                    ArgumentNullException.ThrowIfNull(value, $"{nameof(metadata)}[{key}]");
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                ArgumentNullException.ThrowIfNull(t, nameof(tensors));
                if (string.IsNullOrEmpty(t.Name) || t.Name == MetadataKey)
                    throw new ArgumentException($"Invalid tensor name '{t.Name}': it must be non-empty and not '{MetadataKey}'.", nameof(tensors));
                if (!names.Add(t.Name)) throw new ArgumentException($"Tensor '{t.Name}' appears more than once; names must be unique.", nameof(tensors));
                if (t.Shape.Any(d => d < 0)) throw new ArgumentException($"Tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}]; every dimension must be ≥ 0.", nameof(tensors));
                if (!IsArrayOf(t.Data, t.DType))
                    throw new ArgumentException($"Tensor '{t.Name}' is {t.DType} but its data is {t.Data?.GetType().Name ?? "null"}.", nameof(tensors));
                if (t.Data.LongLength != ElementCount(t.Shape))
                    throw new ArgumentException($"Tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] ({ElementCount(t.Shape)} elements) but {t.Data.LongLength} values.", nameof(tensors));
                long end = offset + t.Data.LongLength * ElementSize(t.DType);
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (long d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        // Spaces are JSON whitespace, so padding keeps the header valid while the tensor bytes start 8-byte aligned
        // (8 + N is a multiple of 8), which lets a reader map them straight onto typed arrays.
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    /// <summary>Writes through a temporary file in the target's directory, flushed to disk, then renamed over the target.</summary>
    internal static void WriteAtomically(string path, Action<FileStream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"Invalid path '{path}': it has no directory.", nameof(path));
        // Same directory: a rename is atomic only within one file system. The random part keeps concurrent writers apart.
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    internal static bool IsArrayOf(Array? data, SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => data is float[],
        SafeTensorDType.F64 => data is double[],
        SafeTensorDType.BF16 => data is BFloat16[],
        SafeTensorDType.F16 => data is Half[],
        SafeTensorDType.I64 => data is long[],
        _ => false,
    };

    /// <summary>
    /// The order of tensors in the data region: by offsets, then (only zero-length tensors can tie) by the UTF-8 bytes of
    /// the name, which is code-point order and so reproducible in any language.
    /// </summary>
    internal static readonly Comparison<SafeTensorInfo> DataOrder = (a, b) =>
        a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
        : a.End != b.End ? a.End.CompareTo(b.End)
        : Encoding.UTF8.GetBytes(a.Name).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b.Name));

    /// <summary>Receives a tensor's bytes, a slice at a time.</summary>
    internal delegate void ByteSink(ReadOnlySpan<byte> bytes);

    /// <summary>Hands the bytes of <paramref name="data"/> to <paramref name="sink"/> in order, in slices: a span is limited
    /// to int.MaxValue bytes, an array to int.MaxValue elements.</summary>
    internal static void ForEachSlice(Array data, ByteSink sink)
    {
        const int Slice = 1 << 26;
        switch (data)
        {
            case float[] f: for (int i = 0; i < f.Length; i += Slice) sink(MemoryMarshal.AsBytes(f.AsSpan(i, Math.Min(Slice, f.Length - i)))); break;
            case double[] d: for (int i = 0; i < d.Length; i += Slice) sink(MemoryMarshal.AsBytes(d.AsSpan(i, Math.Min(Slice, d.Length - i)))); break;
            case BFloat16[] b: for (int i = 0; i < b.Length; i += Slice) sink(MemoryMarshal.AsBytes(b.AsSpan(i, Math.Min(Slice, b.Length - i)))); break;
            case Half[] h: for (int i = 0; i < h.Length; i += Slice) sink(MemoryMarshal.AsBytes(h.AsSpan(i, Math.Min(Slice, h.Length - i)))); break;
            case long[] l: for (int i = 0; i < l.Length; i += Slice) sink(MemoryMarshal.AsBytes(l.AsSpan(i, Math.Min(Slice, l.Length - i)))); break;
            default: throw new ArgumentException($"Unsupported tensor data {data.GetType().Name}.", nameof(data));
        }
    }

    /// <summary>Reads and validates the header of <paramref name="path"/>; the tensors are read on demand.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file: the header length is out
    /// of range, the header is not the expected JSON, a dtype is unknown, a shape disagrees with its byte length, offsets
    /// are out of range, overlap or leave gaps, or the file is truncated. The message names the file and the tensor.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="path"/> does not exist.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return SafeTensorsFile.Open(path);
    }
}

/// <summary>A validated safetensors file: its tensor entries in data order and its metadata. Tensor bytes are read on demand.</summary>
public sealed class SafeTensorsFile
{
    SafeTensorsFile(string path, long dataStart, long dataLength, IReadOnlyList<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    readonly Dictionary<string, SafeTensorInfo> _byName;

    /// <summary>The file this was read from.</summary>
    public string Path { get; }

    /// <summary>Where the tensor bytes start: 8 + the header length.</summary>
    public long DataStart { get; }

    /// <summary>The length of the data region (every tensor's bytes, packed).</summary>
    public long DataLength { get; }

    /// <summary>The tensor entries, in the order of their bytes.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map (empty if the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The entry named <paramref name="name"/>, or <c>null</c>.</summary>
    public SafeTensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Reads one tensor's elements into a new array of its dtype's type (<c>float[]</c>, <c>double[]</c>,
    /// <see cref="BFloat16"/><c>[]</c>, <c>Half[]</c> or <c>long[]</c>).
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file changed since it was opened and is now shorter.</exception>
    public Array ReadData(SafeTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var data = NewArray(tensor);
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Fill(handle, tensor, data);
        return data;
    }

    /// <summary>Reads every tensor in data order, handing each one's bytes (as a typed array) to <paramref name="visit"/>.</summary>
    internal void ReadAll(Action<SafeTensorInfo, Array> visit)
    {
        using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        foreach (var t in Tensors)
        {
            var data = NewArray(t);
            Fill(handle, t, data);
            visit(t, data);
        }
    }

    Array NewArray(SafeTensorInfo t)
    {
        long count = t.ElementCount;
        if (count > Array.MaxLength) throw new SafeTensorsFormatException(Path, t.Name, $"{count} elements do not fit one .NET array.");
        int n = (int)count;
        return t.DType switch
        {
            SafeTensorDType.F32 => new float[n],
            SafeTensorDType.F64 => new double[n],
            SafeTensorDType.BF16 => new BFloat16[n],
            SafeTensorDType.F16 => new Half[n],
            _ => new long[n],
        };
    }

    void Fill(Microsoft.Win32.SafeHandles.SafeFileHandle handle, SafeTensorInfo t, Array data)
    {
        const int Slice = 1 << 26;
        int n = data.Length, size = SafeTensors.ElementSize(t.DType);
        for (int i = 0; i < n; i += Slice)
        {
            int len = Math.Min(Slice, n - i);
            Span<byte> target = data switch
            {
                float[] f => MemoryMarshal.AsBytes(f.AsSpan(i, len)),
                double[] d => MemoryMarshal.AsBytes(d.AsSpan(i, len)),
                BFloat16[] b => MemoryMarshal.AsBytes(b.AsSpan(i, len)),
                Half[] h => MemoryMarshal.AsBytes(h.AsSpan(i, len)),
                long[] l => MemoryMarshal.AsBytes(l.AsSpan(i, len)),
                _ => throw new InvalidOperationException(),
            };
            long position = DataStart + t.Begin + (long)i * size;
            while (target.Length > 0)
            {
                int read = RandomAccess.Read(handle, target, position);
                if (read == 0) throw new SafeTensorsFormatException(Path, t.Name, $"the file ended at byte {position} while reading the tensor (truncated after it was opened?).");
                target = target[read..];
                position += read;
            }
        }
    }

    internal static SafeTensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors stores little-endian bytes; this reader runs on little-endian machines only.");
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = RandomAccess.GetLength(handle);
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Fail(string problem, string? tensor = null, Exception? inner = null)
            => throw new SafeTensorsFormatException(path, tensor, problem, inner);

        if (fileLength < 8) Fail($"the file has {fileLength} bytes; a safetensors file starts with an 8-byte header length (truncated or not a safetensors file).");
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(handle, prefix, 0);
        ulong headerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > SafeTensors.MaxHeaderBytes)
            Fail($"the header length is {headerLength}; expected 2 ≤ N ≤ {SafeTensors.MaxHeaderBytes} (corrupt, or not a safetensors file).");
        if ((long)headerLength > fileLength - 8)
            Fail($"the header length is {headerLength} but only {fileLength - 8} bytes follow it (truncated file).");
        var headerBytes = new byte[headerLength];
        ReadExactly(handle, headerBytes, 8);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(headerBytes);
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException)
        {
            throw new SafeTensorsFormatException(path, null, $"the header is not valid UTF-8 JSON ({e.Message}).", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) Fail("the header is not a JSON object.");
            var tensors = new List<SafeTensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) Fail("the name appears more than once in the header.", property.Name);
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) Fail("__metadata__ is not a JSON object.");
                    foreach (var m in property.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) Fail($"metadata value '{m.Name}' is {m.Value.ValueKind}; metadata values must be strings.");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) Fail($"metadata key '{m.Name}' appears more than once.");
                    }
                    continue;
                }
                tensors.Add(ParseEntry(path, property));
            }
            // Tensors must tile the data region exactly, in offset order: no overlap (two tensors sharing bytes would
            // alias), no gap and no tail (a reader could not tell padding from lost data), no shortfall (truncation).
            tensors.Sort(SafeTensors.DataOrder);
            long expected = 0;
            foreach (var t in tensors)
            {
                if (t.Begin < expected) Fail($"data_offsets [{t.Begin}, {t.End}] overlap the previous tensor, which ends at {expected}.", t.Name);
                if (t.Begin > expected) Fail($"data_offsets [{t.Begin}, {t.End}] leave a gap after byte {expected} of the data region.", t.Name);
                if (t.End > dataLength)
                    Fail($"data_offsets [{t.Begin}, {t.End}] run past the data region, which has {dataLength} bytes (truncated file).", t.Name);
                expected = t.End;
            }
            if (expected != dataLength)
                Fail($"the tensors cover {expected} bytes but {dataLength} bytes follow the header (trailing data, or a corrupt header).");
            return new SafeTensorsFile(path, dataStart, dataLength, tensors, metadata);
        }
    }

    static SafeTensorInfo ParseEntry(string path, JsonProperty property)
    {
        string name = property.Name;
        [System.Diagnostics.CodeAnalysis.DoesNotReturn] void Fail(string problem) => throw new SafeTensorsFormatException(path, name, problem);
        if (name.Length == 0) Fail("a tensor name must not be empty.");
        var e = property.Value;
        if (e.ValueKind != JsonValueKind.Object) Fail($"the header entry is {e.ValueKind}, not an object with dtype, shape and data_offsets.");
        string? dtypeText = null;
        List<long>? shape = null, offsets = null;
        foreach (var field in e.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype":
                    if (field.Value.ValueKind != JsonValueKind.String) Fail("dtype is not a string.");
                    dtypeText = field.Value.GetString();
                    break;
                case "shape": shape = Integers(field.Value, "shape"); break;
                case "data_offsets": offsets = Integers(field.Value, "data_offsets"); break;
                default: Fail($"unexpected field '{field.Name}' (expected dtype, shape, data_offsets)."); break;
            }
        }
        if (dtypeText is null || shape is null || offsets is null) Fail("the entry needs dtype, shape and data_offsets.");
        if (!Enum.TryParse<SafeTensorDType>(dtypeText, ignoreCase: false, out var dtype) || !Enum.IsDefined(dtype) || dtypeText != dtype.ToString())
            Fail($"unsupported dtype '{dtypeText}' (this reader supports F32, F64, BF16, F16, I64).");
        if (offsets.Count != 2) Fail($"data_offsets has {offsets.Count} numbers; expected [begin, end].");
        long begin = offsets[0], end = offsets[1];
        if (end < begin) Fail($"data_offsets [{begin}, {end}] end before they begin.");
        long elements;
        try { elements = SafeTensors.ElementCount(shape); elements = checked(elements * SafeTensors.ElementSize(dtype)); }
        catch (OverflowException) { Fail($"shape [{string.Join(", ", shape)}] is too large."); throw; }
        if (elements != end - begin)
            Fail($"shape [{string.Join(", ", shape)}] of {dtype} needs {elements} bytes but data_offsets [{begin}, {end}] hold {end - begin}.");
        return new SafeTensorInfo(name, dtype, shape, begin, end);

        List<long> Integers(JsonElement value, string field)
        {
            if (value.ValueKind != JsonValueKind.Array) Fail($"{field} is not an array.");
            var list = new List<long>();
            foreach (var x in value.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out long v) || v < 0) Fail($"{field} holds {x.GetRawText()}; expected integers ≥ 0.");
                list.Add(v);
            }
            return list;
        }
    }

    static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> target, long position)
    {
        while (target.Length > 0)
        {
            int read = RandomAccess.Read(handle, target, position);
            if (read == 0) throw new EndOfStreamException();
            target = target[read..];
            position += read;
        }
    }
}
