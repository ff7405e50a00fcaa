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
