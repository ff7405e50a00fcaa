using Drp.Pipeline.Wcs;
using MathNet.Numerics.LinearAlgebra;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="AstrometricFit"/>.</summary>
public sealed record AstrometryConfig
{
    /// <summary>Match radius of the first iteration, arcsec: how far off the raw's WCS may be.</summary>
    public double InitialMatchRadiusArcsec { get; init; } = 3.0;

    /// <summary>Match radius once the linear correction has been fitted, arcsec.</summary>
    public double MatchRadiusArcsec { get; init; } = 1.0;

    /// <summary>Only sources with psfFlux signal-to-noise at least this are matched (faint centroids add noise, not accuracy).</summary>
    public double MinSignalToNoise { get; init; } = 30.0;

    /// <summary>Fewer matches than this: the raw's WCS is kept (the linear correction has 6 parameters).</summary>
    public int MinMatches { get; init; } = 8;

    public int Iterations { get; init; } = 3;

    public double ClipSigma { get; init; } = 3.0;

    public bool Enabled { get; init; } = true;
}

/// <summary>The fitted WCS, or the input one when too few matches; rms of the residuals of the matches used (arcsec).</summary>
public sealed record AstrometricSolution(TanWcs Wcs, bool Fitted, int MatchCount, double RmsArcsec);

/// <summary>
/// Astrometric fit: TAN plus a linear (affine, 6-parameter) correction, expressed exactly as a new TAN WCS with the same
/// CRVAL (CD' = CD·M, CRPIX' = M⁻¹(CRPIX − t)). Matches reference objects to clean, significant sources through the
/// current WCS, fits the affine map from source pixels to the references' pixels by least squares (MathNet QR), clips
/// at 3σ, rematches at the tighter radius and iterates.
/// </summary>
public static class AstrometricFit
{
    public static AstrometricSolution Fit(IReadOnlyList<MeasuredSource> sources, TanWcs initial, IReadOnlyList<ReferenceObject> references,
        int width, int height, AstrometryConfig config)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(config);
        var unfitted = new AstrometricSolution(initial, false, 0, double.NaN);
        if (!config.Enabled)
        {
            return unfitted;
        }
        var candidates = sources.Where(s => !s.PsfFluxFlag && !s.CentroidFlag && !s.PixelFlagsSaturated && !s.CenterMasked
            && s.PsfInstFluxErr > 0 && s.PsfInstFlux >= config.MinSignalToNoise * s.PsfInstFluxErr).ToList();
        var wcs = initial;
        double radius = config.InitialMatchRadiusArcsec;
        AstrometricSolution? best = null;
        for (int iter = 0; iter < config.Iterations; iter++)
        {
            var pairs = Match(candidates, wcs, initial, references, width, height, radius / initial.PixelScaleArcsec);
            var (fitted, rmsPixels, used) = FitAffine(pairs, initial, config);
            if (fitted is null)
            {
                break;
            }
            wcs = fitted;
            best = new AstrometricSolution(fitted, true, used, rmsPixels * initial.PixelScaleArcsec);
            radius = config.MatchRadiusArcsec;
        }
        return best ?? unfitted;
    }

    /// <summary>
    /// (source pixel, reference pixel through <paramref name="initial"/>) pairs: each reference's nearest candidate
    /// within the radius of where the current <paramref name="wcs"/> puts it.
    /// </summary>
    internal static List<((double X, double Y) Source, (double X, double Y) Reference)> Match(
        IReadOnlyList<MeasuredSource> candidates, TanWcs wcs, TanWcs initial, IReadOnlyList<ReferenceObject> references,
        int width, int height, double radiusPixels)
    {
        var grid = candidates.ToLookup(c => ((int)Math.Floor(c.X / 16), (int)Math.Floor(c.Y / 16)));
        int reach = (int)Math.Ceiling(radiusPixels / 16);
        var pairs = new List<((double, double), (double, double))>();
        foreach (var r in references)
        {
            var (rx, ry) = wcs.SkyToPixel(r.Ra, r.Dec);
            if (!(rx > -radiusPixels && ry > -radiusPixels && rx < width + radiusPixels && ry < height + radiusPixels))
            {
                continue;
            }
            MeasuredSource? nearest = null;
            double bestD = radiusPixels * radiusPixels;
            int gx = (int)Math.Floor(rx / 16), gy = (int)Math.Floor(ry / 16);
            for (int i = gx - reach; i <= gx + reach; i++)
            {
                for (int j = gy - reach; j <= gy + reach; j++)
                {
                    foreach (var c in grid[(i, j)])
                    {
                        double d = (c.X - rx) * (c.X - rx) + (c.Y - ry) * (c.Y - ry);
                        if (d < bestD)
                        {
                            (nearest, bestD) = (c, d);
                        }
                    }
                }
            }
            if (nearest is not null)
            {
                pairs.Add(((nearest.X, nearest.Y), initial.SkyToPixel(r.Ra, r.Dec)));
            }
        }
        return pairs;
    }

    /// <summary>
    /// Least-squares affine map from source pixels to where the initial WCS puts the references, with σ-clipping; the
    /// result as a TAN WCS. Reference pixels are recomputed through <paramref name="initial"/> so that the correction
    /// composes with it. Null when too few pairs remain.
    /// </summary>
    internal static (TanWcs? Wcs, double RmsPixels, int Used) FitAffine(
        List<((double X, double Y) Source, (double X, double Y) Reference)> pairs, TanWcs initial, AstrometryConfig config)
    {
        var use = pairs.ToList();
        Vector<double>? px = null, py = null;
        double rms = double.NaN;
        for (int clip = 0; clip < 5; clip++)
        {
            if (use.Count < config.MinMatches)
            {
                return (null, double.NaN, use.Count);
            }
            var a = Matrix<double>.Build.Dense(use.Count, 3, (i, j) => j == 0 ? 1.0 : j == 1 ? use[i].Source.X : use[i].Source.Y);
            var bx = Vector<double>.Build.Dense(use.Count, i => use[i].Reference.X);
            var by = Vector<double>.Build.Dense(use.Count, i => use[i].Reference.Y);
            var qr = a.QR();
            px = qr.Solve(bx);
            py = qr.Solve(by);
            var rx = bx - a * px;
            var ry = by - a * py;
            var r2 = Enumerable.Range(0, use.Count).Select(i => rx[i] * rx[i] + ry[i] * ry[i]).ToArray();
            rms = Math.Sqrt(r2.Average());
            double limit = config.ClipSigma * config.ClipSigma * r2.Average();
            var kept = use.Where((_, i) => r2[i] <= limit).ToList();
            if (kept.Count == use.Count)
            {
                break;
            }
            use = kept;
        }
        // Reference pixel p_ref = M p + t with M = [[px1, px2], [py1, py2]], t = (px0, py0).
        double m11 = px![1], m12 = px[2], m21 = py![1], m22 = py[2], tx = px[0], ty = py[0];
        double det = m11 * m22 - m12 * m21;
        if (!(Math.Abs(det) > 1e-6))
        {
            return (null, double.NaN, use.Count);
        }
        var (c0x, c0y) = initial.ReferencePixel;
        double dx = c0x - tx, dy = c0y - ty;
        double cx = (m22 * dx - m12 * dy) / det, cy = (-m21 * dx + m11 * dy) / det;
        var wcs = new TanWcs(initial.CrVal1, initial.CrVal2, cx + 1.0, cy + 1.0,
            initial.Cd11 * m11 + initial.Cd12 * m21, initial.Cd11 * m12 + initial.Cd12 * m22,
            initial.Cd21 * m11 + initial.Cd22 * m21, initial.Cd21 * m12 + initial.Cd22 * m22, initial.LonPole);
        return (wcs, rms, use.Count);
    }
}
