using MathNet.Numerics.LinearAlgebra;

namespace Drp.Pipeline.Simulation;

/// <summary>One circular Gaussian of a mixture: its share of the flux and its variance (per axis).</summary>
internal readonly record struct GaussianComponent(double Amplitude, double Variance);

/// <summary>
/// Circular profiles approximated by mixtures of Gaussians (Hogg &amp; Lang 2013), so that a galaxy convolved with
/// the PSF is a sum of Gaussians with added covariances. The fits are made once, by non-negative least squares on
/// fixed log-spaced variances, and rescaled so that the mixture keeps the profile's defining size exactly
/// (half-light radius 1 for Sérsic profiles, FWHM 1 for the Moffat PSF); amplitudes sum to 1.
/// </summary>
internal static class GaussianMixture
{
    private static readonly Lazy<GaussianComponent[]> s_exponential = new(() =>
        FitAndScaleToHalfLight(r => Math.Exp(-SersicB(1.0) * r), rMax: 6.0, vMin: 1e-3, vMax: 6.0, count: 12));

    private static readonly Lazy<GaussianComponent[]> s_deVaucouleurs = new(() =>
        FitAndScaleToHalfLight(r => Math.Exp(-SersicB(4.0) * Math.Pow(r, 0.25)), rMax: 8.0, vMin: 1e-5, vMax: 20.0, count: 16));

    /// <summary>Sérsic n = 1 in units of the half-light radius.</summary>
    public static IReadOnlyList<GaussianComponent> Exponential => s_exponential.Value;

    /// <summary>Sérsic n = 4 (truncated at 8 half-light radii) in units of the half-light radius.</summary>
    public static IReadOnlyList<GaussianComponent> DeVaucouleurs => s_deVaucouleurs.Value;

    /// <summary>The Sérsic b_n such that r_e encloses half the light (Ciotti &amp; Bertin 1999 expansion).</summary>
    public static double SersicB(double n) =>
        2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n) + 131.0 / (1148175.0 * n * n * n);

    /// <summary>A Moffat profile of index <paramref name="beta"/> in units of its FWHM, as a mixture.</summary>
    public static GaussianComponent[] Moffat(double beta)
    {
        double alpha = MoffatAlphaPerFwhm(beta);
        var mix = Fit(r => Math.Pow(1.0 + r * r / (alpha * alpha), -beta), rMax: 12.0 * alpha, vMin: 2e-3, vMax: 40.0 * alpha * alpha, count: 12);
        // Rescale so that the mixture's own FWHM is exactly 1.
        double peak = Evaluate(mix, 0.0);
        double lo = 0.0, hi = 2.0;
        for (int i = 0; i < 100; i++)
        {
            double mid = 0.5 * (lo + hi);
            (Evaluate(mix, mid) > 0.5 * peak ? ref lo : ref hi) = mid;
        }
        double halfWidth = 0.5 * (lo + hi);
        double scale = 0.5 / halfWidth;
        return mix.Select(c => c with { Variance = c.Variance * scale * scale }).ToArray();
    }

    /// <summary>Moffat α for a FWHM of 1: FWHM = 2 α √(2^(1/β) − 1).</summary>
    public static double MoffatAlphaPerFwhm(double beta) => 0.5 / Math.Sqrt(Math.Pow(2.0, 1.0 / beta) - 1.0);

    /// <summary>Surface brightness of a normalized circular mixture at radius r.</summary>
    public static double Evaluate(IReadOnlyList<GaussianComponent> mix, double r)
    {
        double s = 0;
        foreach (var c in mix)
        {
            s += c.Amplitude / (2.0 * Math.PI * c.Variance) * Math.Exp(-r * r / (2.0 * c.Variance));
        }
        return s;
    }

    /// <summary>Fraction of the flux of a circular mixture within radius r.</summary>
    public static double EnclosedFraction(IReadOnlyList<GaussianComponent> mix, double r)
    {
        double s = 0;
        foreach (var c in mix)
        {
            s += c.Amplitude * (1.0 - Math.Exp(-r * r / (2.0 * c.Variance)));
        }
        return s;
    }

    private static GaussianComponent[] FitAndScaleToHalfLight(Func<double, double> profile, double rMax, double vMin, double vMax, int count)
    {
        var mix = Fit(profile, rMax, vMin, vMax, count);
        double lo = 0.0, hi = 10.0 * rMax;
        for (int i = 0; i < 100; i++)
        {
            double mid = 0.5 * (lo + hi);
            (EnclosedFraction(mix, mid) < 0.5 ? ref lo : ref hi) = mid;
        }
        double scale = 1.0 / (0.5 * (lo + hi));
        return mix.Select(c => c with { Variance = c.Variance * scale * scale }).ToArray();
    }

    /// <summary>Non-negative least-squares fit of a circular profile (unnormalized, truncated at rMax) by Gaussians.</summary>
    private static GaussianComponent[] Fit(Func<double, double> profile, double rMax, double vMin, double vMax, int count)
    {
        var variances = Enumerable.Range(0, count).Select(k => vMin * Math.Pow(vMax / vMin, k / (count - 1.0))).ToArray();
        // Samples dense near the centre (log-spaced) and over the whole range (linear), weighted by the area they stand for.
        var radii = new SortedSet<double>();
        for (int i = 0; i < 200; i++)
        {
            radii.Add(rMax * Math.Pow(1e-4, 1.0 - i / 199.0));
            radii.Add(rMax * (i + 0.5) / 200.0);
        }
        double[] r = radii.ToArray();
        int n = r.Length;
        var a = Matrix<double>.Build.Dense(n, count);
        var b = Vector<double>.Build.Dense(n);
        for (int i = 0; i < n; i++)
        {
            double lo = i == 0 ? 0.0 : 0.5 * (r[i - 1] + r[i]);
            double hi = i == n - 1 ? rMax : 0.5 * (r[i] + r[i + 1]);
            double w = Math.Sqrt(Math.PI * (hi * hi - lo * lo));
            b[i] = w * profile(r[i]);
            for (int k = 0; k < count; k++)
            {
                a[i, k] = w * Math.Exp(-r[i] * r[i] / (2.0 * variances[k])) / (2.0 * Math.PI * variances[k]);
            }
        }
        double[] amps = NonNegativeLeastSquares(a, b);
        double total = amps.Sum();
        return amps.Select((x, k) => new GaussianComponent(x / total, variances[k]))
            .Where(c => c.Amplitude > 1e-6)
            .ToArray();
    }

    /// <summary>Lawson–Hanson active-set NNLS: min ‖A x − b‖ subject to x ≥ 0.</summary>
    internal static double[] NonNegativeLeastSquares(Matrix<double> a, Vector<double> b)
    {
        int m = a.ColumnCount;
        var x = Vector<double>.Build.Dense(m);
        var passive = new bool[m];
        const double tol = 1e-12;
        for (int outer = 0; outer < 10 * m; outer++)
        {
            var w = a.TransposeThisAndMultiply(b - a * x);
            int best = -1;
            double bestW = tol * w.AbsoluteMaximum();
            for (int j = 0; j < m; j++)
            {
                if (!passive[j] && w[j] > bestW)
                {
                    bestW = w[j];
                    best = j;
                }
            }
            if (best < 0)
            {
                break;
            }
            passive[best] = true;
            while (true)
            {
                int[] p = Enumerable.Range(0, m).Where(j => passive[j]).ToArray();
                var ap = Matrix<double>.Build.Dense(a.RowCount, p.Length, (i, k) => a[i, p[k]]);
                var zp = ap.QR().Solve(b);
                if (zp.All(v => v > 0))
                {
                    x.Clear();
                    for (int k = 0; k < p.Length; k++)
                    {
                        x[p[k]] = zp[k];
                    }
                    break;
                }
                double alpha = double.MaxValue;
                for (int k = 0; k < p.Length; k++)
                {
                    if (zp[k] <= 0)
                    {
                        alpha = Math.Min(alpha, x[p[k]] / (x[p[k]] - zp[k]));
                    }
                }
                for (int k = 0; k < p.Length; k++)
                {
                    x[p[k]] += alpha * (zp[k] - x[p[k]]);
                    if (x[p[k]] <= tol)
                    {
                        x[p[k]] = 0;
                        passive[p[k]] = false;
                    }
                }
            }
        }
        return x.ToArray();
    }
}
