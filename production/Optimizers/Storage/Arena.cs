using Optimizers.Kernels;

namespace Optimizers.Storage;

/// <summary>The name and dtype of one per-element state buffer (upstream's key, e.g. <c>exp_avg</c>).</summary>
internal readonly record struct BufferSpec(string Name, DType DType);

/// <summary>
/// The parameters of one group that share a dtype, laid out back to back: one value arena, one gradient arena and one
/// arena per state buffer, all with the same per-tensor segments. Also holds the per-tensor counters (step, running
/// products) and the scratch that turns a step into a few long kernel calls.
/// </summary>
internal sealed class Arena
{
    public Arena(object owner, DType paramDType, Parameter[] members, BufferSpec[] specs)
    {
        ParamDType = paramDType;
        Members = members;
        Offsets = new int[members.Length];
        long total = 0;
        for (int i = 0; i < members.Length; i++)
        {
            Offsets[i] = (int)total;
            total += members[i].Length;
        }
        if (total > Array.MaxLength) throw new ArgumentException($"A parameter group holds {total} {paramDType} elements; at most {Array.MaxLength} fit one arena.", "parameters");
        Length = (int)total;
        Values = new TensorBuffer(paramDType, Length);
        Grads = new TensorBuffer(paramDType, Length);
        Specs = specs;
        Buffers = Array.ConvertAll(specs, s => new TensorBuffer(s.DType, Length));
        HasState = new bool[members.Length];
        Steps = new double[members.Length];
        Power1 = new double[members.Length];
        Power2 = new double[members.Length];
        RunFirst = new int[members.Length];
        RunEnd = new int[members.Length];
        RunHomeAdam = new HomeAdamScalars[members.Length];
        for (int i = 0; i < members.Length; i++)
            members[i].Rehome(owner, Values, Grads, Offsets[i]);
    }

    public DType ParamDType { get; }
    public Parameter[] Members { get; }
    public int[] Offsets { get; }
    public int Length { get; }
    public TensorBuffer Values { get; }
    public TensorBuffer Grads { get; }
    public BufferSpec[] Specs { get; }
    public TensorBuffer[] Buffers { get; }
    public bool[] HasState { get; }
    public double[] Steps { get; }
    public double[] Power1 { get; }
    public double[] Power2 { get; }

    // A run is a maximal stretch of adjacent members that have a gradient and identical per-tensor counters, so one
    // kernel call with one set of scalars covers all of them: 100 small tensors cost what one tensor of their total costs.
    public int RunCount;
    public readonly int[] RunFirst;
    public readonly int[] RunEnd;
    public readonly HomeAdamScalars[] RunHomeAdam;

    public int RunOffset(int run) => Offsets[RunFirst[run]];
    public int RunLength(int run) => Offsets[RunEnd[run] - 1] + Members[RunEnd[run] - 1].Length - Offsets[RunFirst[run]];

    /// <summary>The device twin when the optimizer runs on an accelerator; null on the CPU.</summary>
    public DeviceArena? Device { get; private set; }

    public void AttachDevice(Accelerators.AcceleratorKernelBackend backend) => Device = new DeviceArena(backend, this);

    public void DetachDevice()
    {
        Device?.Dispose();
        Device = null;
    }

    public TensorBuffer? Buffer(string name)
    {
        for (int i = 0; i < Specs.Length; i++)
            if (Specs[i].Name == name) return Buffers[i];
        return null;
    }

    /// <summary>Lazy state: a member gets zeroed buffers, step 0 and running products 1 on its first step with a gradient.</summary>
    public void EnsureStateForGradients()
    {
        if (Specs.Length == 0) return;
        for (int i = 0; i < Members.Length; i++)
        {
            if (HasState[i] || !Members[i].HasGrad) continue;
            InitState(i);
        }
    }

    public void InitState(int member)
    {
        foreach (var b in Buffers) b.Clear(Offsets[member], Members[member].Length);
        // Both copies are cleared, so whichever of them is current stays current.
        if (Device is { } d)
            foreach (var b in d.Buffers) d.Backend.Clear(b, Offsets[member], Members[member].Length);
        Steps[member] = 0;
        Power1[member] = 1.0;
        Power2[member] = 1.0;
        HasState[member] = true;
    }

    public void BuildRuns()
    {
        RunCount = 0;
        int n = Members.Length, i = 0;
        while (i < n)
        {
            if (!Members[i].HasGrad) { i++; continue; }
            int first = i++;
            while (i < n && Members[i].HasGrad && SameCounters(first, i)) i++;
            RunFirst[RunCount] = first;
            RunEnd[RunCount] = i;
            RunCount++;
        }
    }

    bool SameCounters(int a, int b)
        => HasState[a] == HasState[b]
           && BitConverter.DoubleToInt64Bits(Steps[a]) == BitConverter.DoubleToInt64Bits(Steps[b])
           && BitConverter.DoubleToInt64Bits(Power1[a]) == BitConverter.DoubleToInt64Bits(Power1[b])
           && BitConverter.DoubleToInt64Bits(Power2[a]) == BitConverter.DoubleToInt64Bits(Power2[b]);

    /// <summary>Advances the counters of every member of a run to the values its kernel call used.</summary>
    public void Advance(int run, double step, double power1, double power2)
    {
        for (int m = RunFirst[run]; m < RunEnd[run]; m++)
        {
            Steps[m] = step;
            Power1[m] = power1;
            Power2[m] = power2;
        }
    }

    /// <summary>Number of gradients of this arena that hold NaN or ±∞; <paramref name="first"/> is the first offender.</summary>
    /// <remarks>Adjacent members with gradients are contiguous in the gradient arena, so each stretch of them is scanned
    /// in one call that <paramref name="path"/> may spread over threads (100 small tensors cost what one large one does);
    /// only a stretch that holds a non-finite value is scanned again member by member, to count and name them.</remarks>
    public int CountNonFinite(ref Parameter? first, KernelPath path)
    {
        int count = 0, n = Members.Length, i = 0;
        while (i < n)
        {
            if (!Members[i].HasGrad) { i++; continue; }
            int start = i++;
            while (i < n && Members[i].HasGrad) i++;
            int offset = Offsets[start], length = Offsets[i - 1] + Members[i - 1].Length - offset;
            if (NonFiniteScan.AllFinite(Grads, offset, length, path)) continue;
            for (int m = start; m < i; m++)
            {
                if (NonFiniteScan.AllFinite(Grads, Offsets[m], Members[m].Length, path)) continue;
                count++;
                first ??= Members[m];
            }
        }
        return count;
    }
}
