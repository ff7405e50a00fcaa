using MathNet.Numerics.LinearAlgebra;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="PsfDeterminer"/> and <see cref="PsfPhotometry"/>.</summary>
public sealed record PsfConfig
{
    /// <summary>Candidate PSF stars need at least this calibFlux signal-to-noise.</summary>
    public double MinSignalToNoise { get; init; } = 50.0;

    /// <summary>The brightest this many candidates are fitted (more add time, not accuracy).</summary>
    public int MaxStars { get; init; } = 60;

    /// <summary>Fewer stars than this: the PSF falls back to a circular Moffat of <see cref="FallbackFwhm"/>.</summary>
    public int MinStars { get; init; } = 3;

    /// <summary>FWHM (pixels) of the fallback PSF when too few stars are found.</summary>
    public double FallbackFwhm { get; init; } = 4.0;

    /// <summary>Candidates whose moment size is further than this many sigma from the stellar locus are rejected (galaxies).</summary>
    public double SizeClipSigma { get; init; } = 3.0;

    /// <summary>Fitted stamp radius, in FWHM (clamped to 6..25 pixels).</summary>
    public double FitRadiusFwhm { get; init; } = 3.0;

    /// <summary>PSF-flux fit radius, in FWHM (clamped to 4..20 pixels).</summary>
    public double PhotometryRadiusFwhm { get; init; } = 2.5;

    /// <summary>Iterations of the Nelder–Mead fallback of the PSF fit (see <see cref="MoffatFit"/>).</summary>
    public int MaxIterations { get; init; } = 600;
}

/// <summary>
/// An elliptical Moffat PSF, normalised to unit total flux: p(r) = (β − 1) / (π √det Q) · (1 + rᵀ Q⁻¹ r)^−β, with Q the
/// symmetric "α²" matrix (Q = α² I for a circular Moffat) and β > 1. Constant over the detector. <see cref="Ixx"/>,
/// <see cref="Iyy"/>, <see cref="Ixy"/> are its adaptive moments (as a source's ixx), <see cref="StarCount"/> the
/// stars it was fitted to (0 for the fallback).
/// </summary>
public sealed record MoffatPsf(double Qxx, double Qyy, double Qxy, double Beta, int StarCount)
{
    public double Ixx { get; init; } = double.NaN;

    public double Iyy { get; init; } = double.NaN;

    public double Ixy { get; init; } = double.NaN;

    /// <summary>Geometric-mean FWHM, pixels: 2 α √(2^(1/β) − 1) with α = (det Q)^¼.</summary>
    public double Fwhm => 2.0 * Math.Pow(Qxx * Qyy - Qxy * Qxy, 0.25) * Math.Sqrt(Math.Pow(2.0, 1.0 / Beta) - 1.0);

    /// <summary>The Gaussian sigma of the same FWHM, pixels (CcdVisit psfSigma).</summary>
    public double Sigma => Fwhm / (2.0 * Math.Sqrt(2.0 * Math.Log(2.0)));

    /// <summary>
    /// Sigma (pixels) of the circular Gaussian detection filter that best matches this PSF: the one maximising the
    /// filtered point-source S/N, ∫p g / √∫g², found by golden-section search on a pixel grid (about 1.1 × the
    /// FWHM-equivalent sigma for β 3.5, whose wings a Gaussian lacks).
    /// </summary>
    public double MatchedFilterSigma()
    {
        var eval = CreateEvaluator();
        int r = (int)Math.Clamp(Math.Ceiling(4 * Fwhm), 8, 60);
        double Efficiency(double sigma)
        {
            double spg = 0, sgg = 0, k = -0.5 / (sigma * sigma);
            for (int j = -r; j <= r; j++)
            {
                for (int i = -r; i <= r; i++)
                {
                    double g = Math.Exp(k * (i * i + j * j));
                    spg += eval[i, j] * g;
                    sgg += g * g;
                }
            }
            return spg / Math.Sqrt(sgg);
        }
        double lo = 0.5 * Sigma, hi = 2.0 * Sigma, phi = (Math.Sqrt(5) - 1) / 2;
        double a = hi - phi * (hi - lo), b = lo + phi * (hi - lo), fa = Efficiency(a), fb = Efficiency(b);
        for (int iter = 0; iter < 30 && hi - lo > 1e-3 * Sigma; iter++)
        {
            if (fa > fb)
            {
                (hi, b, fb) = (b, a, fa);
                a = hi - phi * (hi - lo);
                fa = Efficiency(a);
            }
            else
            {
                (lo, a, fa) = (a, b, fb);
                b = lo + phi * (hi - lo);
                fb = Efficiency(b);
            }
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>A circular Moffat of the given FWHM (pixels) and β.</summary>
    public static MoffatPsf Circular(double fwhm, double beta, int starCount = 0)
    {
        double alpha = fwhm / (2.0 * Math.Sqrt(Math.Pow(2.0, 1.0 / beta) - 1.0));
        return new MoffatPsf(alpha * alpha, alpha * alpha, 0, beta, starCount);
    }

    /// <summary>An evaluator: value per unit flux at an offset (dx, dy) from the centre, sampled at the pixel centre.</summary>
    public Evaluator CreateEvaluator() => new(this);

    /// <summary>Precomputed inverse and normalisation of a <see cref="MoffatPsf"/>.</summary>
    public readonly struct Evaluator
    {
        private readonly double _ixx, _iyy, _ixy2, _norm, _beta;

        internal Evaluator(MoffatPsf p)
        {
            double det = p.Qxx * p.Qyy - p.Qxy * p.Qxy;
            _ixx = p.Qyy / det;
            _iyy = p.Qxx / det;
            _ixy2 = -2.0 * p.Qxy / det;
            _norm = (p.Beta - 1.0) / (Math.PI * Math.Sqrt(det));
            _beta = p.Beta;
        }

        public double this[double dx, double dy] =>
            _norm * Math.Exp(-_beta * Math.Log(1.0 + _ixx * dx * dx + _ixy2 * dx * dy + _iyy * dy * dy));
    }
}

/// <summary>
/// Determines the PSF of one detector: selects clean, isolated, unsaturated, significant sources on the stellar locus
/// of the moment sizes (galaxies are larger), then fits one elliptical Moffat (Q, β) to all their stamps at once with a
/// free amplitude per star (solved linearly inside the objective), on (log Cholesky of Q, log(β − 1)): see <see cref="MoffatFit"/>.
/// </summary>
public static class PsfDeterminer
{
    /// <summary>Indices into <paramref name="measured"/> of the PSF star candidates, brightest first.</summary>
    public static IReadOnlyList<int> SelectStars(IReadOnlyList<MeasuredSource> measured, PsfConfig config)
    {
        var clean = new List<int>();
        for (int i = 0; i < measured.Count; i++)
        {
            var m = measured[i];
            if (!m.ShapeFlag && !m.CentroidFlag && !m.PixelFlagsSaturated && !m.PixelFlagsEdge && !m.PixelFlagsBad && !m.CenterMasked
                && m.PeakCount == 1 && m.CalibInstFluxErr > 0 && m.CalibInstFlux >= config.MinSignalToNoise * m.CalibInstFluxErr)
            {
                clean.Add(i);
            }
        }
        if (clean.Count == 0)
        {
            return [];
        }
        // The stellar locus: the mode of the size distribution is the stars'; clip about the sigma-clipped median.
        var sizes = clean.Select(i => (float)Size(measured[i])).ToArray();
        var stats = RobustStatistics.SigmaClip(sizes, 3.0, 5);
        double tolerance = Math.Max(config.SizeClipSigma * stats.StdDev, 0.02 * stats.Median);
        return clean.Where(i => Math.Abs(Size(measured[i]) - stats.Median) <= tolerance)
            .OrderByDescending(i => measured[i].CalibInstFlux)
            .Take(config.MaxStars)
            .ToArray();
    }

    private static double Size(MeasuredSource m) => Math.Sqrt(0.5 * (m.Ixx + m.Iyy));

    /// <summary>The PSF from the selected stars, or a circular fallback when fewer than <see cref="PsfConfig.MinStars"/>.</summary>
    /// <param name="start">
    /// Where the fit starts (a PSF fitted earlier on the same exposure, which leaves the simplex less to travel); by
    /// default a circular Moffat of β 3 with the stars' moment size.
    /// </param>
    public static MoffatPsf Determine(Exposure exposure, IReadOnlyList<MeasuredSource> measured, PsfConfig config, MoffatPsf? start = null)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(config);
        var stars = SelectStars(measured, config);
        if (stars.Count < config.MinStars)
        {
            return WithMoments(MoffatPsf.Circular(config.FallbackFwhm, 3.5), config);
        }
        double sigma0 = Math.Sqrt(stars.Select(i => 0.5 * (measured[i].Ixx + measured[i].Iyy)).Average());
        double fwhm0 = 2.3548 * sigma0;
        int radius = (int)Math.Clamp(Math.Ceiling(config.FitRadiusFwhm * fwhm0), 6, 25);
        var stamps = stars.Select(i => Stamp.Cut(exposure, measured[i].X, measured[i].Y, radius)).Where(s => s.Count > 0).ToArray();
        if (stamps.Length < config.MinStars)
        {
            return WithMoments(MoffatPsf.Circular(config.FallbackFwhm, 3.5), config);
        }

        var initial = MoffatFit.Parameters(start is { StarCount: > 0 } ? start : MoffatPsf.Circular(fwhm0, 3.0));
        var fit = MoffatFit.Fit(stamps, initial, config.MaxIterations);
        return WithMoments(MoffatFit.FromParameters(fit.Parameters, stamps.Length), config);
    }

    /// <summary>The PSF's adaptive moments, measured as a source's are: on a rendered, noiseless stamp.</summary>
    internal static MoffatPsf WithMoments(MoffatPsf psf, PsfConfig config)
    {
        _ = config;
        int r = (int)Math.Clamp(Math.Ceiling(4 * psf.Fwhm), 8, 60);
        int n = 2 * r + 1;
        var image = new float[n * n];
        var eval = psf.CreateEvaluator();
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < n; i++)
            {
                image[j * n + i] = (float)eval[i - r, j - r];
            }
        }
        var e = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new Fits.FitsHeader());
        var m = SourceMeasurer.AdaptiveMoments(e, r, r, new MeasurementConfig { PsfSigma = psf.Sigma, MaxShapeSigma = r });
        return m.Ok ? psf with { Ixx = m.Ixx, Iyy = m.Iyy, Ixy = m.Ixy } : psf;
    }
}

/// <summary>The usable pixels of a circular stamp about (x, y): offsets from the centre, values, inverse variances.</summary>
internal sealed class Stamp
{
    private Stamp(int capacity)
    {
        Dx = new double[capacity];
        Dy = new double[capacity];
        Value = new double[capacity];
        Weight = new double[capacity];
    }

    /// <summary>Arrays of at least <see cref="Count"/> elements (the usable pixels come first).</summary>
    public double[] Dx { get; }

    public double[] Dy { get; }

    public double[] Value { get; }

    public double[] Weight { get; }

    public int Count { get; private set; }

    /// <summary>Pixels that are NO_DATA, saturated, bad or without a positive variance are left out.</summary>
    public static Stamp Cut(Exposure e, double x, double y, int radius)
    {
        var s = new Stamp((2 * radius + 1) * (2 * radius + 1));
        const ushort unusable = (ushort)(MaskPlane.NoData | MaskPlane.Saturated | MaskPlane.Bad);
        int x0 = Math.Max(0, (int)Math.Round(x) - radius), x1 = Math.Min(e.Width - 1, (int)Math.Round(x) + radius);
        int y0 = Math.Max(0, (int)Math.Round(y) - radius), y1 = Math.Min(e.Height - 1, (int)Math.Round(y) + radius);
        double r2 = (radius + 0.5) * (radius + 0.5);
        for (int j = y0; j <= y1; j++)
        {
            for (int i = x0; i <= x1; i++)
            {
                double dx = i - x, dy = j - y;
                int k = j * e.Width + i;
                if (dx * dx + dy * dy > r2 || (e.Mask[k] & unusable) != 0 || !(e.Variance[k] > 0) || !float.IsFinite(e.Image[k]))
                {
                    continue;
                }
                s.Dx[s.Count] = dx;
                s.Dy[s.Count] = dy;
                s.Value[s.Count] = e.Image[k];
                s.Weight[s.Count] = 1.0 / e.Variance[k];
                s.Count++;
            }
        }
        return s;
    }
}

/// <summary>
/// PSF photometry and the measurements that need the PSF: psfFlux by a linear least-squares fit of the PSF's amplitude
/// at the centroid (uniform weights, optimal where the sky dominates and unbiased for any source), its error from the
/// variance plane; a Kron-like flux in a circular aperture of 2.5 first-moment radii; extendedness from psfFlux
/// against an aperture flux corrected to the PSF scale on the PSF stars.
/// </summary>
public static class PsfPhotometry
{
    /// <summary>The sources with their PSF, Kron and extendedness measurements set.</summary>
    public static IReadOnlyList<MeasuredSource> Measure(Exposure exposure, IReadOnlyList<MeasuredSource> measured, MoffatPsf psf, PsfConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(config);
        int radius = PhotometryRadius(psf, config);
        double fullModel = ModelPower(psf, radius);
        var flux = new (double Flux, double Err, bool Flag)[measured.Count];
        // Children of one deblended footprint are fitted together, each footprint's alone.
        var groups = new List<int[]>();
        var singles = new List<int>();
        foreach (var g in Enumerable.Range(0, measured.Count).GroupBy(i => measured[i].Deblended ? measured[i].FootprintIndex : -1 - i))
        {
            if (measured[g.First()].Deblended)
            {
                groups.Add(g.ToArray());
            }
            else
            {
                singles.Add(g.First());
            }
        }
        Parallel.For(0, singles.Count, s => flux[singles[s]] = PsfFlux(exposure, psf, measured[singles[s]].X, measured[singles[s]].Y, radius, fullModel));
        Parallel.For(0, groups.Count, g =>
        {
            var members = groups[g];
            var fit = PsfFluxes(exposure, psf, members.Select(i => (measured[i].X, measured[i].Y)).ToArray(), radius, fullModel);
            for (int k = 0; k < members.Length; k++)
            {
                flux[members[k]] = fit[k];
            }
        });
        var result = new MeasuredSource[measured.Count];
        Parallel.For(0, measured.Count, i =>
        {
            var m = measured[i];
            var (f, err, flag) = flux[i];
            // A child's Kron flux was measured by the deblender on its neighbour-subtracted pixels.
            var (kron, kronErr, kronRad, kronFlag) = m.Deblended ? (m.KronInstFlux, m.KronInstFluxErr, m.KronRadius, m.KronFluxFlag) : KronFlux(exposure, m, psf);
            result[i] = m with
            {
                PsfInstFlux = f,
                PsfInstFluxErr = err,
                PsfFluxFlag = flag || m.CenterMasked || m.CentroidFlag,
                KronInstFlux = kron,
                KronInstFluxErr = kronErr,
                KronRadius = kronRad,
                KronFluxFlag = kronFlag,
            };
        });
        double apCorr = ApertureCorrection(result, PsfDeterminer.SelectStars(result, config));
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = result[i] with { Extendedness = Extendedness(result[i], apCorr) };
        }
        return result;
    }

    /// <summary>Radius (pixels) of the PSF-flux fit: <see cref="PsfConfig.PhotometryRadiusFwhm"/> FWHM, clamped to 4..20.</summary>
    internal static int PhotometryRadius(MoffatPsf psf, PsfConfig config) =>
        (int)Math.Clamp(Math.Ceiling(config.PhotometryRadiusFwhm * psf.Fwhm), 4, 20);

    /// <summary>
    /// Simultaneous linear fit of the unit-flux PSF at several positions (the children of one footprint) to the pixels
    /// within <paramref name="radius"/> of any of them, uniform weights: amplitudes a = A⁻¹ Mᵀd with A = MᵀM, errors
    /// from the diagonal of A⁻¹ (Mᵀ V M) A⁻¹. A child whose own circle sees less than 80 % of the model is flagged;
    /// when the system is singular (two positions on top of each other) each position is fitted alone.
    /// </summary>
    public static (double Flux, double FluxErr, bool Flag)[] PsfFluxes(
        Exposure e, MoffatPsf psf, IReadOnlyList<(double X, double Y)> positions, int radius, double fullModelPower)
    {
        int n = positions.Count;
        var result = new (double, double, bool)[n];
        if (n == 1)
        {
            result[0] = PsfFlux(e, psf, positions[0].X, positions[0].Y, radius, fullModelPower);
            return result;
        }
        var eval = psf.CreateEvaluator();
        const ushort unusable = (ushort)(MaskPlane.NoData | MaskPlane.Saturated);
        double r2 = (radius + 0.5) * (radius + 0.5);
        int x0 = e.Width, x1 = -1, y0 = e.Height, y1 = -1;
        foreach (var (x, y) in positions)
        {
            x0 = Math.Min(x0, Math.Max(0, (int)Math.Round(x) - radius));
            x1 = Math.Max(x1, Math.Min(e.Width - 1, (int)Math.Round(x) + radius));
            y0 = Math.Min(y0, Math.Max(0, (int)Math.Round(y) - radius));
            y1 = Math.Max(y1, Math.Min(e.Height - 1, (int)Math.Round(y) + radius));
        }
        var a = new double[n, n];
        var c = new double[n, n];
        var b = new double[n];
        var own = new double[n];
        var m = new double[n];
        for (int j = y0; j <= y1; j++)
        {
            for (int i = x0; i <= x1; i++)
            {
                int k = j * e.Width + i;
                if ((e.Mask[k] & unusable) != 0 || !float.IsFinite(e.Image[k]))
                {
                    continue;
                }
                bool inside = false;
                for (int p = 0; p < n; p++)
                {
                    double dx = i - positions[p].X, dy = j - positions[p].Y;
                    m[p] = eval[dx, dy];
                    if (dx * dx + dy * dy <= r2)
                    {
                        inside = true;
                        own[p] += m[p] * m[p];
                    }
                }
                if (!inside)
                {
                    continue;
                }
                double d = e.Image[k], v = e.Variance[k];
                for (int p = 0; p < n; p++)
                {
                    b[p] += m[p] * d;
                    for (int q = 0; q <= p; q++)
                    {
                        a[p, q] += m[p] * m[q];
                        c[p, q] += m[p] * m[q] * v;
                    }
                }
            }
        }
        for (int p = 0; p < n; p++)
        {
            for (int q = 0; q < p; q++)
            {
                a[q, p] = a[p, q];
                c[q, p] = c[p, q];
            }
        }
        var am = Matrix<double>.Build.DenseOfArray(a);
        double condition = am.ConditionNumber();
        var inverse = double.IsFinite(condition) && condition < 1e8 ? am.Inverse() : null;
        if (inverse is null || !inverse.Enumerate().All(double.IsFinite))
        {
            for (int p = 0; p < n; p++)
            {
                result[p] = PsfFlux(e, psf, positions[p].X, positions[p].Y, radius, fullModelPower);
            }
            return result;
        }
        var amplitude = inverse * Vector<double>.Build.DenseOfArray(b);
        var covariance = inverse * Matrix<double>.Build.DenseOfArray(c) * inverse;
        for (int p = 0; p < n; p++)
        {
            result[p] = (amplitude[p], Math.Sqrt(Math.Max(covariance[p, p], 0)), own[p] < 0.8 * fullModelPower);
        }
        return result;
    }

    /// <summary>Σ m² of the model over the full stamp: a fit that sees less than 80 % of it is flagged.</summary>
    internal static double ModelPower(MoffatPsf psf, int radius)
    {
        var eval = psf.CreateEvaluator();
        double sum = 0;
        for (int j = -radius; j <= radius; j++)
        {
            for (int i = -radius; i <= radius; i++)
            {
                if (i * i + j * j <= (radius + 0.5) * (radius + 0.5))
                {
                    double m = eval[i, j];
                    sum += m * m;
                }
            }
        }
        return sum;
    }

    /// <summary>Amplitude of the unit-flux PSF at (x, y): Σ m d / Σ m², error √(Σ m² v) / Σ m².</summary>
    public static (double Flux, double FluxErr, bool Flag) PsfFlux(Exposure e, MoffatPsf psf, double x, double y, int radius, double fullModelPower)
    {
        var eval = psf.CreateEvaluator();
        const ushort unusable = (ushort)(MaskPlane.NoData | MaskPlane.Saturated);
        int cx = (int)Math.Round(x), cy = (int)Math.Round(y);
        double r2 = (radius + 0.5) * (radius + 0.5);
        double smd = 0, smm = 0, smmv = 0;
        for (int j = Math.Max(0, cy - radius); j <= Math.Min(e.Height - 1, cy + radius); j++)
        {
            for (int i = Math.Max(0, cx - radius); i <= Math.Min(e.Width - 1, cx + radius); i++)
            {
                double dx = i - x, dy = j - y;
                int k = j * e.Width + i;
                if (dx * dx + dy * dy > r2 || (e.Mask[k] & unusable) != 0 || !float.IsFinite(e.Image[k]))
                {
                    continue;
                }
                double m = eval[dx, dy];
                smd += m * e.Image[k];
                smm += m * m;
                smmv += m * m * e.Variance[k];
            }
        }
        if (!(smm > 0))
        {
            return (double.NaN, double.NaN, true);
        }
        return (smd / smm, Math.Sqrt(smmv) / smm, smm < 0.8 * fullModelPower);
    }

    /// <summary>
    /// Kron radius r₁ = Σ r I / Σ I over a circle of 6 moment-sigmas (at least 6 PSF sigmas), flux in a circle of
    /// 2.5 r₁ (at least 3.5 PSF sigmas, SExtractor's floor). Flagged when r₁ is not positive or the aperture is truncated.
    /// </summary>
    public static (double Flux, double FluxErr, double Radius, bool Flag) KronFlux(Exposure e, MeasuredSource m, MoffatPsf psf)
    {
        double sigma = m.ShapeFlag ? psf.Sigma : Math.Sqrt(Math.Max(m.Ixx, m.Iyy));
        double window = Math.Min(6.0 * Math.Max(sigma, psf.Sigma), 60.0);
        double sri = 0, si = 0;
        int cx = (int)Math.Round(m.X), cy = (int)Math.Round(m.Y), w = (int)Math.Ceiling(window);
        for (int j = Math.Max(0, cy - w); j <= Math.Min(e.Height - 1, cy + w); j++)
        {
            for (int i = Math.Max(0, cx - w); i <= Math.Min(e.Width - 1, cx + w); i++)
            {
                double dx = i - m.X, dy = j - m.Y, r = Math.Sqrt(dx * dx + dy * dy);
                int k = j * e.Width + i;
                if (r > window || (e.Mask[k] & (ushort)MaskPlane.NoData) != 0)
                {
                    continue;
                }
                sri += r * e.Image[k];
                si += e.Image[k];
            }
        }
        double r1 = si > 0 ? sri / si : double.NaN;
        if (!(r1 > 0))
        {
            return (double.NaN, double.NaN, double.NaN, true);
        }
        double radius = Math.Max(2.5 * r1, 3.5 * psf.Sigma);
        var (flux, err, truncated) = SourceMeasurer.ApertureSum(e, m.X, m.Y, radius);
        return (flux, err, radius, truncated);
    }

    /// <summary>Median psfFlux / ap06Flux of the PSF stars (the PSF scale of the 6-pixel aperture); 1 when there are none.</summary>
    internal static double ApertureCorrection(IReadOnlyList<MeasuredSource> sources, IReadOnlyList<int> stars)
    {
        var ratios = stars.Select(i => sources[i]).Where(s => !s.PsfFluxFlag && s.ApertureFlux[1] > 0)
            .Select(s => (float)(s.PsfInstFlux / s.ApertureFlux[1])).ToArray();
        return ratios.Length == 0 ? 1.0 : RobustStatistics.SigmaClip(ratios, 3.0, 5).Median;
    }

    /// <summary>
    /// 1 when the PSF fit holds clearly less flux than the PSF-scaled 6-pixel aperture (psfFlux / (apCorr ap06) below
    /// 0.95 by more than twice its noise), else 0; NaN when either flux is unusable.
    /// </summary>
    internal static double Extendedness(MeasuredSource s, double apCorr)
    {
        double ap = apCorr * s.ApertureFlux[1];
        if (s.PsfFluxFlag || !double.IsFinite(s.PsfInstFlux) || !(ap > 0) || s.ApertureFlag[1])
        {
            return double.NaN;
        }
        double ratio = s.PsfInstFlux / ap;
        double ratioErr = ratio * Math.Sqrt(Sq(s.PsfInstFluxErr / s.PsfInstFlux) + Sq(s.ApertureFluxErr[1] / s.ApertureFlux[1]));
        return ratio < 0.95 && 0.95 - ratio > 2.0 * ratioErr ? 1.0 : 0.0;
    }

    private static double Sq(double v) => v * v;
}
