using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Point5 = (double X, double Y, double Xx, double Yy, double Xy);

namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="SourceMeasurer"/>.</summary>
public sealed record MeasurementConfig
{
    /// <summary>Sigma (pixels) of the circular Gaussian weight for the centroid and the start of the adaptive moments.</summary>
    public double PsfSigma { get; init; } = 2.0;

    /// <summary>A centroid further than this from its peak (pixels) is rejected: the peak is kept and flagged.</summary>
    public double MaxCentroidShift { get; init; } = 2.0;

    public int MaxIterations { get; init; } = 100;

    /// <summary>Adaptive moments wider than this sigma (pixels) count as a failure.</summary>
    public double MaxShapeSigma { get; init; } = 20.0;

    /// <summary>Radius (pixels) within which mask planes set the pixelFlags; default the calibFlux aperture.</summary>
    public double PixelFlagsRadius { get; init; } = Apertures.CalibRadius;
}

/// <summary>The circular apertures measured, as in DP0.2: apNNFlux has radius NN pixels; calibFlux is the 12-pixel one.</summary>
public static class Apertures
{
    /// <summary>Radii in pixels, in the order of <see cref="MeasuredSource.ApertureFlux"/>.</summary>
    public static IReadOnlyList<double> Radii { get; } = [3.0, 6.0, 9.0, 12.0, 17.0, 25.0];

    public const double CalibRadius = 12.0;

    public const int CalibIndex = 3;
}

/// <summary>
/// Measurements of one footprint in electrons and pixels (zero-based; pixel centres at integers): centroid, circular
/// aperture fluxes with errors from the variance plane and a flag when the aperture leaves the image or meets NO_DATA,
/// adaptive second moments (ixx = sigma² for a Gaussian), and pixel flags from the mask.
/// </summary>
public sealed record MeasuredSource(
    int FootprintIndex,
    int PeakX,
    int PeakY,
    int FootprintArea,
    int PeakCount,
    double X,
    double Y,
    bool CentroidFlag,
    double[] ApertureFlux,
    double[] ApertureFluxErr,
    bool[] ApertureFlag,
    double Ixx,
    double Iyy,
    double Ixy,
    bool ShapeFlag,
    bool PixelFlagsSaturated,
    bool PixelFlagsEdge,
    bool PixelFlagsInterpolated,
    bool PixelFlagsBad)
{
    /// <summary>
    /// A saturated, bad or interpolated pixel lies in the 3 x 3 pixels at the centroid (LSST's *Center flags):
    /// unlike the aperture-wide pixel flags, this spoils the centroid, the moments and most of the flux.
    /// </summary>
    public bool CenterMasked { get; init; }

    /// <summary>
    /// A child of a footprint with several significant peaks (<see cref="Deblender"/>): measured on pixels with its
    /// neighbours' PSF models subtracted (centroid, moments, apertures, Kron), its psfFlux fitted together with theirs.
    /// </summary>
    public bool Deblended { get; init; }

    /// <summary>A repaired cosmic-ray pixel lies within the pixel-flags radius.</summary>
    public bool PixelFlagsCr { get; init; }

    /// <summary>PSF flux (electrons) by <see cref="PsfPhotometry"/>; NaN until measured.</summary>
    public double PsfInstFlux { get; init; } = double.NaN;

    public double PsfInstFluxErr { get; init; } = double.NaN;

    /// <summary>The PSF fit is unreliable (masked centre, too little of the model on usable pixels) or not measured.</summary>
    public bool PsfFluxFlag { get; init; } = true;

    /// <summary>Kron-like flux (electrons) in a circle of 2.5 first-moment radii; NaN until measured.</summary>
    public double KronInstFlux { get; init; } = double.NaN;

    public double KronInstFluxErr { get; init; } = double.NaN;

    /// <summary>Radius of the Kron aperture, pixels.</summary>
    public double KronRadius { get; init; } = double.NaN;

    public bool KronFluxFlag { get; init; } = true;

    /// <summary>1 extended, 0 point-like, NaN unknown.</summary>
    public double Extendedness { get; init; } = double.NaN;

    public double CalibInstFlux => ApertureFlux[Apertures.CalibIndex];

    public double CalibInstFluxErr => ApertureFluxErr[Apertures.CalibIndex];
}

/// <summary>
/// Measurement of each footprint at its brightest peak (<see cref="Deblender"/> then replaces the footprints with
/// several peaks by one measurement per peak): an iterated Gaussian-weighted centroid,
/// adaptive (Gaussian-weighted, iterated to the matched weight) second moments that refine the centroid, exact
/// pixel/circle overlap aperture sums, and pixel flags.
/// </summary>
public static class SourceMeasurer
{
    public static IReadOnlyList<MeasuredSource> Measure(Exposure exposure, IReadOnlyList<Footprint> footprints, MeasurementConfig config) =>
        Measure(exposure, footprints, config, psfCandidatesOnly: false);

    /// <summary>
    /// <see cref="Measure(Exposure, IReadOnlyList{Footprint}, MeasurementConfig)"/> with only what
    /// <see cref="PsfDeterminer"/> reads: centroid, moments, pixel flags and the calibFlux aperture (the other
    /// apertures are NaN). The values measured are the same as the full measurement's.
    /// </summary>
    public static IReadOnlyList<MeasuredSource> MeasurePsfCandidates(Exposure exposure, IReadOnlyList<Footprint> footprints, MeasurementConfig config) =>
        Measure(exposure, footprints, config, psfCandidatesOnly: true);

    private static IReadOnlyList<MeasuredSource> Measure(Exposure exposure, IReadOnlyList<Footprint> footprints, MeasurementConfig config, bool psfCandidatesOnly)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(footprints);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.PsfSigma, "config.PsfSigma");
        // Footprints are independent: measure them in parallel into their own slots (the order stays the footprints').
        var result = new MeasuredSource[footprints.Count];
        Parallel.For(0, footprints.Count, f =>
        {
            var fp = footprints[f];
            var peak = fp.Peaks.Count > 0 ? fp.Peaks[0] : new Peak((fp.XMin + fp.XMax) / 2, (fp.YMin + fp.YMax) / 2, 0f);
            result[f] = MeasureOne(exposure, f, fp, peak, config, psfCandidatesOnly);
        });
        return result;
    }

    /// <param name="calibApertureOnly">Measure only the calibFlux aperture (the others are NaN), as the PSF star selection needs.</param>
    internal static MeasuredSource MeasureOne(Exposure exposure, int index, Footprint fp, Peak peak, MeasurementConfig config, bool calibApertureOnly = false)
    {
        var (x, y, centroidOk, moments) = Centroid(exposure, peak, config);

        int nAp = Apertures.Radii.Count;
        var flux = new double[nAp];
        var err = new double[nAp];
        var flag = new bool[nAp];
        if (calibApertureOnly)
        {
            // One radius alone sums the same pixels in the same order as the one-pass sum over all radii: same value.
            Array.Fill(flux, double.NaN);
            Array.Fill(err, double.NaN);
            int ci = Apertures.CalibIndex;
            ApertureSums(exposure, x, y, [Apertures.Radii[ci]], flux.AsSpan(ci, 1), err.AsSpan(ci, 1), flag.AsSpan(ci, 1));
        }
        else
        {
            ApertureSums(exposure, x, y, Apertures.Radii, flux, err, flag);
        }
        var (sat, intrp, bad, offImage, cr) = MaskInCircle(exposure, x, y, config.PixelFlagsRadius);
        int ix = (int)Math.Round(x), iy = (int)Math.Round(y);
        bool centreEdge = ix < 0 || iy < 0 || ix >= exposure.Width || iy >= exposure.Height
            || exposure.HasMask(ix, iy, MaskPlane.Edge | MaskPlane.NoData);

        return new MeasuredSource(
            index, peak.X, peak.Y, fp.Area, fp.Peaks.Count, x, y, !centroidOk,
            flux, err, flag,
            moments.Ok ? moments.Ixx : double.NaN,
            moments.Ok ? moments.Iyy : double.NaN,
            moments.Ok ? moments.Ixy : double.NaN,
            !moments.Ok, sat, offImage || centreEdge, intrp, bad)
        {
            CenterMasked = CentreHasMask(exposure, ix, iy, MaskPlane.Saturated | MaskPlane.Bad | MaskPlane.Interpolated),
            PixelFlagsCr = cr,
        };
    }

    /// <summary>
    /// The measured position: the Gaussian-weighted centroid refined by the adaptive moments' centre when those
    /// converge within <see cref="MeasurementConfig.MaxCentroidShift"/> of the peak (else the moments count as failed).
    /// </summary>
    internal static (double X, double Y, bool CentroidOk, Moments Moments) Centroid(Exposure exposure, Peak peak, MeasurementConfig config)
    {
        var (cx, cy, centroidOk, _) = GaussianCentroid(exposure, peak.X, peak.Y, config);
        var moments = AdaptiveMoments(exposure, cx, cy, config);
        if (moments.Ok && Math.Abs(moments.X - peak.X) <= config.MaxCentroidShift && Math.Abs(moments.Y - peak.Y) <= config.MaxCentroidShift)
        {
            return (moments.X, moments.Y, centroidOk, moments);
        }
        return (cx, cy, centroidOk, moments with { Ok = false });
    }

    /// <summary>
    /// Iterated first moments with a circular Gaussian weight of the PSF sigma centred on the current estimate; the
    /// fixed point is the centre of any symmetric source. Falls back to the peak when it fails or wanders off.
    /// The plain step is twice the weighted mean offset m, exact for a Gaussian source as wide as the weight; the
    /// step taken is the one exact for any Gaussian source, (I − Q / σ²)⁻¹ m with Q the weighted covariance (a source
    /// S seen through the weight has mean offset σ² (S + σ²)⁻¹ d and Q = (S⁻¹ + σ⁻²)⁻¹), where Q &lt; 0.8 σ² (S within
    /// 4 σ²) and while |m| shrinks, and near the fixed point (|m| &lt; 0.01 px, shrinking) a secant step over the last
    /// two steps of the same map, as in <see cref="AdaptiveMoments(Exposure, double, double, MeasurementConfig)"/>.
    /// The convergence test is the plain step's (both under 1e-5 px), so the fixed point is the same. A source that
    /// fails after such steps is centred again with plain steps only.
    /// </summary>
    internal static (double X, double Y, bool Ok, int Iterations) GaussianCentroid(Exposure e, int px, int py, MeasurementConfig config)
    {
        var (x, y, ok, iterations, accelerated) = GaussianCentroid(e, px, py, config, accelerate: true);
        if (ok || !accelerated)
        {
            return (x, y, ok, iterations);
        }
        var plain = GaussianCentroid(e, px, py, config, accelerate: false);
        return (plain.X, plain.Y, plain.Ok, iterations + plain.Iterations);
    }

    private static (double X, double Y, bool Ok, int Iterations, bool Accelerated) GaussianCentroid(Exposure e, int px, int py, MeasurementConfig config, bool accelerate)
    {
        double x = px, y = py;
        double s2 = config.PsfSigma * config.PsfSigma;
        int r = (int)Math.Ceiling(4 * config.PsfSigma);
        bool gaussianSteps = accelerate, stepped = false;
        double lastOffset = double.PositiveInfinity;
        (double Gx, double Gy, double Fx, double Fy, bool Gaussian)? previous = null;
        // The circular weight is separable: exp(−dx²/2s²) per column times exp(−dy²/2s²) per row (both in wx).
        Span<double> wx = 4 * r + 6 <= 256 ? stackalloc double[256] : new double[4 * r + 6];
        for (int iter = 0; iter < config.MaxIterations; iter++)
        {
            double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            int x0 = Math.Max(0, (int)Math.Floor(x) - r), x1 = Math.Min(e.Width - 1, (int)Math.Ceiling(x) + r);
            int y0 = Math.Max(0, (int)Math.Floor(y) - r), y1 = Math.Min(e.Height - 1, (int)Math.Ceiling(y) + r);
            Span<double> wy = wx.Slice(x1 - x0 + 1, y1 - y0 + 1);
            GaussianProfile(wx[..(x1 - x0 + 1)], x0 - x, 1 / s2);
            GaussianProfile(wy, y0 - y, 1 / s2);
            for (int j = y0; j <= y1; j++)
            {
                double dy = j - y;
                double wyj = wy[j - y0];
                int row = j * e.Width;
                for (int i = x0; i <= x1; i++)
                {
                    if ((e.Mask[row + i] & (ushort)MaskPlane.NoData) != 0)
                    {
                        continue;
                    }
                    double dx = i - x;
                    double wI = wx[i - x0] * wyj * e.Image[row + i];
                    double wIdx = wI * dx;
                    sw += wI;
                    sx += wIdx;
                    sy += wI * dy;
                    sxx += wIdx * dx;
                    syy += wI * dy * dy;
                    sxy += wIdx * dy;
                }
            }
            if (!(sw > 0))
            {
                return (px, py, false, iter + 1, stepped);
            }
            double mx = sx / sw, my = sy / sw;
            // For a Gaussian source of the weight's width the weighted mean moves halfway to the centre: step twice.
            double ddx = 2 * mx, ddy = 2 * my;
            bool converged = Math.Abs(ddx) < 1e-5 && Math.Abs(ddy) < 1e-5;
            double offset = Math.Max(Math.Abs(mx), Math.Abs(my));
            bool shrinking = offset < lastOffset;
            gaussianSteps &= shrinking;
            lastOffset = offset;
            bool gaussian = false;
            if (gaussianSteps)
            {
                // A = I − Q/σ², the step A⁻¹ m where A − 0.2 I is positive definite (Q < 0.8 σ²).
                double axx = 1 - (sxx / sw - mx * mx) / s2, ayy = 1 - (syy / sw - my * my) / s2, axy = -(sxy / sw - mx * my) / s2;
                double bxx = axx - 0.25 * (1 - axx), byy = ayy - 0.25 * (1 - ayy), bxy = 1.25 * axy;
                double det = axx * ayy - axy * axy;
                if (bxx > 0 && bxx * byy - bxy * bxy > 0 && det > 0)
                {
                    (ddx, ddy) = ((ayy * mx - axy * my) / det, (axx * my - axy * mx) / det);
                    gaussian = stepped = true;
                }
            }
            // The step's image G = x + step; near the fixed point a secant step over two steps of the same map.
            double gx = x + ddx, gy = y + ddy;
            (x, y) = (gx, gy);
            if (accelerate && shrinking && offset < 1e-2 && previous is { } p && p.Gaussian == gaussian)
            {
                double d0 = ddx - p.Fx, d1 = ddy - p.Fy, dd = d0 * d0 + d1 * d1, gamma = (ddx * d0 + ddy * d1) / dd;
                if (dd > 0 && Math.Abs(gamma) <= 20)
                {
                    (x, y) = (gx - gamma * (gx - p.Gx), gy - gamma * (gy - p.Gy));
                    stepped = true;
                }
            }
            previous = (gx, gy, ddx, ddy, gaussian);
            if (Math.Abs(x - px) > config.MaxCentroidShift || Math.Abs(y - py) > config.MaxCentroidShift)
            {
                return (px, py, false, iter + 1, stepped);
            }
            if (converged)
            {
                return (x, y, true, iter + 1, stepped);
            }
        }
        return (x, y, true, config.MaxIterations, stepped);
    }

    /// <summary>Adaptive moments' result; <see cref="Iterations"/> counts the weighted sums taken to reach it.</summary>
    internal readonly record struct Moments(double X, double Y, double Ixx, double Iyy, double Ixy, bool Ok)
    {
        public int Iterations { get; init; }
    }

    /// <summary>
    /// Adaptive moments: weighted by a Gaussian whose covariance W is iterated to the fixed point W = 2Q (Q the
    /// weighted second moments about the weighted mean), at which the weight equals the source covariance for a
    /// Gaussian source (so ixx = sigma², plus the 1/12 pixel² of pixelisation). The centre is iterated as well.
    /// The step solves the Gaussian case in one: a Gaussian source S seen through W has Q = (S⁻¹ + W⁻¹)⁻¹ and a
    /// weighted mean Q S⁻¹ d for an offset d, so W steps to S = (Q⁻¹ − W⁻¹)⁻¹ and the centre by S Q⁻¹ m. Both
    /// have the fixed point of W = 2Q and x += m, and the convergence test is that of the plain iteration
    /// (W ← 2Q, x ← x + m, which only halves a Gaussian's error per step). Where the Gaussian step is unsafe (see
    /// <see cref="GaussianStep"/>) the step is plain; once the residual fails to shrink, all later steps are. Near
    /// the fixed point (residual below 1e-2 and shrinking) a secant step over the last two steps of the same map
    /// (<see cref="SecantStep"/>) removes the slowest remaining mode, which for faint, noisy or extended sources
    /// shrinks by 0.8–0.95 a plain step. A source that fails after any of these steps is measured again with plain
    /// steps only, so it converges whenever the plain iteration does.
    /// </summary>
    internal static Moments AdaptiveMoments(Exposure e, double x, double y, MeasurementConfig config)
    {
        var (moments, accelerated) = AdaptiveMoments(e, x, y, config, accelerate: true);
        if (moments.Ok || !accelerated)
        {
            return moments;
        }
        // Where accelerated steps were taken and failed, the plain iteration decides.
        var (plain, _) = AdaptiveMoments(e, x, y, config, accelerate: false);
        return plain with { Iterations = moments.Iterations + plain.Iterations };
    }

    private static (Moments Moments, bool Accelerated) AdaptiveMoments(Exposure e, double x, double y, MeasurementConfig config, bool accelerate)
    {
        double wxx = config.PsfSigma * config.PsfSigma, wyy = wxx, wxy = 0;
        double maxW = config.MaxShapeSigma * config.MaxShapeSigma;
        double lastResidual = double.PositiveInfinity;
        bool gaussianSteps = accelerate, stepped = false;
        // The last step's image and move, and whether it was a Gaussian step, for the secant step.
        (Point5 Image, Point5 Move, bool Gaussian)? previous = null;
        for (int iter = 0; iter < config.MaxIterations; iter++)
        {
            double det = wxx * wyy - wxy * wxy;
            if (!(det > 0) || wxx > maxW || wyy > maxW)
            {
                return (new Moments(x, y, wxx, wyy, wxy, false) { Iterations = iter }, stepped);
            }
            double ixx = wyy / det, iyy = wxx / det, ixy = -wxy / det;
            int r = (int)Math.Ceiling(4 * Math.Sqrt(Math.Max(wxx, wyy)));
            int x0 = Math.Max(0, (int)Math.Floor(x) - r), x1 = Math.Min(e.Width - 1, (int)Math.Ceiling(x) + r);
            int y0 = Math.Max(0, (int)Math.Floor(y) - r), y1 = Math.Min(e.Height - 1, (int)Math.Ceiling(y) + r);
            var sums = WeightedMoments(e, x, y, ixx, iyy, ixy, x0, x1, y0, y1);
            double s0 = sums.S0, sx = sums.Sx, sy = sums.Sy, sxx = sums.Sxx, syy = sums.Syy, sxy = sums.Sxy;
            if (!(s0 > 0))
            {
                return (new Moments(x, y, wxx, wyy, wxy, false) { Iterations = iter + 1 }, stepped);
            }
            double mx = sx / s0, my = sy / s0;
            double qxx = sxx / s0 - mx * mx, qyy = syy / s0 - my * my, qxy = sxy / s0 - mx * my;
            double nxx = 2 * qxx, nyy = 2 * qyy, nxy = 2 * qxy;
            // 1e-5 px and 1e-5 relative: far below the noise of any real source.
            const double tol = 1e-5;
            bool converged = Math.Abs(mx) < tol && Math.Abs(my) < tol
                && Math.Abs(nxx - wxx) < tol * wxx && Math.Abs(nyy - wyy) < tol * wyy && Math.Abs(nxy - wxy) < tol * Math.Sqrt(wxx * wyy);
            // The convergence test's distances as one number: Gaussian steps end once it fails to shrink, secant steps need it to.
            double residual = Math.Max(Math.Max(Math.Abs(mx), Math.Abs(my)),
                Math.Max(Math.Max(Math.Abs(nxx - wxx) / wxx, Math.Abs(nyy - wyy) / wyy), Math.Abs(nxy - wxy) / Math.Sqrt(wxx * wyy)));
            bool shrinking = residual < lastResidual;
            gaussianSteps &= shrinking;
            lastResidual = residual;
            // The step's image G: the Gaussian step where it is safe, else the plain one (x + m, 2Q).
            Point5 image = (x + mx, y + my, nxx, nyy, nxy);
            bool gaussian = false;
            if (gaussianSteps && GaussianStep(qxx, qyy, qxy, ixx, iyy, ixy, mx, my, maxW) is { } g)
            {
                image = (x + g.Dx, y + g.Dy, g.Wxx, g.Wyy, g.Wxy);
                gaussian = stepped = true;
            }
            // Its move, W's part relative to W as in the test; the secant needs two moves of the same map.
            double scale = Math.Sqrt(wxx * wyy);
            Point5 move = (image.X - x, image.Y - y, (image.Xx - wxx) / scale, (image.Yy - wyy) / scale, (image.Xy - wxy) / scale);
            Point5 next = image;
            if (accelerate && shrinking && residual < 1e-2 && previous is { } p && p.Gaussian == gaussian && SecantStep(p.Image, p.Move, image, move, maxW) is { } a)
            {
                next = a;
                stepped = true;
            }
            previous = (image, move, gaussian);
            (x, y, wxx, wyy, wxy) = next;
            if (converged)
            {
                bool ok = wxx > 0 && wyy > 0 && wxx * wyy - wxy * wxy > 0;
                return (new Moments(x, y, wxx, wyy, wxy, ok) { Iterations = iter + 1 }, stepped);
            }
        }
        return (new Moments(x, y, wxx, wyy, wxy, false) { Iterations = config.MaxIterations }, stepped);
    }

    /// <summary>
    /// A secant step (Anderson acceleration of depth one) on a fixed-point map, from its images G and moves f = G − x
    /// at this iterate and the last: G − γ (G − G_prev) with γ = ⟨f, Δf⟩ / |Δf|², the combination whose move is
    /// least; it removes a linear mode that shrinks by ρ a step (γ = ρ / (ρ − 1)), and a fixed point of the map is
    /// one of the step. None unless |γ| ≤ 20 (ρ up to ~0.95) and the weight stays positive definite and within the
    /// size limit.
    /// </summary>
    private static Point5? SecantStep(Point5 previousImage, Point5 previousMove, Point5 image, Point5 move, double maxW)
    {
        var (g, pg, f, pf) = (image, previousImage, move, previousMove);
        double d0 = f.X - pf.X, d1 = f.Y - pf.Y, d2 = f.Xx - pf.Xx, d3 = f.Yy - pf.Yy, d4 = f.Xy - pf.Xy;
        double dd = d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3 + d4 * d4;
        double gamma = (f.X * d0 + f.Y * d1 + f.Xx * d2 + f.Yy * d3 + f.Xy * d4) / dd;
        if (!(dd > 0 && Math.Abs(gamma) <= 20))
        {
            return null;
        }
        Point5 next = (g.X - gamma * (g.X - pg.X), g.Y - gamma * (g.Y - pg.Y),
            g.Xx - gamma * (g.Xx - pg.Xx), g.Yy - gamma * (g.Yy - pg.Yy), g.Xy - gamma * (g.Xy - pg.Xy));
        return next.Xx > 0 && next.Xx * next.Yy - next.Xy * next.Xy > 0 && next.Xx <= maxW && next.Yy <= maxW ? next : null;
    }

    /// <summary>
    /// The step to the Gaussian source that explains the weighted moments Q seen through the weight of inverse
    /// covariance (ixx, iyy, ixy): S = (Q⁻¹ − W⁻¹)⁻¹ and the centre offset S Q⁻¹ m. None (take the plain step)
    /// unless Q⁻¹ − 1.25 W⁻¹ is positive definite, i.e. S is positive definite and at most 4 W in every direction
    /// (noise or a source far wider than the weight would send it far off), and S stays within the size limit.
    /// </summary>
    private static (double Wxx, double Wyy, double Wxy, double Dx, double Dy)? GaussianStep(
        double qxx, double qyy, double qxy, double ixx, double iyy, double ixy, double mx, double my, double maxW)
    {
        double detQ = qxx * qyy - qxy * qxy;
        if (!(qxx > 0 && detQ > 0))
        {
            return null;
        }
        double qixx = qyy / detQ, qiyy = qxx / detQ, qixy = -qxy / detQ;
        double bxx = qixx - 1.25 * ixx, byy = qiyy - 1.25 * iyy, bxy = qixy - 1.25 * ixy;
        if (!(bxx > 0 && bxx * byy - bxy * bxy > 0))
        {
            return null;
        }
        double pxx = qixx - ixx, pyy = qiyy - iyy, pxy = qixy - ixy;
        double detP = pxx * pyy - pxy * pxy;
        double sxx = pyy / detP, syy = pxx / detP, sxy = -pxy / detP;
        if (!(sxx <= maxW && syy <= maxW))
        {
            return null;
        }
        // S Q⁻¹ m: the offset whose weighted mean, seen through W, is m.
        double ux = qixx * mx + qixy * my, uy = qixy * mx + qiyy * my;
        return (sxx, syy, sxy, sxx * ux + sxy * uy, sxy * ux + syy * uy);
    }

    private readonly record struct MomentSums(double S0, double Sx, double Sy, double Sxx, double Syy, double Sxy);

    /// <summary>
    /// Σ w I (1, dx, dy, dx², dy², dx dy) over the box with w = exp(−q/2), q = ixx dx² + 2 ixy dx dy + iyy dy² ≤ 32,
    /// NO_DATA pixels left out. The weight is factored as exp(−ixx dx²/2) per column × exp(−iyy dy²/2) per row ×
    /// exp(−ixy dy dx), the last a geometric progression along the row (dx steps by 1): 3 exps a row instead of one a
    /// pixel. Every factor stays within double range while the largest exponent is below 700; a weight elongated
    /// enough to exceed that (the factors cancel) takes one exp a pixel.
    /// </summary>
    private static MomentSums WeightedMoments(Exposure e, double x, double y, double ixx, double iyy, double ixy, int x0, int x1, int y0, int y1)
    {
        double s0 = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        var image = e.Image;
        var mask = e.Mask;
        int width = e.Width;
        double maxDx = Math.Max(Math.Abs(x0 - x), Math.Abs(x1 - x)), maxDy = Math.Max(Math.Abs(y0 - y), Math.Abs(y1 - y));
        bool factored = 0.5 * Math.Abs(ixx) * maxDx * maxDx + Math.Abs(ixy) * maxDx * maxDy + 0.5 * Math.Abs(iyy) * maxDy * maxDy < 700;
        int n = x1 - x0 + 1, m = Math.Max(0, y1 - y0 + 1);
        Span<double> wx = n <= 256 ? stackalloc double[256] : new double[n];
        Span<double> wyRows = m <= 256 ? stackalloc double[256] : new double[m];
        // Row by row, the cross factor exp(−ixy dy (x0 − x)) and its step along the row exp(−ixy dy) are geometric in dy.
        double crossRow = 0, crossRatio = 0, stepRow = 0, stepRatio = 0;
        if (factored)
        {
            GaussianProfile(wx[..n], x0 - x, ixx);
            GaussianProfile(wyRows[..m], y0 - y, iyy);
            crossRow = Math.Exp(-ixy * (y0 - y) * (x0 - x));
            crossRatio = Math.Exp(-ixy * (x0 - x));
            stepRow = Math.Exp(-ixy * (y0 - y));
            stepRatio = Math.Exp(-ixy);
        }
        for (int j = y0; j <= y1; j++, crossRow *= crossRatio, stepRow *= stepRatio)
        {
            double dy = j - y;
            int row = j * width;
            double wy = 0, cross = 0, step = 0;
            if (factored)
            {
                wy = wyRows[j - y0];
                cross = crossRow;
                step = stepRow;
            }
            int i = x0;
            if (factored && Vector256.IsHardwareAccelerated)
            {
                // Four pixels at a time: a lane's cross factor steps by step⁴; a group with a NO_DATA pixel goes pixel by pixel.
                double step2 = step * step;
                var crossV = Vector256.Create(cross, cross * step, cross * step2, cross * step2 * step);
                var step4 = Vector256.Create(step2 * step2);
                var dyV = Vector256.Create(dy);
                var wyV = Vector256.Create(wy);
                var qyy = Vector256.Create(iyy * dy * dy);
                var qxy = Vector256.Create(2 * ixy * dy);
                var ixxV = Vector256.Create(ixx);
                var limit = Vector256.Create(32.0);
                var lane = Vector256.Create(0.0, 1.0, 2.0, 3.0);
                const ulong noData4 = (ulong)MaskPlane.NoData * 0x0001_0001_0001_0001UL;
                var v0 = Vector256<double>.Zero;
                var vx = Vector256<double>.Zero;
                var vy = Vector256<double>.Zero;
                var vxx = Vector256<double>.Zero;
                var vyy = Vector256<double>.Zero;
                var vxy = Vector256<double>.Zero;
                for (; i + 3 <= x1; i += 4, crossV *= step4)
                {
                    int k = row + i;
                    if ((BitConverter.ToUInt64(MemoryMarshal.AsBytes(mask.AsSpan(k, 4))) & noData4) != 0)
                    {
                        for (int t = 0; t < 4; t++)
                        {
                            if ((mask[k + t] & (ushort)MaskPlane.NoData) == 0)
                            {
                                Accumulate(i + t - x, dy, ixx, iyy, ixy, wx[i + t - x0] * wy * crossV.GetElement(t), image[k + t],
                                    ref s0, ref sx, ref sy, ref sxx, ref syy, ref sxy);
                            }
                        }
                        continue;
                    }
                    var dx = Vector256.Create(i - x) + lane;
                    var q = ixxV * dx * dx + qxy * dx + qyy;
                    var pixels = Vector256.WidenLower(Vector128.Create(image.AsSpan(k, 4)).ToVector256Unsafe());
                    var wI = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(q, limit),
                        Vector256.Create((ReadOnlySpan<double>)wx.Slice(i - x0, 4)) * wyV * crossV * pixels, Vector256<double>.Zero);
                    var wIdx = wI * dx;
                    var wIdy = wI * dyV;
                    v0 += wI;
                    vx += wIdx;
                    vy += wIdy;
                    vxx += wIdx * dx;
                    vyy += wIdy * dyV;
                    vxy += wIdx * dyV;
                }
                s0 += Vector256.Sum(v0);
                sx += Vector256.Sum(vx);
                sy += Vector256.Sum(vy);
                sxx += Vector256.Sum(vxx);
                syy += Vector256.Sum(vyy);
                sxy += Vector256.Sum(vxy);
                cross = crossV.GetElement(0);
            }
            for (; i <= x1; i++, cross *= step)
            {
                if ((mask[row + i] & (ushort)MaskPlane.NoData) != 0)
                {
                    continue;
                }
                double dx = i - x;
                double w = factored ? wx[i - x0] * wy * cross : Math.Exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy));
                Accumulate(dx, dy, ixx, iyy, ixy, w, image[row + i], ref s0, ref sx, ref sy, ref sxx, ref syy, ref sxy);
            }
        }
        return new MomentSums(s0, sx, sy, sxx, syy, sxy);
    }

    /// <summary>
    /// w[k] = exp(−a (s + k)² / 2) for k = 0 .. w.Length − 1 by the recurrence w[k + 1] = w[k] r[k], r[k + 1] = r[k] e^(−a),
    /// three exps in all instead of one a value (the relative error grows by about 1e-16 a step); one exp a value where
    /// a value or a ratio could leave the normal range of a double.
    /// </summary>
    internal static void GaussianProfile(Span<double> w, double s, double a)
    {
        int n = w.Length;
        double end = s + n;
        if (!(Math.Abs(a) * (Math.Abs(s) + n + 1) < 600 && 0.5 * Math.Abs(a) * Math.Max(s * s, end * end) < 600))
        {
            for (int k = 0; k < n; k++)
            {
                double d = s + k;
                w[k] = Math.Exp(-0.5 * a * d * d);
            }
            return;
        }
        double v = Math.Exp(-0.5 * a * s * s), r = Math.Exp(-a * (s + 0.5)), c = Math.Exp(-a);
        for (int k = 0; k < n; k++)
        {
            w[k] = v;
            v *= r;
            r *= c;
        }
    }

    /// <summary>Adds one pixel of weight <paramref name="w"/> to the moment sums, unless it lies beyond the weight's cut (q > 32).</summary>
    private static void Accumulate(
        double dx, double dy, double ixx, double iyy, double ixy, double w, float pixel,
        ref double s0, ref double sx, ref double sy, ref double sxx, ref double syy, ref double sxy)
    {
        if (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy > 32)
        {
            return;
        }
        double wI = w * pixel;
        s0 += wI;
        sx += wI * dx;
        sy += wI * dy;
        sxx += wI * dx * dx;
        syy += wI * dy * dy;
        sxy += wI * dx * dy;
    }

    /// <summary>
    /// Sum of pixel values weighted by their exact overlap with the circle; error from the variance (weights squared).
    /// The flag is set when part of the circle lies off the image or on NO_DATA pixels (those are left out).
    /// </summary>
    public static (double Flux, double FluxErr, bool Truncated) ApertureSum(Exposure e, double x, double y, double radius)
    {
        Span<double> flux = stackalloc double[1];
        Span<double> err = stackalloc double[1];
        Span<bool> truncated = stackalloc bool[1];
        ApertureSums(e, x, y, [radius], flux, err, truncated);
        return (flux[0], err[0], truncated[0]);
    }

    /// <summary>
    /// <see cref="ApertureSum"/> for several increasing radii, row by row over the largest one's pixels. In a row the
    /// pixels wholly inside a circle (overlap 1) form one run, summed directly (eight pixels at a time); only
    /// the few pixels its edge cuts need the exact overlap. Which pixels are whole, cut or outside is decided by the
    /// same comparisons as pixel by pixel; a row with a NO_DATA pixel is summed pixel by pixel. Each radius's sums
    /// depend on no other radius.
    /// </summary>
    public static void ApertureSums(
        Exposure e, double x, double y, IReadOnlyList<double> radii, Span<double> flux, Span<double> err, Span<bool> truncated)
    {
        int n = radii.Count;
        Span<double> r2 = stackalloc double[n];
        Span<double> variance = stackalloc double[n];
        for (int a = 0; a < n; a++)
        {
            double r = radii[a];
            if (a > 0 && r < radii[a - 1])
            {
                throw new ArgumentException("aperture radii must increase", nameof(radii));
            }
            r2[a] = r * r;
            flux[a] = 0;
            variance[a] = 0;
            truncated[a] = x - r < -0.5 || y - r < -0.5 || x + r > e.Width - 0.5 || y + r > e.Height - 0.5;
        }
        double rMax = radii[n - 1];
        int x0 = Math.Max(0, (int)Math.Floor(x - rMax - 0.5)), x1 = Math.Min(e.Width - 1, (int)Math.Ceiling(x + rMax + 0.5));
        int y0 = Math.Max(0, (int)Math.Floor(y - rMax - 0.5)), y1 = Math.Min(e.Height - 1, (int)Math.Ceiling(y + rMax + 0.5));
        int bw = Math.Max(0, x1 - x0 + 1);
        var image = e.Image;
        var var = e.Variance;
        var mask = e.Mask;
        for (int j = y0; j <= y1 && bw > 0; j++)
        {
            double ay = Math.Abs(j - y);
            double nearY = Math.Max(0, ay - 0.5), farY = ay + 0.5;
            int row = j * e.Width;
            if (MaskRows.AnyIn(mask.AsSpan(row + x0, bw), MaskPlane.NoData))
            {
                SumRowPixelByPixel(e, row, x0, x1, x, ay, nearY, farY, radii, r2, flux, variance, truncated);
                continue;
            }
            for (int a = 0; a < n; a++)
            {
                double rr = r2[a];
                if (rr <= nearY * nearY)
                {
                    continue; // no pixel of this row reaches this circle
                }
                // The pixels the circle touches (r² > near²) and those wholly inside it (r² >= far²): both are runs
                // about x. Start from estimates and settle each end with the pixel-by-pixel comparisons.
                double reach = Math.Sqrt(rr - nearY * nearY) + 0.5;
                int t0 = Math.Max(x0, (int)Math.Floor(x - reach) - 1), t1 = Math.Min(x1, (int)Math.Ceiling(x + reach) + 1);
                while (t0 <= t1 && !(rr > CornerDistances(t0, x, nearY, farY).Near2)) { t0++; }
                while (t1 >= t0 && !(rr > CornerDistances(t1, x, nearY, farY).Near2)) { t1--; }
                // The whole run [w0, w1] inside [t0, t1]; with none, every touched pixel is cut.
                int w0 = t1 + 1, w1 = t1;
                if (t0 <= t1 && rr >= farY * farY)
                {
                    double inner = Math.Sqrt(rr - farY * farY) - 0.5;
                    w0 = Math.Max(t0, (int)Math.Floor(x - inner) - 1);
                    w1 = Math.Min(t1, (int)Math.Ceiling(x + inner) + 1);
                    while (w0 <= w1 && !(rr >= CornerDistances(w0, x, nearY, farY).Far2)) { w0++; }
                    while (w1 >= w0 && !(rr >= CornerDistances(w1, x, nearY, farY).Far2)) { w1--; }
                }
                if (w0 <= w1)
                {
                    var (sum, sumVariance) = Sums(image.AsSpan(row + w0, w1 - w0 + 1), var.AsSpan(row + w0, w1 - w0 + 1));
                    flux[a] += sum;
                    variance[a] += sumVariance;
                }
                else
                {
                    (w0, w1) = (t1 + 1, t1);
                }
                AddCutPixels(e, row, t0, w0 - 1, x, ay, radii[a], ref flux[a], ref variance[a]);
                AddCutPixels(e, row, w1 + 1, t1, x, ay, radii[a], ref flux[a], ref variance[a]);
            }
        }
        for (int a = 0; a < n; a++)
        {
            err[a] = Math.Sqrt(variance[a]);
        }
    }

    /// <summary>Σ values and Σ variances of a run of whole pixels, in double, eight pixels at a time.</summary>
    private static (double Sum, double SumVariance) Sums(ReadOnlySpan<float> values, ReadOnlySpan<float> variances)
    {
        int i = 0;
        double sum = 0, sumVariance = 0;
        if (Vector256.IsHardwareAccelerated && values.Length >= Vector256<float>.Count)
        {
            var s = Vector256<double>.Zero;
            var sv = Vector256<double>.Zero;
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(values.Slice(i, Vector256<float>.Count)));
                var (vlo, vhi) = Vector256.Widen(Vector256.Create(variances.Slice(i, Vector256<float>.Count)));
                s += lo + hi;
                sv += vlo + vhi;
            }
            sum = Vector256.Sum(s);
            sumVariance = Vector256.Sum(sv);
        }
        for (; i < values.Length; i++)
        {
            sum += values[i];
            sumVariance += variances[i];
        }
        return (sum, sumVariance);
    }

    /// <summary>
    /// The pixels [from, to] of a row, each weighted by its exact overlap with the circle: the difference of the row
    /// band's cumulative area at its two edges, each edge evaluated once.
    /// </summary>
    private static void AddCutPixels(Exposure e, int row, int from, int to, double x, double ay, double radius, ref double flux, ref double variance)
    {
        if (from > to)
        {
            return;
        }
        var band = new ApertureOverlap.RowBand(radius, ay - 0.5, ay + 0.5);
        double left = band.Cumulative(from - 0.5 - x);
        for (int i = from; i <= to; i++)
        {
            double right = band.Cumulative(i + 0.5 - x);
            double f = right - left;
            left = right;
            if (f > 0)
            {
                flux += f * e.Image[row + i];
                variance += f * f * e.Variance[row + i];
            }
        }
    }

    /// <summary>
    /// Squared distances from (x, row) to the nearest and farthest points of pixel <paramref name="i"/>: it reaches a
    /// circle of radius² r² when r² &gt; near², and lies wholly inside it when r² &gt;= far².
    /// </summary>
    private static (double Near2, double Far2) CornerDistances(int i, double x, double nearY, double farY)
    {
        double ax = Math.Abs(i - x);
        double nearX = Math.Max(0, ax - 0.5), farX = ax + 0.5;
        return (nearX * nearX + nearY * nearY, farX * farX + farY * farY);
    }

    /// <summary>One row with a NO_DATA pixel: each pixel's overlap with each circle; NO_DATA pixels the circle reaches flag it.</summary>
    private static void SumRowPixelByPixel(
        Exposure e, int row, int x0, int x1, double x, double ay, double nearY, double farY, IReadOnlyList<double> radii,
        ReadOnlySpan<double> r2, Span<double> flux, Span<double> variance, Span<bool> truncated)
    {
        double rMax2 = r2[^1];
        for (int i = x0; i <= x1; i++)
        {
            double ax = Math.Abs(i - x);
            var (near2, far2) = CornerDistances(i, x, nearY, farY);
            if (near2 >= rMax2)
            {
                continue;
            }
            bool noData = (e.Mask[row + i] & (ushort)MaskPlane.NoData) != 0;
            double v = e.Image[row + i], vv = e.Variance[row + i];
            for (int a = 0; a < r2.Length; a++)
            {
                if (r2[a] <= near2)
                {
                    continue;
                }
                double f = r2[a] >= far2 ? 1.0 : ApertureOverlap.CircleRectangle(radii[a], ax - 0.5, ax + 0.5, ay - 0.5, ay + 0.5);
                if (f <= 0)
                {
                    continue;
                }
                if (noData)
                {
                    truncated[a] = true;
                    continue;
                }
                flux[a] += f * v;
                variance[a] += f * f * vv;
            }
        }
    }

    private static bool CentreHasMask(Exposure e, int ix, int iy, MaskPlane planes)
    {
        for (int j = Math.Max(0, iy - 1); j <= Math.Min(e.Height - 1, iy + 1); j++)
        {
            for (int i = Math.Max(0, ix - 1); i <= Math.Min(e.Width - 1, ix + 1); i++)
            {
                if (e.HasMask(i, j, planes))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static (bool Sat, bool Intrp, bool Bad, bool OffImage, bool Cr) MaskInCircle(Exposure e, double x, double y, double radius)
    {
        bool off = x - radius < -0.5 || y - radius < -0.5 || x + radius > e.Width - 0.5 || y + radius > e.Height - 0.5;
        int x0 = Math.Max(0, (int)Math.Floor(x - radius)), x1 = Math.Min(e.Width - 1, (int)Math.Ceiling(x + radius));
        int y0 = Math.Max(0, (int)Math.Floor(y - radius)), y1 = Math.Min(e.Height - 1, (int)Math.Ceiling(y + radius));
        ushort any = 0;
        double r2 = radius * radius;
        for (int j = y0; j <= y1; j++)
        {
            for (int i = x0; i <= x1; i++)
            {
                double dx = i - x, dy = j - y;
                if (dx * dx + dy * dy <= r2)
                {
                    any |= e.Mask[j * e.Width + i];
                }
            }
        }
        return ((any & (ushort)MaskPlane.Saturated) != 0,
            (any & (ushort)MaskPlane.Interpolated) != 0,
            (any & (ushort)MaskPlane.Bad) != 0,
            off || (any & (ushort)MaskPlane.NoData) != 0,
            (any & (ushort)MaskPlane.CosmicRay) != 0);
    }
}
