namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="Deblender"/>.</summary>
public sealed record DeblendConfig
{
    public bool Enabled { get; init; } = true;

    /// <summary>Footprints with more significant peaks than this are left as one source (a huge blend is not worth splitting).</summary>
    public int MaxChildren { get; init; } = 100;

    /// <summary>Rounds of (joint PSF amplitude fit, neighbour subtraction, centroid) before the children are measured.</summary>
    public int Iterations { get; init; } = 2;
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
                var m = SourceMeasurer.MeasureOne(cut, index, fp, peaks[p], measurement);
                if (round < config.Iterations)
                {
                    if (!m.CentroidFlag)
                    {
                        positions[p] = (m.X + x0, m.Y + y0);
                    }
                    continue;
                }
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
