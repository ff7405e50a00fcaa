using System.Numerics;
using System.Runtime.Intrinsics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Summary of a sigma-clipped sample.</summary>
public readonly record struct ClippedStatistics(double Mean, double Median, double StdDev, int Count);

/// <summary>Allocation-free order statistics and sigma clipping on caller-owned buffers (the buffer is reordered).</summary>
public static class RobustStatistics
{
    /// <summary>Median of <paramref name="values"/> (reorders it); NaN when empty.</summary>
    public static double Median(Span<float> values)
    {
        int n = values.Length;
        if (n == 0)
        {
            return double.NaN;
        }
        double upper = Select(values, n / 2);
        if ((n & 1) == 1)
        {
            return upper;
        }
        // After selection every element left of n/2 is <= the selected one: the lower middle is their maximum.
        float lower = float.NegativeInfinity;
        foreach (float v in values[..(n / 2)])
        {
            lower = Math.Max(lower, v);
        }
        return 0.5 * (lower + upper);
    }

    /// <summary>Median of doubles (reorders it); NaN when empty.</summary>
    public static double Median(Span<double> values)
    {
        int n = values.Length;
        if (n == 0)
        {
            return double.NaN;
        }
        values.Sort();
        return (n & 1) == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }

    /// <summary>
    /// Iterative clipping about the median at <paramref name="nSigma"/> standard deviations until nothing changes or
    /// <paramref name="maxIterations"/> is reached; the buffer ends holding the kept values first.
    /// </summary>
    public static ClippedStatistics SigmaClip(Span<float> values, double nSigma = 3.0, int maxIterations = 5)
    {
        int n = values.Length;
        if (n == 0)
        {
            return new ClippedStatistics(double.NaN, double.NaN, double.NaN, 0);
        }
        double median = 0, mean = 0, std = 0;
        for (int iter = 0; iter <= maxIterations; iter++)
        {
            var kept = values[..n];
            (mean, std) = MeanStd(kept);
            median = Median(kept);
            if (iter == maxIterations || std <= 0)
            {
                break;
            }
            double lo = median - nSigma * std, hi = median + nSigma * std;
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                float v = values[i];
                if (v >= lo && v <= hi)
                {
                    values[m++] = v;
                }
            }
            if (m == n || m == 0)
            {
                break;
            }
            n = m;
        }
        return new ClippedStatistics(mean, median, std, n);
    }

    /// <summary>Mean and (population) standard deviation, accumulated in double.</summary>
    public static (double Mean, double StdDev) MeanStd(ReadOnlySpan<float> values)
    {
        if (values.Length == 0)
        {
            return (double.NaN, double.NaN);
        }
        double sum = 0;
        foreach (float v in values)
        {
            sum += v;
        }
        double mean = sum / values.Length, ss = 0;
        foreach (float v in values)
        {
            double d = v - mean;
            ss += d * d;
        }
        return (mean, Math.Sqrt(ss / values.Length));
    }

    /// <summary>Puts the k-th smallest element at index k (smaller ones before it) and returns it.</summary>
    internal static float Select(Span<float> a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            int mid = lo + (hi - lo) / 2;
            // Median of three as the pivot keeps sorted and constant inputs linear.
            if (a[mid] < a[lo]) { (a[mid], a[lo]) = (a[lo], a[mid]); }
            if (a[hi] < a[lo]) { (a[hi], a[lo]) = (a[lo], a[hi]); }
            if (a[hi] < a[mid]) { (a[hi], a[mid]) = (a[mid], a[hi]); }
            float pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) { i++; }
                while (a[j] > pivot) { j--; }
                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                break;
            }
        }
        return a[k];
    }
}

/// <summary>
/// The same iterative clipping as <see cref="RobustStatistics.SigmaClip"/> (same kept set, median and count; mean and
/// standard deviation equal up to rounding), in linear time for the many mid-sized samples of a background mesh:
/// the values are counting-sorted once into fine bins around a robust centre (a subsample's median, bins of
/// ~1/85 of its interquartile sigma, outliers in two end bins), so that each clipping iteration's sums are the whole
/// sample's less those of the few values outside its bounds (the bins beyond them, and an exact scan of the two bins
/// they cut), and each median a selection inside one bin, instead of a selection over the whole sample. Holds its
/// scratch buffers: one instance per thread.
/// </summary>
internal sealed class BinnedSigmaClipper
{
    private const int Bins = 1024;
    private const double HalfRangeSigmas = 6.0;
    private const int SubsampleSize = 127;

    // Bin 0 holds values below the range, bin Bins + 1 those above it; _start (bin b's first index in _sorted) has one more entry.
    private readonly int[] _count = new int[Bins + 2];
    private readonly int[] _start = new int[Bins + 3];
    private readonly float[] _subsample = new float[SubsampleSize + 1];
    private float[] _sorted = [];
    private ushort[] _binOf = [];
    private float[] _scratch = [];
    private double _centre;
    private double _total, _total2; // Σ (v − centre) and Σ (v − centre)² over the whole sample
    private int _n;
    private float _low, _inverseWidth;

    /// <summary>Clipped statistics of <paramref name="values"/> (not modified), as <see cref="RobustStatistics.SigmaClip"/>.</summary>
    public ClippedStatistics Clip(ReadOnlySpan<float> values, double nSigma = 3.0, int maxIterations = 5)
    {
        int n = values.Length;
        if (n < 4 * SubsampleSize || !Prepare(values))
        {
            // Small or degenerate samples: the plain algorithm is as fast and handles every edge case.
            if (_scratch.Length < n)
            {
                _scratch = new float[n];
            }
            var copy = _scratch.AsSpan(0, n);
            values.CopyTo(copy);
            return RobustStatistics.SigmaClip(copy, nSigma, maxIterations);
        }

        double lo = double.NegativeInfinity, hi = double.PositiveInfinity;
        double median = 0, mean = 0, std = 0;
        for (int iter = 0; iter <= maxIterations; iter++)
        {
            var (count, sum, sum2) = Sums(lo, hi);
            n = count;
            double shiftedMean = sum / n;
            mean = _centre + shiftedMean;
            std = Math.Sqrt(Math.Max(sum2 / n - shiftedMean * shiftedMean, 0.0));
            median = Median(lo, hi, n);
            if (iter == maxIterations || std <= 0)
            {
                break;
            }
            double newLo = Math.Max(lo, median - nSigma * std), newHi = Math.Min(hi, median + nSigma * std);
            int m = Sums(newLo, newHi).Count;
            if (m == n || m == 0)
            {
                break;
            }
            (lo, hi) = (newLo, newHi);
        }
        return new ClippedStatistics(mean, median, std, n);
    }

    /// <summary>Centre and bin width from a subsample, then the counting sort; false when the spread is zero or not finite.</summary>
    private bool Prepare(ReadOnlySpan<float> values)
    {
        int step = values.Length / SubsampleSize;
        var sub = _subsample.AsSpan(0, SubsampleSize);
        for (int i = 0; i < SubsampleSize; i++)
        {
            sub[i] = values[i * step];
        }
        // The median first: the array is then partitioned about it, so each quartile is a selection in one half.
        const int half = SubsampleSize / 2;
        float mid = RobustStatistics.Select(sub, half);
        float q1 = RobustStatistics.Select(sub[..half], SubsampleSize / 4);
        float q3 = RobustStatistics.Select(sub[(half + 1)..], 3 * SubsampleSize / 4 - half - 1);
        double sigma = (q3 - q1) / 1.349;
        if (!(sigma > 0) || !double.IsFinite(sigma) || !float.IsFinite(mid))
        {
            return false;
        }
        _centre = mid;
        _low = (float)(mid - HalfRangeSigmas * sigma);
        _inverseWidth = (float)(Bins / (2 * HalfRangeSigmas * sigma));
        if (!(_inverseWidth > 0) || !float.IsFinite(_inverseWidth))
        {
            return false;
        }

        int n = values.Length;
        if (_sorted.Length < n)
        {
            _sorted = new float[n];
            _binOf = new ushort[n];
        }
        Array.Clear(_count);
        var binOf = _binOf.AsSpan(0, n);
        if (!BinAll(values, binOf))
        {
            return false;
        }
        foreach (ushort b in binOf)
        {
            _count[b]++;
        }
        _start[0] = 0;
        for (int b = 0; b < Bins + 2; b++)
        {
            _start[b + 1] = _start[b] + _count[b];
            _count[b] = _start[b]; // from here on the fill cursor of bin b
        }
        for (int i = 0; i < n; i++)
        {
            _sorted[_count[binOf[i]]++] = values[i];
        }
        (_total, _total2) = CentredSums(values, _centre);
        _n = n;
        return true;
    }

    /// <summary>Σ (v − centre) and Σ (v − centre)² in double, four values at a time.</summary>
    private static (double Sum, double Sum2) CentredSums(ReadOnlySpan<float> values, double centre)
    {
        double sum = 0, sum2 = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var c = Vector256.Create(centre);
            var s = Vector256<double>.Zero;
            var s2 = Vector256<double>.Zero;
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(values.Slice(i, Vector256<float>.Count)));
                lo -= c;
                hi -= c;
                s += lo + hi;
                s2 += lo * lo + hi * hi;
            }
            sum = Vector256.Sum(s);
            sum2 = Vector256.Sum(s2);
        }
        for (; i < values.Length; i++)
        {
            double d = values[i] - centre;
            sum += d;
            sum2 += d * d;
        }
        return (sum, sum2);
    }

    /// <summary>
    /// <see cref="BinOf(float)"/> of every value, a vector at a time (floor, then clamp to the two end bins: the
    /// same bins); false when a value is not finite.
    /// </summary>
    private bool BinAll(ReadOnlySpan<float> values, Span<ushort> bins)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var low = new Vector<float>(_low);
            var inverseWidth = new Vector<float>(_inverseWidth);
            var below = new Vector<float>(-1f);
            var above = new Vector<float>(Bins);
            var finite = Vector<int>.AllBitsSet;
            Span<int> lanes = stackalloc int[Vector<int>.Count];
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                finite &= Vector.Equals(v - v, Vector<float>.Zero); // NaN or infinity gives NaN
                var t = Vector.Min(Vector.Max(Vector.Floor((v - low) * inverseWidth), below), above);
                (Vector.ConvertToInt32(t) + Vector<int>.One).CopyTo(lanes);
                for (int k = 0; k < lanes.Length; k++)
                {
                    bins[i + k] = (ushort)lanes[k];
                }
            }
            if (!Vector.EqualsAll(finite, Vector<int>.AllBitsSet))
            {
                return false;
            }
        }
        for (; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsFinite(v))
            {
                return false;
            }
            bins[i] = (ushort)BinOf(v);
        }
        return true;
    }

    /// <summary>
    /// Monotonic in v (float subtraction and multiplication by a positive number are), so every value of a bin strictly
    /// between BinOf(lo) and BinOf(hi) lies in [lo, hi]: a float below lo is at most lo rounded to float.
    /// </summary>
    private int BinOf(float v)
    {
        float t = (v - _low) * _inverseWidth;
        return t < 0 ? 0 : t >= Bins ? Bins + 1 : (int)t + 1;
    }

    private int BinOf(double bound) => bound <= float.MinValue ? 0 : bound >= float.MaxValue ? Bins + 1 : BinOf((float)bound);

    /// <summary>
    /// Count, sum and sum of squares (about the centre) of the values in [lo, hi]: the whole sample's less those of
    /// the values outside, which a clip leaves few of (the bins below lo's and above hi's, and the part of those two
    /// bins outside the bounds).
    /// </summary>
    private (int Count, double Sum, double Sum2) Sums(double lo, double hi)
    {
        int bl = BinOf(lo), bh = BinOf(hi);
        int count = 0;
        double sum = 0, sum2 = 0;
        // The bins up to lo's, then from hi's on (when they are one bin, from the next).
        int lowEnd = _start[bl + 1];
        AddOutside(0, lowEnd, lo, hi, ref count, ref sum, ref sum2);
        AddOutside(Math.Max(lowEnd, _start[bh]), _n, lo, hi, ref count, ref sum, ref sum2);
        return (_n - count, _total - sum, _total2 - sum2);
    }

    /// <summary>Adds the values of _sorted[from..to) outside [lo, hi] (bins wholly outside hold only such values).</summary>
    private void AddOutside(int from, int to, double lo, double hi, ref int count, ref double sum, ref double sum2)
    {
        for (int i = from; i < to; i++)
        {
            float v = _sorted[i];
            if (!(v >= lo && v <= hi))
            {
                double d = v - _centre;
                count++;
                sum += d;
                sum2 += d * d;
            }
        }
    }

    /// <summary>The median of the n values in [lo, hi], as <see cref="RobustStatistics.Median(Span{float})"/> gives it.</summary>
    private double Median(double lo, double hi, int n)
    {
        double upper = ValueAtRank(lo, hi, n / 2);
        return (n & 1) == 1 ? upper : 0.5 * (ValueAtRank(lo, hi, n / 2 - 1) + upper);
    }

    /// <summary>The k-th smallest (zero-based) of the values in [lo, hi].</summary>
    private float ValueAtRank(double lo, double hi, int k)
    {
        int bl = BinOf(lo), bh = BinOf(hi);
        for (int b = bl; b <= bh; b++)
        {
            if (b == bl || b == bh)
            {
                int inBin = CollectEdge(b, lo, hi);
                if (k < inBin)
                {
                    return RobustStatistics.Select(_scratch.AsSpan(0, inBin), k);
                }
                k -= inBin;
                continue;
            }
            // The interior bins b .. bh - 1 lie wholly inside [lo, hi] and contiguously in _sorted.
            int run = _start[bh] - _start[b];
            if (k >= run)
            {
                k -= run;
                b = bh - 1;
                continue;
            }
            int position = _start[b] + k;
            int bin = UpperBound(b, bh - 1, position);
            int size = _start[bin + 1] - _start[bin];
            _sorted.AsSpan(_start[bin], size).CopyTo(Scratch(size));
            return RobustStatistics.Select(_scratch.AsSpan(0, size), position - _start[bin]);
        }
        throw new InvalidOperationException("rank beyond the clipped sample");
    }

    /// <summary>The smallest bin in [from, to] whose end (_start[b + 1]) exceeds <paramref name="target"/>; to when none.</summary>
    private int UpperBound(int from, int to, int target)
    {
        while (from < to)
        {
            int mid = (from + to) / 2;
            if (_start[mid + 1] > target)
            {
                to = mid;
            }
            else
            {
                from = mid + 1;
            }
        }
        return from;
    }

    /// <summary>Copies bin b's values within [lo, hi] to the scratch buffer; returns how many.</summary>
    private int CollectEdge(int b, double lo, double hi)
    {
        var scratch = Scratch(_start[b + 1] - _start[b]);
        int m = 0;
        for (int i = _start[b]; i < _start[b + 1]; i++)
        {
            float v = _sorted[i];
            if (v >= lo && v <= hi)
            {
                scratch[m++] = v;
            }
        }
        return m;
    }

    private Span<float> Scratch(int n)
    {
        if (_scratch.Length < n)
        {
            _scratch = new float[Math.Max(n, 2 * _scratch.Length)];
        }
        return _scratch.AsSpan(0, n);
    }
}
