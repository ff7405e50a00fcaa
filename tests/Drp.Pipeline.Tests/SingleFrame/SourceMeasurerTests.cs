using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class SourceMeasurerTests
{
    private const int N = 256;
    private const double SkyVariance = 425;

    private static (Exposure Exposure, List<Star> Stars, IReadOnlyList<MeasuredSource> Measured) MeasureStars(
        List<Star> stars, int seed, DetectionConfig? detection = null)
    {
        var rng = new Random(seed);
        var truth = SyntheticData.Render(N, N, (_, _) => 0, stars);
        var image = new float[N * N];
        var variance = new float[N * N];
        for (int i = 0; i < truth.Length; i++)
        {
            variance[i] = (float)(SkyVariance + truth[i]);
            image[i] = (float)(truth[i] + Math.Sqrt(variance[i]) * SyntheticData.Gaussian(rng));
        }
        var exposure = new Exposure(N, N, image, variance, new ushort[N * N], new());
        var footprints = SourceDetector.Detect(exposure, detection ?? new DetectionConfig());
        return (exposure, stars, SourceMeasurer.Measure(exposure, footprints, new MeasurementConfig()));
    }

    private static MeasuredSource Nearest(IReadOnlyList<MeasuredSource> measured, Star s) =>
        measured.MinBy(m => (m.X - s.X) * (m.X - s.X) + (m.Y - s.Y) * (m.Y - s.Y))!;

    [Theory]
    [InlineData(-8.3, 0.25, 18)]     // the centroid's weight: sigma 2, 17-18 pixels
    [InlineData(-12.7, 0.05, 27)]    // a wide source's adaptive weight
    [InlineData(-3.6, 100.0, 8)]     // a very sharp weight: the values span hundreds of e-folds, one exp each
    [InlineData(0.4, 4.0, 40)]       // starting past the peak
    [InlineData(-60.0, 0.5, 121)]    // far wings beyond the range of a double: one exp each
    public void GaussianProfile_IsTheGaussianAtEveryStepWithinRoundingOfTheRecurrence(double start, double a, int n)
    {
        var w = new double[n];

        SourceMeasurer.GaussianProfile(w, start, a);

        for (int k = 0; k < n; k++)
        {
            double expected = Math.Exp(-0.5 * a * (start + k) * (start + k));
            Assert.True(Math.Abs(w[k] - expected) <= 1e-13 * expected, $"k {k}: {w[k]:R} vs {expected:R}");
        }
    }

    [Fact]
    public void Measure_BrightStars_CentroidsWithinFiveHundredthsOfAPixel()
    {
        var rng = new Random(40);
        var stars = SyntheticData.StarGrid(N, N, 48, 50000, rng);

        var (_, _, measured) = MeasureStars(stars, 41);

        Assert.Equal(stars.Count, measured.Count);
        foreach (var s in stars)
        {
            var m = Nearest(measured, s);
            // Expected centroid error ~ sigma sqrt(2 (var) 4 pi sigma²) / flux ~ 0.01 px at 5e4 e-.
            Assert.InRange(m.X - s.X, -0.05, 0.05);
            Assert.InRange(m.Y - s.Y, -0.05, 0.05);
            Assert.False(m.CentroidFlag);
        }
    }

    [Fact]
    public void Measure_BrightStars_LargeApertureFluxWithinTwoPercentAndThreeSigma()
    {
        var rng = new Random(42);
        var stars = SyntheticData.StarGrid(N, N, 64, 50000, rng);

        var (_, _, measured) = MeasureStars(stars, 43);

        foreach (var s in stars)
        {
            var m = Nearest(measured, s);
            // The 12-pixel aperture holds 1 - exp(-18) of a sigma = 2 Gaussian: all of it.
            double flux = m.ApertureFlux[Apertures.CalibIndex], err = m.ApertureFluxErr[Apertures.CalibIndex];
            Assert.InRange(flux / s.Flux, 0.98, 1.02);
            Assert.InRange(Math.Abs(flux - s.Flux), 0, 3 * err);
            // Error: sqrt(pi 12² x 425 + flux) ~ 440 e- for 5e4 e-.
            Assert.InRange(err, Math.Sqrt(Math.PI * 144 * SkyVariance), Math.Sqrt(Math.PI * 144 * SkyVariance + 2 * s.Flux));
            // The 3-pixel aperture holds 1 - exp(-9 / (2 x 4.083)) = 66.8% of a pixelised sigma = 2 Gaussian; exact
            // overlap weights assume light spread evenly within each edge pixel, which is not true on this steep
            // profile: a percent or two below is expected.
            Assert.InRange(m.ApertureFlux[0] / s.Flux, 0.64, 0.68);
            Assert.All(m.ApertureFlag.Take(Apertures.CalibIndex + 1), f => Assert.False(f));
        }
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(2.5)]
    public void Measure_GaussianStar_AdaptiveMomentsGiveSigmaSquared(double sigma)
    {
        var stars = new List<Star> { new(100.3, 120.6, 2e5, sigma), new(180.7, 60.2, 2e5, sigma) };

        var (_, _, measured) = MeasureStars(stars, 44, new DetectionConfig { PsfSigma = sigma });

        foreach (var s in stars)
        {
            var m = Nearest(measured, s);
            Assert.False(m.ShapeFlag);
            // Pixelisation adds 1/12 px²; the rest is within 2%.
            double expected = sigma * sigma + 1.0 / 12;
            Assert.InRange(m.Ixx / expected, 0.98, 1.02);
            Assert.InRange(m.Iyy / expected, 0.98, 1.02);
            Assert.InRange(m.Ixy, -0.02 * expected, 0.02 * expected);
        }
    }

    [Fact]
    public void AdaptiveMoments_EllipticalSource_RecoversCovariance()
    {
        // An elliptical Gaussian sampled at pixel centres (no pixelisation term): ixx 6, iyy 3, ixy 1.5.
        double cxx = 6, cyy = 3, cxy = 1.5;
        double det = cxx * cyy - cxy * cxy;
        var image = new float[64 * 64];
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                double dx = x - 31.2, dy = y - 32.7;
                double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
                image[y * 64 + x] = (float)(1000 * Math.Exp(-0.5 * q));
            }
        }
        var exposure = new Exposure(64, 64, image, new float[64 * 64], new ushort[64 * 64], new());

        var m = SourceMeasurer.AdaptiveMoments(exposure, 31, 33, new MeasurementConfig());

        Assert.True(m.Ok);
        Assert.Equal(31.2, m.X, 4);
        Assert.Equal(32.7, m.Y, 4);
        Assert.Equal(cxx, m.Ixx, 3);
        Assert.Equal(cyy, m.Iyy, 3);
        Assert.Equal(cxy, m.Ixy, 3);
    }

    [Fact]
    public void AdaptiveMoments_SourceElongatedBeyondTheFactoredWeightsRange_RecoversCovariance()
    {
        // Variances 300 and 2 along the diagonals: the weight's factors would leave double range (exponents > 700),
        // so the moments take the one-exp-a-pixel path; they must still converge to the covariance.
        double cxx = 151, cyy = 151, cxy = 149;
        double det = cxx * cyy - cxy * cxy;
        const int n = 128;
        var image = new float[n * n];
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                double dx = x - 63.6, dy = y - 64.3;
                double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
                image[y * n + x] = (float)(1000 * Math.Exp(-0.5 * q));
            }
        }
        var exposure = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new());

        var m = SourceMeasurer.AdaptiveMoments(exposure, 64, 64, new MeasurementConfig());

        Assert.True(m.Ok);
        Assert.Equal(63.6, m.X, 3);
        Assert.Equal(64.3, m.Y, 3);
        Assert.InRange(m.Ixx / cxx, 0.99, 1.01);
        Assert.InRange(m.Iyy / cyy, 0.99, 1.01);
        Assert.InRange(m.Ixy / cxy, 0.99, 1.01);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.5)]
    [InlineData(3.5)]
    [InlineData(4.765)]
    public void AdaptiveMoments_NoiselessEllipticalSource_SameFixedPointAsThePlainIterationInUnderHalfItsSteps(double moffatBeta)
    {
        // About (31.3, 32.6): a Gaussian (beta 0) of covariance (6, 3, 1.5) or a Moffat of Q matrix (24, 12, 6), FWHM ~4 px.
        const int n = 64;
        double scale = moffatBeta > 0 ? 4 : 1, qxx = 6 * scale, qyy = 3 * scale, qxy = 1.5 * scale, det = qxx * qyy - qxy * qxy;
        var image = new float[n * n];
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                double dx = x - 31.3, dy = y - 32.6;
                double q = (qyy * dx * dx - 2 * qxy * dx * dy + qxx * dy * dy) / det;
                image[y * n + x] = (float)(1000 * (moffatBeta > 0 ? Math.Pow(1 + q, -moffatBeta) : Math.Exp(-0.5 * q)));
            }
        }
        var exposure = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new());
        var config = new MeasurementConfig();
        var plain = PlainAdaptiveMoments(image, n, 31, 33, config.PsfSigma, 1e-5);
        var exact = PlainAdaptiveMoments(image, n, 31, 33, config.PsfSigma, 1e-12);

        var m = SourceMeasurer.AdaptiveMoments(exposure, 31, 33, config);

        Assert.True(m.Ok);
        Assert.True(exact.Ok);
        // The plain iteration halves a Gaussian's error per step: ~17 steps to 1e-5.
        Assert.InRange(m.Iterations, 1, plain.Iterations / 2);
        // Both stop within 1e-5 of the fixed point; 2e-5 relative (px for the centre) bounds their difference.
        Assert.InRange(m.X - exact.X, -2e-5, 2e-5);
        Assert.InRange(m.Y - exact.Y, -2e-5, 2e-5);
        Assert.InRange(m.Ixx / exact.Wxx - 1, -2e-5, 2e-5);
        Assert.InRange(m.Iyy / exact.Wyy - 1, -2e-5, 2e-5);
        Assert.InRange((m.Ixy - exact.Wxy) / Math.Sqrt(exact.Wxx * exact.Wyy), -2e-5, 2e-5);
        Assert.InRange(plain.Wxx / exact.Wxx - 1, -2e-5, 2e-5);
    }

    [Fact]
    public void AdaptiveMomentsAndGaussianCentroid_FaintNoisyEllipticalSources_ConvergeWhereverThePlainIterationDoesToItsFixedPointInUnderHalfTheSteps()
    {
        // Faint (S/N ~10–40) elliptical Gaussians of sigma 1.5–4 px in sky noise: the plain iteration's error
        // shrinks by 0.5–0.95 a step on these, so stopping at 1e-5 steps leaves it up to ~2e-4 from the fixed point;
        // the reference fixed point is the plain iteration's run to 1e-10. Steps are compared where both converge (a
        // source that fails after accelerated steps costs those and a plain run).
        var rng = new Random(48);
        const int n = 64;
        int steps = 0, plainSteps = 0, compared = 0, centroidSteps = 0, centroidPlainSteps = 0;
        for (int k = 0; k < 40; k++)
        {
            double sigma2 = Math.Pow(1.5 + 2.5 * rng.NextDouble(), 2), e = 0.5 * rng.NextDouble(), angle = Math.PI * rng.NextDouble();
            double cxx = sigma2 * (1 + e * Math.Cos(2 * angle)), cyy = sigma2 * (1 - e * Math.Cos(2 * angle)), cxy = sigma2 * e * Math.Sin(2 * angle);
            double det = cxx * cyy - cxy * cxy, flux = 400 + 1600 * rng.NextDouble(), x0 = 31.5 + rng.NextDouble(), y0 = 31.5 + rng.NextDouble();
            var image = new float[n * n];
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    double dx = x - x0, dy = y - y0;
                    double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
                    image[y * n + x] = (float)(flux * Math.Exp(-0.5 * q) / (2 * Math.PI * Math.Sqrt(det)) + Math.Sqrt(SkyVariance) * SyntheticData.Gaussian(rng));
                }
            }
            var exposure = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new());
            var config = new MeasurementConfig();
            var plain = PlainAdaptiveMoments(image, n, 32, 32, config.PsfSigma, 1e-5, config.MaxIterations);
            var exact = PlainAdaptiveMoments(image, n, 32, 32, config.PsfSigma, 1e-10, 5000);

            var centroidPlain = PlainGaussianCentroid(image, n, 32, 32, config.PsfSigma, 1e-5, config.MaxIterations);
            var centroidExact = PlainGaussianCentroid(image, n, 32, 32, config.PsfSigma, 1e-12, 5000);

            var m = SourceMeasurer.AdaptiveMoments(exposure, 32, 32, config);
            var c = SourceMeasurer.GaussianCentroid(exposure, 32, 32, config);

            Assert.True(m.Ok || !plain.Ok, $"source {k}: the plain iteration converges, the measurer does not");
            Assert.True(c.Ok || !centroidPlain.Ok, $"source {k}: the plain centroid converges, the measurer's does not");
            if (c.Ok && centroidExact.Ok && centroidExact.Iterations < 5000)
            {
                Assert.InRange(c.X - centroidExact.X, -1e-3, 1e-3);
                Assert.InRange(c.Y - centroidExact.Y, -1e-3, 1e-3);
                centroidSteps += c.Iterations;
                centroidPlainSteps += centroidPlain.Iterations;
            }
            if (m.Ok && plain.Ok)
            {
                steps += m.Iterations;
                plainSteps += plain.Iterations;
            }
            if (m.Ok && exact.Ok)
            {
                compared++;
                Assert.InRange(m.X - exact.X, -1e-3, 1e-3);
                Assert.InRange(m.Y - exact.Y, -1e-3, 1e-3);
                Assert.InRange(m.Ixx / exact.Wxx - 1, -1e-3, 1e-3);
                Assert.InRange(m.Iyy / exact.Wyy - 1, -1e-3, 1e-3);
                Assert.InRange((m.Ixy - exact.Wxy) / Math.Sqrt(exact.Wxx * exact.Wyy), -1e-3, 1e-3);
            }
        }
        Assert.InRange(compared, 30, 40);
        Assert.InRange(steps, 1, plainSteps / 2);
        Assert.InRange(centroidSteps, 1, centroidPlainSteps / 2);
    }

    [Fact]
    public void AdaptiveMoments_NoiselessEllipticalGaussian_ConvergesInThreeSteps()
    {
        // Sampled at pixel centres, a Gaussian's weighted moments are those of the continuous one to ~1e-9: the
        // Gaussian step lands on the covariance at once; one more step finds it converged, a third checks.
        double cxx = 5, cyy = 2.5, cxy = -1.2, det = cxx * cyy - cxy * cxy;
        const int n = 64;
        var image = new float[n * n];
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                double dx = x - 30.6, dy = y - 33.3;
                image[y * n + x] = (float)(1000 * Math.Exp(-0.5 * (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det));
            }
        }
        var exposure = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new());

        var m = SourceMeasurer.AdaptiveMoments(exposure, 31, 33, new MeasurementConfig());

        Assert.True(m.Ok);
        Assert.InRange(m.Iterations, 1, 3);
        Assert.Equal(cxx, m.Ixx, 4);
        Assert.Equal(cyy, m.Iyy, 4);
        Assert.Equal(cxy, m.Ixy, 4);
        Assert.Equal(30.6, m.X, 5);
        Assert.Equal(33.3, m.Y, 5);
    }

    [Fact]
    public void GaussianCentroid_NoiselessSourcesWiderAndNarrowerThanTheWeight_SameCentreAsThePlainIterationInUnderHalfItsSteps()
    {
        // Gaussians of covariance (1.2, 1, 0.2), (9, 5, 2) and (20, 14, -5) and a Moffat (beta 3.5, Q (24, 12, 6)); the
        // weight is the default sigma 2, which only a source of that width centres in one plain (doubled) step.
        const int n = 64;
        double[][] shapes = [[1.2, 1, 0.2, 0], [9, 5, 2, 0], [20, 14, -5, 0], [24, 12, 6, 3.5]];
        var config = new MeasurementConfig();
        int steps = 0, plainSteps = 0;
        foreach (var shape in shapes)
        {
            var image = RenderSource(n, 31.37, 32.81, shape[0], shape[1], shape[2], shape[3]);
            var exposure = new Exposure(n, n, image, new float[n * n], new ushort[n * n], new());
            var plain = PlainGaussianCentroid(image, n, 31, 33, config.PsfSigma, 1e-5);
            var exact = PlainGaussianCentroid(image, n, 31, 33, config.PsfSigma, 1e-12);

            var c = SourceMeasurer.GaussianCentroid(exposure, 31, 33, config);

            Assert.True(c.Ok);
            Assert.True(exact.Ok && exact.Iterations < 1000);
            Assert.InRange(c.X - exact.X, -2e-5, 2e-5);
            Assert.InRange(c.Y - exact.Y, -2e-5, 2e-5);
            steps += c.Iterations;
            plainSteps += plain.Iterations;
        }
        Assert.InRange(steps, 1, plainSteps / 2);
    }

    /// <summary>A noiseless source sampled at pixel centres: a Gaussian of covariance (cxx, cyy, cxy), or for beta &gt; 0 a Moffat of that Q matrix.</summary>
    private static float[] RenderSource(int n, double x0, double y0, double cxx, double cyy, double cxy, double beta)
    {
        double det = cxx * cyy - cxy * cxy;
        var image = new float[n * n];
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                double dx = x - x0, dy = y - y0;
                double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) / det;
                image[y * n + x] = (float)(1000 * (beta > 0 ? Math.Pow(1 + q, -beta) : Math.Exp(-0.5 * q)));
            }
        }
        return image;
    }

    /// <summary>The weighted mean offset from (x, y) under a circular Gaussian weight of the given sigma over the box ±⌈4 σ⌉ about ⌊x⌋..⌈x⌉.</summary>
    private static (double Mx, double My) WeightedOffset(float[] image, int n, double x, double y, double sigma)
    {
        int r = (int)Math.Ceiling(4 * sigma);
        double sw = 0, sx = 0, sy = 0;
        for (int j = Math.Max(0, (int)Math.Floor(y) - r); j <= Math.Min(n - 1, (int)Math.Ceiling(y) + r); j++)
        {
            for (int i = Math.Max(0, (int)Math.Floor(x) - r); i <= Math.Min(n - 1, (int)Math.Ceiling(x) + r); i++)
            {
                double dx = i - x, dy = j - y, wI = Math.Exp(-0.5 * (dx * dx + dy * dy) / (sigma * sigma)) * image[j * n + i];
                (sw, sx, sy) = (sw + wI, sx + wI * dx, sy + wI * dy);
            }
        }
        return sw > 0 ? (sx / sw, sy / sw) : (double.NaN, double.NaN);
    }

    /// <summary>
    /// The plain Gaussian centroid from the peak (px, py): x ← x + 2 m until both steps are below tol (px); not Ok
    /// once it strays more than the measurer's MaxCentroidShift from the peak or the weighted flux is not positive.
    /// </summary>
    private static (double X, double Y, int Iterations, bool Ok) PlainGaussianCentroid(
        float[] image, int n, int px, int py, double sigma, double tol, int maxIterations = 1000)
    {
        double x = px, y = py, maxShift = new MeasurementConfig().MaxCentroidShift;
        for (int iter = 1; iter <= maxIterations; iter++)
        {
            var (mx, my) = WeightedOffset(image, n, x, y, sigma);
            if (!double.IsFinite(mx) || !double.IsFinite(my))
            {
                return (px, py, iter, false);
            }
            (x, y) = (x + 2 * mx, y + 2 * my);
            if (Math.Abs(x - px) > maxShift || Math.Abs(y - py) > maxShift)
            {
                return (px, py, iter, false);
            }
            if (Math.Abs(2 * mx) < tol && Math.Abs(2 * my) < tol)
            {
                return (x, y, iter, true);
            }
        }
        return (x, y, maxIterations, true);
    }

    /// <summary>
    /// The definition of adaptive moments, pixel by pixel: weight exp(−q/2) with q = dᵀ W⁻¹ d ≤ 32 over the box
    /// ±⌈4 σmax⌉ about ⌊x⌋..⌈x⌉, W ← 2Q and x ← x + m (the plain iteration), until every change is below tol
    /// (px, or relative to W); not Ok where the weight stops being positive definite or exceeds the size limit,
    /// the weighted flux is not positive or the steps run out, as in the measurer.
    /// </summary>
    private static (double X, double Y, double Wxx, double Wyy, double Wxy, int Iterations, bool Ok) PlainAdaptiveMoments(
        float[] image, int n, double x, double y, double sigma, double tol, int maxIterations = 1000)
    {
        double wxx = sigma * sigma, wyy = wxx, wxy = 0;
        double maxW = new MeasurementConfig().MaxShapeSigma * new MeasurementConfig().MaxShapeSigma;
        for (int iter = 1; iter <= maxIterations; iter++)
        {
            double det = wxx * wyy - wxy * wxy, ixx = wyy / det, iyy = wxx / det, ixy = -wxy / det;
            if (!(det > 0) || wxx > maxW || wyy > maxW)
            {
                return (x, y, wxx, wyy, wxy, iter, false);
            }
            int r = (int)Math.Ceiling(4 * Math.Sqrt(Math.Max(wxx, wyy)));
            double s0 = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (int j = Math.Max(0, (int)Math.Floor(y) - r); j <= Math.Min(n - 1, (int)Math.Ceiling(y) + r); j++)
            {
                for (int i = Math.Max(0, (int)Math.Floor(x) - r); i <= Math.Min(n - 1, (int)Math.Ceiling(x) + r); i++)
                {
                    double dx = i - x, dy = j - y, q = ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy;
                    if (q <= 32)
                    {
                        double wI = Math.Exp(-0.5 * q) * image[j * n + i];
                        (s0, sx, sy) = (s0 + wI, sx + wI * dx, sy + wI * dy);
                        (sxx, syy, sxy) = (sxx + wI * dx * dx, syy + wI * dy * dy, sxy + wI * dx * dy);
                    }
                }
            }
            if (!(s0 > 0))
            {
                return (x, y, wxx, wyy, wxy, iter, false);
            }
            double mx = sx / s0, my = sy / s0;
            double nxx = 2 * (sxx / s0 - mx * mx), nyy = 2 * (syy / s0 - my * my), nxy = 2 * (sxy / s0 - mx * my);
            bool converged = Math.Abs(mx) < tol && Math.Abs(my) < tol && Math.Abs(nxx - wxx) < tol * wxx
                && Math.Abs(nyy - wyy) < tol * wyy && Math.Abs(nxy - wxy) < tol * Math.Sqrt(wxx * wyy);
            (x, y, wxx, wyy, wxy) = (x + mx, y + my, nxx, nyy, nxy);
            if (converged)
            {
                return (x, y, wxx, wyy, wxy, iter, wxx > 0 && wyy > 0 && wxx * wyy - wxy * wxy > 0);
            }
        }
        return (x, y, wxx, wyy, wxy, maxIterations, false);
    }

    [Fact]
    public void MeasurePsfCandidates_Stars_SameCentroidsMomentsFlagsAndCalibFluxAsTheFullMeasurement()
    {
        var rng = new Random(46);
        var stars = SyntheticData.StarGrid(N, N, 40, 20000, rng);
        var (exposure, _, full) = MeasureStars(stars, 47);
        var footprints = SourceDetector.Detect(exposure, new DetectionConfig());

        var candidates = SourceMeasurer.MeasurePsfCandidates(exposure, footprints, new MeasurementConfig());

        Assert.Equal(full.Count, candidates.Count);
        for (int i = 0; i < full.Count; i++)
        {
            var (f, c) = (full[i], candidates[i]);
            Assert.Equal((f.X, f.Y, f.Ixx, f.Iyy, f.Ixy, f.ShapeFlag, f.CentroidFlag), (c.X, c.Y, c.Ixx, c.Iyy, c.Ixy, c.ShapeFlag, c.CentroidFlag));
            Assert.Equal((f.PixelFlagsSaturated, f.PixelFlagsEdge, f.PixelFlagsBad, f.CenterMasked), (c.PixelFlagsSaturated, c.PixelFlagsEdge, c.PixelFlagsBad, c.CenterMasked));
            Assert.Equal((f.CalibInstFlux, f.CalibInstFluxErr), (c.CalibInstFlux, c.CalibInstFluxErr));
            Assert.True(double.IsNaN(c.ApertureFlux[0]));
        }
    }

    [Fact]
    public void Measure_StarNearTheEdge_FlagsEdgeAndTruncatedApertures()
    {
        var stars = new List<Star> { new(5.2, 128.4, 1e5), new(128.0, 128.0, 1e5) };

        var (_, _, measured) = MeasureStars(stars, 45);

        var edge = Nearest(measured, stars[0]);
        Assert.True(Math.Abs(edge.X - stars[0].X) < 0.1);
        Assert.True(edge.PixelFlagsEdge);
        // x = 5.2: the 3-pixel aperture fits (left edge of the image at -0.5), the 6-pixel one does not.
        Assert.False(edge.ApertureFlag[0]);
        Assert.True(edge.ApertureFlag[1]);
        Assert.True(edge.ApertureFlag[Apertures.CalibIndex]);
        var centre = Nearest(measured, stars[1]);
        Assert.False(centre.PixelFlagsEdge);
        Assert.DoesNotContain(true, centre.ApertureFlag);
    }

    [Fact]
    public void Measure_MaskedPixelsInTheAperture_SetPixelFlags()
    {
        var rng = new Random(46);
        var stars = new List<Star> { new(64.3, 64.6, 1e5), new(190.1, 190.2, 1e5) };
        var truth = SyntheticData.Render(N, N, (_, _) => 0, stars);
        var exposure = SyntheticData.NoisyExposure(truth, N, N, 20, rng);
        exposure.Mask[64 * N + 66] = (ushort)(MaskPlane.Saturated | MaskPlane.Interpolated);
        exposure.Mask[70 * N + 60] = (ushort)MaskPlane.Bad;
        var footprints = SourceDetector.Detect(exposure, new DetectionConfig());

        var measured = SourceMeasurer.Measure(exposure, footprints, new MeasurementConfig());

        var flagged = Nearest(measured, stars[0]);
        Assert.True(flagged.PixelFlagsSaturated);
        Assert.True(flagged.PixelFlagsInterpolated);
        Assert.True(flagged.PixelFlagsBad);
        var clean = Nearest(measured, stars[1]);
        Assert.False(clean.PixelFlagsSaturated || clean.PixelFlagsInterpolated || clean.PixelFlagsBad || clean.PixelFlagsEdge);
    }

    [Fact]
    public void ApertureSum_UniformImage_EqualsCircleAreaExactly()
    {
        var exposure = new Exposure(64, 64, Enumerable.Repeat(1f, 4096).ToArray(), Enumerable.Repeat(4f, 4096).ToArray(), new ushort[4096], new());

        foreach (var (x, y, r) in new[] { (31.0, 31.0, 3.0), (30.27, 33.81, 4.5), (32.5, 32.5, 12.0), (31.9, 30.1, 17.3) })
        {
            var (flux, err, truncated) = SourceMeasurer.ApertureSum(exposure, x, y, r);

            Assert.Equal(Math.PI * r * r, flux, 9);
            Assert.False(truncated);
            Assert.True(err < 2 * Math.Sqrt(Math.PI * r * r) && err > 0);
        }
    }

    [Fact]
    public void ApertureSums_RandomImageAndCentres_EqualThePixelByPixelOverlapSums()
    {
        // Centres anywhere, near edges and off the image too; a NO_DATA block; radii including whole-pixel and half-pixel ones.
        const int size = 80;
        var rng = new Random(31);
        var image = Enumerable.Range(0, size * size).Select(_ => (float)(100 + 50 * rng.NextDouble())).ToArray();
        var variance = Enumerable.Range(0, size * size).Select(_ => (float)(20 + 10 * rng.NextDouble())).ToArray();
        var mask = new ushort[size * size];
        for (int j = 50; j < 56; j++)
        {
            for (int i = 60; i < 64; i++)
            {
                mask[j * size + i] = (ushort)MaskPlane.NoData;
            }
        }
        var exposure = new Exposure(size, size, image, variance, mask, new());
        double[] radii = [0.5, 3.0, 4.5, 9.0, 12.0, 17.0, 25.0];
        var flux = new double[radii.Length];
        var err = new double[radii.Length];
        var truncated = new bool[radii.Length];

        for (int t = 0; t < 300; t++)
        {
            double x = -3 + (size + 6) * rng.NextDouble(), y = -3 + (size + 6) * rng.NextDouble();
            if (t % 10 == 0)
            {
                (x, y) = (Math.Round(x) + 0.5 * (t % 20 / 10), Math.Round(y)); // on pixel centres and edges
            }
            SourceMeasurer.ApertureSums(exposure, x, y, radii, flux, err, truncated);

            for (int a = 0; a < radii.Length; a++)
            {
                double r = radii[a], expected = 0, expectedVar = 0;
                bool cut = x - r < -0.5 || y - r < -0.5 || x + r > size - 0.5 || y + r > size - 0.5;
                for (int j = 0; j < size; j++)
                {
                    for (int i = 0; i < size; i++)
                    {
                        double f = ApertureOverlap.CircleRectangle(r, i - x - 0.5, i - x + 0.5, j - y - 0.5, j - y + 0.5);
                        if (f <= 0)
                        {
                            continue;
                        }
                        if (mask[j * size + i] != 0)
                        {
                            cut = true;
                            continue;
                        }
                        expected += f * image[j * size + i];
                        expectedVar += f * f * variance[j * size + i];
                    }
                }
                Assert.True(Math.Abs(flux[a] - expected) <= 1e-9 * Math.Max(1, Math.Abs(expected)), $"({x}, {y}) r {r}: {flux[a]} vs {expected}");
                Assert.True(Math.Abs(err[a] - Math.Sqrt(expectedVar)) <= 1e-9 * Math.Max(1, Math.Sqrt(expectedVar)), $"({x}, {y}) r {r}: err {err[a]}");
                Assert.True(cut == truncated[a], $"({x}, {y}) r {r}: truncated {truncated[a]}, expected {cut}");
            }
        }
    }

    [Fact]
    public void RowBand_DifferencesOfTheCumulativeArea_AreTheExactPixelOverlaps()
    {
        // Rows above, through and beyond the circle, radii from under a pixel to 25 pixels, any sub-pixel centre.
        var rng = new Random(77);
        foreach (double r in new[] { 0.3, 0.5, 0.7, 3.0, 6.0, 12.0, 25.0 })
        {
            for (int t = 0; t < 40; t++)
            {
                double x = rng.NextDouble() - 0.5, ay = t % 4 == 0 ? rng.NextDouble() * 0.5 : rng.NextDouble() * (r + 2);
                var band = new ApertureOverlap.RowBand(r, ay - 0.5, ay + 0.5);
                double total = 0;
                for (int i = -(int)r - 3; i <= (int)r + 3; i++)
                {
                    double expected = ApertureOverlap.CircleRectangle(r, i - 0.5 - x, i + 0.5 - x, ay - 0.5, ay + 0.5);
                    double f = band.Cumulative(i + 0.5 - x) - band.Cumulative(i - 0.5 - x);
                    Assert.True(Math.Abs(f - expected) <= 1e-12 * Math.Max(1, r), $"r {r} x {x} ay {ay} pixel {i}: {f:R} vs {expected:R}");
                    total += f;
                }
                // The whole row: the circle's area within the band.
                Assert.Equal(ApertureOverlap.CircleRectangle(r, -r - 1, r + 1, ay - 0.5, ay + 0.5), total, 1e-10);
            }
        }
    }

    [Theory]
    [InlineData(0.3, 0.2, 0.1)]
    [InlineData(5.0, 3.2, -1.7)]
    [InlineData(2.5, 0.0, 2.0)]
    public void PixelFraction_BoundaryPixels_MatchesFineSampling(double r, double dx, double dy)
    {
        int n = 2000, inside = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double px = dx - 0.5 + (i + 0.5) / n, py = dy - 0.5 + (j + 0.5) / n;
                inside += px * px + py * py <= r * r ? 1 : 0;
            }
        }

        Assert.Equal(inside / (double)(n * n), ApertureOverlap.PixelFraction(r, dx, dy), tolerance: 1e-4);
    }
}
