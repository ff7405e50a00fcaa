using System.Numerics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="Deblender"/>.</summary>
public sealed record DeblendConfig
{
    public bool Enabled { get; init; } = true;

    /// <summary>Footprints with more significant peaks than this are left as one source (a huge blend is not worth splitting).</summary>
    public int MaxChildren { get; init; } = 100;

    /// <summary>Rounds of (joint PSF amplitude fit, neighbour subtraction, centroid) before the children are measured.</summary>
    public int Iterations { get; init; } = 2;

    /// <summary>
    /// Footprints whose highest peak has at least this significance are searched for hidden peaks (see
    /// <see cref="HiddenPeakSignificance"/>); 0 or less turns the search off.
    /// </summary>
    public double HiddenPeakMinParentSignificance { get; init; } = 15.0;

    /// <summary>
    /// A point source on the steep wing of a much brighter one shows as a shoulder in the filtered image, not a peak.
    /// In a difference-of-Gaussians image (the PSF-matched Gaussian minus one twice as wide: flat and sloping
    /// backgrounds cancel, a convex wing goes negative) such a source is a local maximum; one at least this many
    /// sigma, a PSF FWHM from the footprint's other peaks and away from saturated, bad or interpolated pixels is added as a peak.
    /// </summary>
    public double HiddenPeakSignificance { get; init; } = 5.0;
}

/// <summary>
/// Deblending: every significant peak of a footprint (the peaks <see cref="SourceDetector"/> kept by their prominence)
/// becomes a child source. The children's PSF amplitudes are fitted jointly at their positions; each child is then
/// measured (centroid, moments, apertures, pixel flags, Kron flux) on a cut-out of the footprint from which the other
/// children's fitted PSF models are subtracted, and its centroid feeds the next round's fit. Its psfFlux is fitted
/// jointly with its siblings' by <see cref="PsfPhotometry"/>. Like the SDSS/LSST deblenders in spirit (templates per
/// peak, flux assigned by a model), with the PSF as every child's template: right for stars, approximate for galaxies.
/// </summary>
public static class Deblender
{
    /// <summary>Margin (pixels) of the cut-out beyond the footprint: the largest aperture plus the centroid's allowed shift.</summary>
    private static int Margin(MeasurementConfig config) => (int)Math.Ceiling(Apertures.Radii[^1] + config.MaxCentroidShift) + 2;

    /// <summary>
    /// The sources with each footprint of several peaks replaced by its children (in peak order, brightest first);
    /// footprints with one peak keep their measurement. <paramref name="measured"/>[i] must be footprint i's.
    /// </summary>
    public static IReadOnlyList<MeasuredSource> Run(
        Exposure exposure, IReadOnlyList<Footprint> footprints, IReadOnlyList<MeasuredSource> measured, MoffatPsf psf,
        MeasurementConfig measurement, PsfConfig psfConfig, DeblendConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(footprints);
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(measurement);
        ArgumentNullException.ThrowIfNull(psfConfig);
        ArgumentNullException.ThrowIfNull(config);
        if (measured.Count != footprints.Count)
        {
            throw new ArgumentException($"{measured.Count} measurements for {footprints.Count} footprints", nameof(measured));
        }
        if (!config.Enabled)
        {
            return measured;
        }
        if (config.HiddenPeakMinParentSignificance > 0)
        {
            var withHidden = footprints.ToArray();
            double sigma = psf.MatchedFilterSigma();
            Parallel.For(0, withHidden.Length, f =>
            {
                var fp = withHidden[f];
                if (fp.Peaks.Count > 0 && fp.Peaks[0].Significance >= config.HiddenPeakMinParentSignificance && fp.Peaks.Count < config.MaxChildren)
                {
                    withHidden[f] = AddHiddenPeaks(exposure, fp, sigma, psf.Fwhm, config.HiddenPeakSignificance);
                }
            });
            footprints = withHidden;
        }
        var children = new MeasuredSource[footprints.Count][];
        var blends = Enumerable.Range(0, footprints.Count)
            .Where(f => footprints[f].Peaks.Count > 1 && footprints[f].Peaks.Count <= config.MaxChildren).ToArray();
        Parallel.For(0, blends.Length, b =>
        {
            int f = blends[b];
            children[f] = Deblend(exposure, f, footprints[f], psf, measurement, psfConfig, config);
        });
        var result = new List<MeasuredSource>(measured.Count + blends.Length);
        for (int f = 0; f < footprints.Count; f++)
        {
            if (children[f] is { } c)
            {
                result.AddRange(c);
            }
            else
            {
                result.Add(measured[f]);
            }
        }
        return result;
    }

    internal static MeasuredSource[] Deblend(
        Exposure e, int index, Footprint fp, MoffatPsf psf, MeasurementConfig measurement, PsfConfig psfConfig, DeblendConfig config)
    {
        int n = fp.Peaks.Count;
        int margin = Margin(measurement);
        int x0 = Math.Max(0, fp.XMin - margin), x1 = Math.Min(e.Width - 1, fp.XMax + margin);
        int y0 = Math.Max(0, fp.YMin - margin), y1 = Math.Min(e.Height - 1, fp.YMax + margin);
        int w = x1 - x0 + 1, h = y1 - y0 + 1;
        var image = new float[w * h];
        var variance = new float[w * h];
        var mask = new ushort[w * h];
        for (int j = 0; j < h; j++)
        {
            Array.Copy(e.Image, (j + y0) * e.Width + x0, image, j * w, w);
            Array.Copy(e.Variance, (j + y0) * e.Width + x0, variance, j * w, w);
            Array.Copy(e.Mask, (j + y0) * e.Width + x0, mask, j * w, w);
        }
        var cut = new Exposure(w, h, new float[w * h], variance, mask, e.Header);
        var peaks = fp.Peaks.Select(p => new Peak(p.X - x0, p.Y - y0, p.Significance)).ToArray();
        var positions = fp.Peaks.Select(p => (X: (double)p.X, Y: (double)p.Y)).ToArray();
        int radius = PsfPhotometry.PhotometryRadius(psf, psfConfig);
        double fullModel = PsfPhotometry.ModelPower(psf, radius);
        // Each child's model is drawn out to where a Moffat of this PSF holds all but ~0.5 % of its flux within the cut-out's reach.
        int modelRadius = (int)Math.Clamp(Math.Ceiling(4 * psf.Fwhm), 8, margin);
        var eval = psf.CreateEvaluator();
        var model = new float[w * h];
        var result = new MeasuredSource[n];
        for (int round = 0; round <= config.Iterations; round++)
        {
            var fit = PsfPhotometry.PsfFluxes(e, psf, positions, radius, fullModel);
            Array.Clear(model);
            for (int p = 0; p < n; p++)
            {
                AddModel(model, w, h, positions[p].X - x0, positions[p].Y - y0, Amplitude(fit[p].Flux), modelRadius, eval);
            }
            for (int p = 0; p < n; p++)
            {
                // The child's pixels: the image less every sibling's model (all models less its own).
                double amp = Amplitude(fit[p].Flux);
                for (int k = 0; k < image.Length; k++)
                {
                    cut.Image[k] = image[k] - model[k];
                }
                AddModel(cut.Image, w, h, positions[p].X - x0, positions[p].Y - y0, amp, modelRadius, eval);
                if (round < config.Iterations)
                {
                    // An intermediate round needs only the position (the full measurement's, without its apertures and flags).
                    var (cx, cy, centroidOk, _) = SourceMeasurer.Centroid(cut, peaks[p], measurement);
                    if (centroidOk)
                    {
                        positions[p] = (cx + x0, cy + y0);
                    }
                    continue;
                }
                var m = SourceMeasurer.MeasureOne(cut, index, fp, peaks[p], measurement);
                var (kron, kronErr, kronRadius, kronFlag) = PsfPhotometry.KronFlux(cut, m, psf);
                result[p] = m with
                {
                    PeakX = fp.Peaks[p].X,
                    PeakY = fp.Peaks[p].Y,
                    X = m.X + x0,
                    Y = m.Y + y0,
                    Deblended = true,
                    KronInstFlux = kron,
                    KronInstFluxErr = kronErr,
                    KronRadius = kronRadius,
                    KronFluxFlag = kronFlag,
                };
            }
        }
        return result;
    }

    /// <summary>
    /// The footprint with the significant local maxima of its difference-of-Gaussians image (σ and 2σ, noise from the
    /// σ-smoothed variance) added as peaks, each at least <paramref name="minDistance"/> from every other peak.
    /// </summary>
    internal static Footprint AddHiddenPeaks(Exposure e, Footprint fp, double sigma, double minDistance, double minSignificance)
    {
        int r = (int)Math.Ceiling(4 * 2 * sigma);
        int x0 = Math.Max(0, fp.XMin - r), x1 = Math.Min(e.Width - 1, fp.XMax + r);
        int y0 = Math.Max(0, fp.YMin - r), y1 = Math.Min(e.Height - 1, fp.YMax + r);
        int w = x1 - x0 + 1, h = y1 - y0 + 1;
        var image = new float[w * h];
        var variance = new float[w * h];
        const ushort noData = (ushort)MaskPlane.NoData;
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int k = (j + y0) * e.Width + i + x0;
                bool ok = (e.Mask[k] & noData) == 0;
                image[j * w + i] = ok ? e.Image[k] : 0f;
                variance[j * w + i] = ok ? e.Variance[k] : 0f;
            }
        }
        var narrow = Gaussian(sigma, r);
        var wide = Gaussian(2 * sigma, r);
        double sumNarrow2 = narrow.Sum(v => (double)v * v), sumWide2 = wide.Sum(v => (double)v * v), cross = narrow.Zip(wide, (a, b) => (double)a * b).Sum();
        // Σ (g₁ − g₂)² over the plane for separable, normalised g₁ = narrow ⊗ narrow and g₂ = wide ⊗ wide.
        double dogPower = sumNarrow2 * sumNarrow2 - 2 * cross * cross + sumWide2 * sumWide2;
        // Only the footprint's box and a pixel around it (the peak test's neighbours) are read from the DoG image.
        var box = new Box(Math.Max(0, fp.XMin - 1 - x0), Math.Min(w - 1, fp.XMax + 1 - x0), Math.Max(0, fp.YMin - 1 - y0), Math.Min(h - 1, fp.YMax + 1 - y0));
        var tmp = new float[w * h];
        var a1 = new float[w * h];
        var a2 = new float[w * h];
        var v1 = new float[w * h];
        ConvolveBox(image, a1, tmp, w, h, narrow, box);
        ConvolveBox(image, a2, tmp, w, h, wide, box);
        ConvolveBox(variance, v1, tmp, w, h, narrow, box);
        var dog = new float[w * h];
        for (int j = box.Y0; j <= box.Y1; j++)
        {
            for (int k = j * w + box.X0; k <= j * w + box.X1; k++)
            {
                dog[k] = v1[k] > 0 ? (float)((a1[k] - a2[k]) / Math.Sqrt(v1[k] * dogPower)) : 0f;
            }
        }

        var candidates = new List<Peak>();
        const ushort spoiled = (ushort)(MaskPlane.Saturated | MaskPlane.Bad | MaskPlane.Interpolated | MaskPlane.NoData);
        foreach (var span in fp.Spans)
        {
            int j = span.Y - y0;
            for (int x = span.X0; x <= span.X1; x++)
            {
                int i = x - x0;
                float v = dog[j * w + i];
                if (v < minSignificance || i < 1 || j < 1 || i >= w - 1 || j >= h - 1)
                {
                    continue;
                }
                bool isPeak = true;
                for (int dy = -1; dy <= 1 && isPeak; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        if ((dx != 0 || dy != 0) && dog[(j + dy) * w + i + dx] >= v)
                        {
                            isPeak = false;
                            break;
                        }
                    }
                }
                if (isPeak && !NearMask(e, x, span.Y, (int)Math.Ceiling(minDistance), spoiled))
                {
                    candidates.Add(new Peak(x, span.Y, v));
                }
            }
        }
        if (candidates.Count == 0)
        {
            return fp;
        }
        var peaks = fp.Peaks.ToList();
        double d2 = minDistance * minDistance;
        foreach (var c in candidates.OrderByDescending(c => c.Significance))
        {
            if (peaks.All(p => (p.X - c.X) * (p.X - c.X) + (p.Y - c.Y) * (p.Y - c.Y) >= d2))
            {
                peaks.Add(c);
            }
        }
        return peaks.Count == fp.Peaks.Count ? fp : fp with { Peaks = peaks };
    }

    internal readonly record struct Box(int X0, int X1, int Y0, int Y1);

    /// <summary>
    /// <see cref="SourceDetector.Convolve"/> (separable, zero outside the plane, each output summing its taps in kernel
    /// order, rows first) evaluated only inside <paramref name="box"/>: the same values there; outside it
    /// <paramref name="dst"/> and <paramref name="tmp"/> hold nothing to read (a vector may run a few columns past the
    /// box). The row pass runs on the box's columns of every row the column pass reads.
    /// </summary>
    internal static void ConvolveBox(float[] src, float[] dst, float[] tmp, int w, int h, float[] kernel, Box box)
    {
        int r = kernel.Length / 2;
        int rowStart = Math.Max(0, box.Y0 - r), rowEnd = Math.Min(h - 1, box.Y1 + r);
        int lanes = Vector<float>.Count;
        for (int y = rowStart; y <= rowEnd; y++)
        {
            int row = y * w;
            int x = box.X0;
            for (; x <= box.X1 && x < r; x++)
            {
                tmp[row + x] = Tap(src, row, w, kernel, x);
            }
            if (Vector.IsHardwareAccelerated)
            {
                // Lanes whose whole window lies in the row, as in SourceDetector's vector path: the same sums. The last
                // vector may run past the box (never past the row): those columns are scratch no one reads.
                for (; x <= box.X1 && x + lanes - 1 <= w - 1 - r; x += lanes)
                {
                    var acc = Vector<float>.Zero;
                    for (int k = 0; k < kernel.Length; k++)
                    {
                        acc += new Vector<float>(kernel[k]) * new Vector<float>(src, row + x - r + k);
                    }
                    acc.CopyTo(tmp, row + x);
                }
            }
            for (; x <= box.X1; x++)
            {
                tmp[row + x] = Tap(src, row, w, kernel, x);
            }
        }
        for (int y = box.Y0; y <= box.Y1; y++)
        {
            int k0 = Math.Max(-r, -y), k1 = Math.Min(r, h - 1 - y);
            int x = box.X0;
            if (Vector.IsHardwareAccelerated)
            {
                // The last vector may run past the box's right edge (within the plane): those columns are not read.
                for (; x <= box.X1 && x + lanes - 1 <= w - 1; x += lanes)
                {
                    var acc = Vector<float>.Zero;
                    for (int k = k0; k <= k1; k++)
                    {
                        acc += new Vector<float>(kernel[k + r]) * new Vector<float>(tmp, (y + k) * w + x);
                    }
                    acc.CopyTo(dst, y * w + x);
                }
            }
            for (; x <= box.X1; x++)
            {
                float sum = 0f;
                for (int k = k0; k <= k1; k++)
                {
                    sum += kernel[k + r] * tmp[(y + k) * w + x];
                }
                dst[y * w + x] = sum;
            }
        }
    }

    private static float Tap(float[] src, int row, int w, float[] kernel, int x)
    {
        int r = kernel.Length / 2;
        float sum = 0f;
        for (int k = Math.Max(-r, -x); k <= Math.Min(r, w - 1 - x); k++)
        {
            sum += kernel[k + r] * src[row + x + k];
        }
        return sum;
    }

    private static float[] Gaussian(double sigma, int r)
    {
        var k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++)
        {
            sum += k[i + r] = (float)Math.Exp(-0.5 * i * i / (sigma * sigma));
        }
        for (int i = 0; i < k.Length; i++)
        {
            k[i] = (float)(k[i] / sum);
        }
        return k;
    }

    private static bool NearMask(Exposure e, int x, int y, int radius, ushort planes)
    {
        for (int j = Math.Max(0, y - radius); j <= Math.Min(e.Height - 1, y + radius); j++)
        {
            for (int i = Math.Max(0, x - radius); i <= Math.Min(e.Width - 1, x + radius); i++)
            {
                if ((e.Mask[j * e.Width + i] & planes) != 0)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>A negative or failed amplitude subtracts nothing: a child is never made brighter by a sibling's fit.</summary>
    private static double Amplitude(double flux) => double.IsFinite(flux) && flux > 0 ? flux : 0;

    private static void AddModel(float[] target, int w, int h, double x, double y, double flux, int radius, MoffatPsf.Evaluator eval)
    {
        if (flux == 0)
        {
            return;
        }
        int cx = (int)Math.Round(x), cy = (int)Math.Round(y);
        for (int j = Math.Max(0, cy - radius); j <= Math.Min(h - 1, cy + radius); j++)
        {
            for (int i = Math.Max(0, cx - radius); i <= Math.Min(w - 1, cx + radius); i++)
            {
                target[j * w + i] += (float)(flux * eval[i - x, j - y]);
            }
        }
    }
}
