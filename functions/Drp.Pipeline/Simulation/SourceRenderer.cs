namespace Drp.Pipeline.Simulation;

/// <summary>A rectangle of rendered electrons whose pixel (0, 0) is image pixel (X0, Y0).</summary>
internal sealed record Stamp(int X0, int Y0, int Width, int Height, float[] Pixels);

/// <summary>
/// Renders sources into stamps, integrating over each pixel by sub-pixel sampling. Stars are the exact Moffat PSF;
/// galaxies are Sérsic mixtures of Gaussians convolved analytically with the Gaussian-mixture fit of the same Moffat.
/// A stamp reaches out to where the surface brightness falls below <see cref="ThresholdElectrons"/> (bounded) and is
/// then rescaled to hold exactly the source's electrons, so that flux is conserved up to the image edges.
/// </summary>
internal sealed class SourceRenderer
{
    /// <summary>Surface brightness, electrons per pixel, below which a profile's wings are not rendered.</summary>
    public const double ThresholdElectrons = 0.02;

    private const int MaxRadius = 300;

    private readonly double _alpha;
    private readonly double _beta;
    private readonly double _fwhm;
    private readonly GaussianComponent[] _psfMixture;

    /// <param name="fwhmPixels">PSF FWHM, pixels.</param>
    /// <param name="beta">Moffat β.</param>
    /// <param name="psfMixture">The Moffat as a mixture in units of FWHM (from <see cref="GaussianMixture.Moffat"/>).</param>
    public SourceRenderer(double fwhmPixels, double beta, GaussianComponent[] psfMixture)
    {
        _fwhm = fwhmPixels;
        _beta = beta;
        _alpha = fwhmPixels * GaussianMixture.MoffatAlphaPerFwhm(beta);
        _psfMixture = psfMixture.Select(c => c with { Variance = c.Variance * fwhmPixels * fwhmPixels }).ToArray();
    }

    /// <summary>Moffat α, pixels.</summary>
    public double Alpha => _alpha;

    /// <summary>A star of <paramref name="electrons"/> centred at (x, y), zero-based pixel centres.</summary>
    public Stamp RenderStar(double x, double y, double electrons)
    {
        double a2 = _alpha * _alpha;
        double norm = (_beta - 1.0) / (Math.PI * a2);
        // Radius where electrons × Moffat(r) falls to the threshold.
        double t = Math.Pow(electrons * norm / ThresholdElectrons, 1.0 / _beta);
        double radius = Math.Clamp(_alpha * Math.Sqrt(Math.Max(t - 1.0, 0.0)), 1.5 * _fwhm, Math.Min(15.0 * _alpha, MaxRadius));
        var (x0, y0, w, h) = Box(x, y, radius);
        var pixels = new float[w * h];
        double sum = 0;
        double r2Max = radius * radius;
        double core2 = 4.0 * a2;
        double mid2 = 16.0 * a2;
        for (int j = 0; j < h; j++)
        {
            double dy = y0 + j - y;
            for (int i = 0; i < w; i++)
            {
                double dx = x0 + i - x;
                double d2 = dx * dx + dy * dy;
                if (d2 > r2Max)
                {
                    continue;
                }
                // Sub-pixel sampling where the profile curves most.
                int n = d2 < core2 ? 4 : d2 < mid2 ? 2 : 1;
                double v = 0;
                for (int sj = 0; sj < n; sj++)
                {
                    double py = dy + (sj + 0.5) / n - 0.5;
                    for (int si = 0; si < n; si++)
                    {
                        double px = dx + (si + 0.5) / n - 0.5;
                        v += Math.Pow(1.0 + (px * px + py * py) / a2, -_beta);
                    }
                }
                v /= n * n;
                pixels[j * w + i] = (float)v;
                sum += v;
            }
        }
        Normalize(pixels, sum, electrons);
        return new Stamp(x0, y0, w, h, pixels);
    }

    /// <summary>
    /// A galaxy of <paramref name="electrons"/> at (x, y): a Sérsic mixture in units of the half-light radius, with
    /// <paramref name="shape"/> the covariance of a unit-variance component in pixels² (half-light radius, ellipticity
    /// and orientation already applied), convolved with the PSF mixture.
    /// </summary>
    public Stamp RenderGalaxy(double x, double y, double electrons, IReadOnlyList<GaussianComponent> profile, (double Xx, double Xy, double Yy) shape)
    {
        var comps = new List<Component>(profile.Count * _psfMixture.Length);
        double reachX = 1.5 * _fwhm, reachY = 1.5 * _fwhm;
        foreach (var g in profile)
        {
            foreach (var p in _psfMixture)
            {
                double amp = electrons * g.Amplitude * p.Amplitude;
                if (amp < 1e-4 * electrons)
                {
                    continue;
                }
                double cxx = g.Variance * shape.Xx + p.Variance;
                double cxy = g.Variance * shape.Xy;
                double cyy = g.Variance * shape.Yy + p.Variance;
                double det = cxx * cyy - cxy * cxy;
                double peak = amp / (2.0 * Math.PI * Math.Sqrt(det));
                // Render out to the Mahalanobis radius where the component falls to the threshold (1 to 5 sigma).
                double q = peak > ThresholdElectrons ? Math.Clamp(2.0 * Math.Log(peak / ThresholdElectrons), 1.0, 25.0) : 1.0;
                double half = 0.5 * (cxx + cyy);
                double sMin = Math.Sqrt(Math.Max(half - Math.Sqrt(Math.Max(half * half - det, 0.0)), 1e-12));
                var c = new Component(peak, cyy / det, -cxy / det, cxx / det, q,
                    Math.Min(Math.Sqrt(q * cxx), MaxRadius), Math.Min(Math.Sqrt(q * cyy), MaxRadius), sMin < 1.5 ? 3 : 1);
                reachX = Math.Max(reachX, c.ReachX);
                reachY = Math.Max(reachY, c.ReachY);
                comps.Add(c);
            }
        }
        int x0 = (int)Math.Floor(x - reachX) - 1, x1 = (int)Math.Ceiling(x + reachX) + 1;
        int y0 = (int)Math.Floor(y - reachY) - 1, y1 = (int)Math.Ceiling(y + reachY) + 1;
        int w = x1 - x0 + 1, h = y1 - y0 + 1;
        var pixels = new double[w * h];
        foreach (var c in comps)
        {
            AddComponent(pixels, w, h, x - x0, y - y0, c);
        }
        double sum = 0;
        foreach (double v in pixels)
        {
            sum += v;
        }
        var result = new float[w * h];
        double scale = sum > 0 ? electrons / sum : 0.0;
        for (int k = 0; k < result.Length; k++)
        {
            result[k] = (float)(pixels[k] * scale);
        }
        return new Stamp(x0, y0, w, h, result);
    }

    /// <summary>A Gaussian: peak value, inverse covariance, Mahalanobis² extent, reach in x and y, sub-samples per axis.</summary>
    private readonly record struct Component(double Peak, double Ixx, double Ixy, double Iyy, double Q, double ReachX, double ReachY, int Sub);

    /// <summary>
    /// Adds one Gaussian centred at stamp position (cx, cy) over the ellipse of Mahalanobis radius √Q, row by row
    /// along the chord, with exp evaluated once per chord: along a row the Gaussian obeys g(x+1) = g(x)·r(x),
    /// r(x+1) = r(x)·exp(−Ixx).
    /// </summary>
    private static void AddComponent(double[] pixels, int w, int h, double cx, double cy, Component c)
    {
        int n = c.Sub;
        double weight = c.Peak / (n * n);
        double stepRatio = Math.Exp(-c.Ixx);
        int jLo = Math.Max(0, (int)Math.Floor(cy - c.ReachY) - 1);
        int jHi = Math.Min(h - 1, (int)Math.Ceiling(cy + c.ReachY) + 1);
        for (int j = jLo; j <= jHi; j++)
        {
            double dyc = j - cy;
            // Chord of the ellipse Ixx dx² + 2 Ixy dx dy + Iyy dy² = Q on this row, one pixel of margin.
            double disc = c.Ixy * c.Ixy * dyc * dyc - c.Ixx * (c.Iyy * dyc * dyc - c.Q);
            double mid = -c.Ixy * dyc / c.Ixx;
            double halfChord = disc > 0 ? Math.Sqrt(disc) / c.Ixx : 0.0;
            int iLo = Math.Max(0, (int)Math.Floor(cx + mid - halfChord) - 1);
            int iHi = Math.Min(w - 1, (int)Math.Ceiling(cx + mid + halfChord) + 1);
            if (iHi < iLo)
            {
                continue;
            }
            int row = j * w;
            for (int sj = 0; sj < n; sj++)
            {
                double py = dyc + (sj + 0.5) / n - 0.5;
                for (int si = 0; si < n; si++)
                {
                    double px = iLo - cx + (si + 0.5) / n - 0.5;
                    double g = Math.Exp(-0.5 * (c.Ixx * px * px + 2.0 * c.Ixy * px * py + c.Iyy * py * py));
                    double r = Math.Exp(-0.5 * (c.Ixx * (2.0 * px + 1.0) + 2.0 * c.Ixy * py));
                    for (int i = iLo; i <= iHi; i++)
                    {
                        pixels[row + i] += weight * g;
                        g *= r;
                        r *= stepRatio;
                    }
                }
            }
        }
    }

    private static (int X0, int Y0, int W, int H) Box(double x, double y, double radius)
    {
        int x0 = (int)Math.Floor(x - radius);
        int y0 = (int)Math.Floor(y - radius);
        int x1 = (int)Math.Ceiling(x + radius);
        int y1 = (int)Math.Ceiling(y + radius);
        return (x0, y0, x1 - x0 + 1, y1 - y0 + 1);
    }

    private static void Normalize(float[] pixels, double sum, double electrons)
    {
        if (sum <= 0)
        {
            return;
        }
        float scale = (float)(electrons / sum);
        for (int k = 0; k < pixels.Length; k++)
        {
            pixels[k] *= scale;
        }
    }
}
