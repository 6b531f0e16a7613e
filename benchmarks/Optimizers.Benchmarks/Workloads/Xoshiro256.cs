namespace Optimizers.Benchmarks.Workloads;

/// <summary>
/// xoshiro256** (Blackman and Vigna) seeded through splitmix64, with Box–Muller normals. Our own
/// generator, so every workload is reproducible from a seed on any machine; it cannot reproduce torch's
/// mt19937 stream, so data and initial weights differ from upstream's for the same seed.
/// </summary>
public sealed class Xoshiro256
{
    ulong _s0, _s1, _s2, _s3;
    double? _spareNormal;

    public Xoshiro256(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double NextUniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Standard normal by Box–Muller; the second value of each pair is kept for the next call.</summary>
    public double NextNormal()
    {
        if (_spareNormal is double spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: the log stays finite
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = radius * Math.Sin(2.0 * Math.PI * u2);
        return radius * Math.Cos(2.0 * Math.PI * u2);
    }

    public void FillNormal(Span<float> target, double scale)
    {
        for (int i = 0; i < target.Length; i++) target[i] = (float)(NextNormal() * scale);
    }
}
