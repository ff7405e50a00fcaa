namespace Drp.Pipeline.Simulation;

/// <summary>What a random stream is used for; part of its key so that streams of different purposes never coincide.</summary>
internal enum StreamPurpose : ulong
{
    Catalog = 1,
    Visit = 2,
    Electronics = 3,
    Defects = 4,
    Poisson = 5,
    CosmicRays = 6,
    Readout = 7,
    RefcatNoise = 8,
}

/// <summary>
/// A xoshiro256** generator seeded through SplitMix64 from a key (seed, purpose, a, b, c). Every piece of work that
/// needs randomness (one catalog, one visit, one row of one frame, one amplifier readout) gets its own stream, so
/// results do not depend on the order in which frames, rows or amplifiers are generated, nor on the thread count.
/// </summary>
internal sealed class SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double _spareGaussian = double.NaN;

    public SimRandom(long seed, StreamPurpose purpose, long a = 0, long b = 0, long c = 0)
    {
        ulong h = Hash((ulong)seed, (ulong)purpose, (ulong)a, (ulong)b, (ulong)c);
        _s0 = SplitMix(ref h);
        _s1 = SplitMix(ref h);
        _s2 = SplitMix(ref h);
        _s3 = SplitMix(ref h);
    }

    /// <summary>A 64-bit hash of a key: a counter-based source of randomness for per-pixel fixed patterns.</summary>
    public static ulong Hash(ulong a, ulong b, ulong c = 0, ulong d = 0, ulong e = 0)
    {
        ulong h = Mix(a + 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (b + 0xBF58476D1CE4E5B9UL));
        h = Mix(h ^ (c + 0x94D049BB133111EBUL));
        h = Mix(h ^ (d + 0x2545F4914F6CDD1DUL));
        return Mix(h ^ (e + 0x9E3779B97F4A7C15UL));
    }

    /// <summary>A cheap uniform number in [0, 1) for element <paramref name="index"/> of a keyed fixed pattern (one mixing round).</summary>
    public static double UnitAt(ulong key, ulong index) => HashToUnit(Mix(key ^ (index * 0x9E3779B97F4A7C15UL)));

    /// <summary>A uniform number in [0, 1) from a hash value.</summary>
    public static double HashToUnit(ulong h) => (h >> 11) * (1.0 / (1UL << 53));

    public ulong NextULong()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)(NextDouble() * n);

    /// <summary>Standard normal deviate (Marsaglia's polar method).</summary>
    public double Gaussian()
    {
        if (!double.IsNaN(_spareGaussian))
        {
            double s = _spareGaussian;
            _spareGaussian = double.NaN;
            return s;
        }
        double u, v, q;
        do
        {
            u = 2.0 * NextDouble() - 1.0;
            v = 2.0 * NextDouble() - 1.0;
            q = u * u + v * v;
        }
        while (q >= 1.0 || q == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(q) / q);
        _spareGaussian = v * f;
        return u * f;
    }

    /// <summary>
    /// A Poisson deviate of mean <paramref name="lambda"/>: exact by multiplication for small means and by
    /// Hörmann's transformed rejection (PTRS, 1993) from 10 up.
    /// </summary>
    public double Poisson(double lambda)
    {
        if (!(lambda > 0.0))
        {
            return 0.0;
        }
        if (lambda < 10.0)
        {
            double limit = Math.Exp(-lambda);
            double p = NextDouble();
            int k = 0;
            while (p > limit)
            {
                p *= NextDouble();
                k++;
            }
            return k;
        }
        double slam = Math.Sqrt(lambda);
        double b = 0.931 + 2.53 * slam;
        double a = -0.059 + 0.02483 * b;
        double invAlpha = 1.1239 + 1.1328 / (b - 3.4);
        double vr = 0.9277 - 3.6224 / (b - 2.0);
        while (true)
        {
            double u = NextDouble() - 0.5;
            double v = NextDouble();
            double us = 0.5 - Math.Abs(u);
            double k = Math.Floor((2.0 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr)
            {
                return k;
            }
            if (k < 0.0 || (us < 0.013 && v > us))
            {
                continue;
            }
            if (Math.Log(v) + Math.Log(invAlpha) - Math.Log(a / (us * us) + b) <= -lambda + k * Math.Log(lambda) - LogFactorial(k))
            {
                return k;
            }
        }
    }

    private static double LogFactorial(double k)
    {
        if (k < 10.0)
        {
            double f = 1.0;
            for (int i = 2; i <= (int)k; i++)
            {
                f *= i;
            }
            return Math.Log(f);
        }
        // Stirling's series: ample precision for k >= 10.
        double k1 = k + 1.0;
        return (k1 - 0.5) * Math.Log(k1) - k1 + 0.5 * Math.Log(2.0 * Math.PI)
            + 1.0 / (12.0 * k1) - 1.0 / (360.0 * k1 * k1 * k1);
    }

    private static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
