using Drp.Pipeline.Coadd;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Tests.Coadd;

/// <summary>Noise-free or noisy synthetic calexps with analytic Gaussian stars at known sky positions.</summary>
internal static class CoaddTestData
{
    /// <summary>DP0.2's tutorial position: tract 4431, patch 17 in the DC2 skymap.</summary>
    public const double Ra = 55.745834, Dec = -32.269167;

    public static PatchInfo Patch => RingsSkyMap.Dc2.FindTract(Ra, Dec).FindPatch(Ra, Dec)!;

    public sealed record Star(double Ra, double Dec, double FluxElectrons);

    /// <summary>
    /// A calexp centred at (ra, dec) with the given scale and rotation, a Gaussian PSF of <paramref name="sigma"/>
    /// pixels (recorded as a Moffat of large β with the same covariance) and stars sampled at pixel centres.
    /// </summary>
    public static CalexpImage Calexp(double ra, double dec, IReadOnlyList<Star> stars, double scale = 0.2, double rotation = 0,
        int width = 400, int height = 300, double sigma = 2.0, double noise = 0, int seed = 1, long visit = 1, int detector = 0,
        string band = "r", double njyPerElectron = 0.5)
    {
        var wcs = TanWcs.Create(ra, dec, scale, rotation, width, height);
        var image = new float[width * height];
        var variance = new float[width * height];
        var rng = new Random(seed);
        double norm = 1.0 / (2 * Math.PI * sigma * sigma);
        foreach (var s in stars)
        {
            var (x0, y0) = wcs.SkyToPixel(s.Ra, s.Dec);
            int r = (int)Math.Ceiling(8 * sigma);
            for (int y = Math.Max(0, (int)y0 - r); y <= Math.Min(height - 1, (int)y0 + r); y++)
            {
                for (int x = Math.Max(0, (int)x0 - r); x <= Math.Min(width - 1, (int)x0 + r); x++)
                {
                    double dx = x - x0, dy = y - y0;
                    image[y * width + x] += (float)(s.FluxElectrons * norm * Math.Exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)));
                }
            }
        }
        for (int i = 0; i < image.Length; i++)
        {
            double v = noise * noise + Math.Max(image[i], 0);
            variance[i] = (float)Math.Max(v, 1e-6);
            if (noise > 0)
            {
                image[i] += (float)(Math.Sqrt(v) * Gaussian(rng));
            }
        }
        // A Moffat of large β is a Gaussian: its covariance is Q / (2 (β − 2)).
        const double beta = 1000;
        var psf = new MoffatPsf(2 * (beta - 2) * sigma * sigma, 2 * (beta - 2) * sigma * sigma, 0, beta, 10);
        return new CalexpImage(visit, detector, band, wcs, njyPerElectron, psf, width, height, image, variance, new ushort[width * height]);
    }

    /// <summary>Six 300 x 300 dithered, rotated visits of the same stars with noise; the transient goes into visit 3 only.</summary>
    public static (PatchInfo Patch, List<CalexpImage> Calexps, Star[] Stars) Survey(double noise, Action<CalexpImage>? transient = null)
    {
        var patch = Patch;
        var (ra, dec) = patch.Wcs.PixelToSky(2100, 2100);
        var stars = new List<Star>();
        for (int i = 0; i < 9; i++)
        {
            double dra = ((i % 3) - 1) * 12 + 0.37 * i, ddec = ((i / 3) - 1) * 12 - 0.21 * i;
            stars.Add(new Star(ra + dra / 3600.0 / Math.Cos(dec * Math.PI / 180), dec + ddec / 3600.0, 2e4 * (1 + i)));
        }
        var calexps = new List<CalexpImage>();
        for (int v = 0; v < 6; v++)
        {
            double dra = (v % 3 - 1) * 3.0 / 3600.0, ddec = (v / 3 - 0.5) * 3.0 / 3600.0;
            var c = Calexp(ra + dra, dec + ddec, stars, rotation: 15 * v, width: 300, height: 300,
                sigma: 1.8 + 0.1 * v, noise: noise, seed: 100 + v, visit: 1000 + v, detector: 7);
            if (v == 3)
            {
                transient?.Invoke(c);
            }
            calexps.Add(c);
        }
        return (patch, calexps, stars.ToArray());
    }

    public static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Flux, centroid and unweighted second moments of a warp inside radius <paramref name="r"/> of (x, y) in patch pixels.</summary>
    public static (double Flux, double X, double Y, double Ixx, double Iyy, double Ixy) Moments(Warp warp, double x, double y, double r)
    {
        double s = 0, sx = 0, sy = 0;
        foreach (var (px, py, v) in Pixels(warp, x, y, r))
        {
            s += v;
            sx += v * px;
            sy += v * py;
        }
        double cx = sx / s, cy = sy / s, sxx = 0, syy = 0, sxy = 0;
        foreach (var (px, py, v) in Pixels(warp, x, y, r))
        {
            sxx += v * (px - cx) * (px - cx);
            syy += v * (py - cy) * (py - cy);
            sxy += v * (px - cx) * (py - cy);
        }
        return (s, cx, cy, sxx / s, syy / s, sxy / s);
    }

    private static IEnumerable<(int X, int Y, double V)> Pixels(Warp warp, double x, double y, double r)
    {
        var b = warp.Box;
        for (int py = (int)Math.Floor(y - r); py <= (int)Math.Ceiling(y + r); py++)
        {
            for (int px = (int)Math.Floor(x - r); px <= (int)Math.Ceiling(x + r); px++)
            {
                if ((px - x) * (px - x) + (py - y) * (py - y) > r * r || !b.Contains(px, py))
                {
                    continue;
                }
                float v = warp.Image[(py - b.Y0) * b.Width + (px - b.X0)];
                if (float.IsFinite(v))
                {
                    yield return (px, py, v);
                }
            }
        }
    }
}
