using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class DeblenderTests
{
    private const int N = 256;
    private const double Sky = 400;

    /// <summary>A circular Moffat of FWHM 4 pixels (0.8″ at 0.2″/pixel), β 3.5, as the simulator's seeing.</summary>
    private static readonly MoffatPsf Psf = PsfDeterminer.WithMoments(MoffatPsf.Circular(4.0, 3.5), new PsfConfig());

    /// <summary>A background-subtracted exposure of Moffat stars with sky + source Poisson noise and its variance.</summary>
    private static Exposure Frame(IEnumerable<(double X, double Y, double Flux)> stars, int seed, bool noise = true)
    {
        var rng = new Random(seed);
        var truth = new double[N * N];
        var eval = Psf.CreateEvaluator();
        foreach (var (x, y, f) in stars)
        {
            for (int j = Math.Max(0, (int)y - 30); j <= Math.Min(N - 1, (int)y + 30); j++)
            {
                for (int i = Math.Max(0, (int)x - 30); i <= Math.Min(N - 1, (int)x + 30); i++)
                {
                    truth[j * N + i] += f * eval[i - x, j - y];
                }
            }
        }
        var image = new float[N * N];
        var variance = new float[N * N];
        for (int k = 0; k < truth.Length; k++)
        {
            double v = Sky + truth[k];
            image[k] = (float)(truth[k] + (noise ? Math.Sqrt(v) * SyntheticData.Gaussian(rng) : 0));
            variance[k] = (float)v;
        }
        return new Exposure(N, N, image, variance, new ushort[N * N], new Drp.Pipeline.Fits.FitsHeader());
    }

    /// <summary>Detection with the PSF-matched filter, measurement, deblending and PSF photometry with the true PSF.</summary>
    private static IReadOnlyList<MeasuredSource> Process(Exposure e)
    {
        var footprints = SourceDetector.Detect(e, new DetectionConfig { PsfSigma = Psf.MatchedFilterSigma() });
        var measured = SourceMeasurer.Measure(e, footprints, new MeasurementConfig());
        measured = Deblender.Run(e, footprints, measured, Psf, new MeasurementConfig(), new PsfConfig(), new DeblendConfig());
        return PsfPhotometry.Measure(e, measured, Psf, new PsfConfig());
    }

    [Theory]
    [InlineData(1.75, 1.0)]
    [InlineData(2.0, 1.0)]
    [InlineData(2.5, 3.0)]
    [InlineData(3.0, 10.0)]
    public void Run_ResolvedStarPairs_BothFoundWithPsfFluxesWithinThreeSigmaAndTwoPercent(double separationFwhm, double ratio)
    {
        // Resolved: the filtered image dips between the two by several sigma (equal stars from ~1.7 FWHM; 3:1 from
        // ~2.5; 10:1 from ~3). Closer pairs show one peak in the filtered image and stay one source.
        // Nine pairs at random angles; the fainter star has S/N ~ 60 (10,000 e- on 400 e- of sky per pixel).
        var rng = new Random(7);
        var stars = new List<(double X, double Y, double Flux)>();
        double d = separationFwhm * Psf.Fwhm;
        for (int gy = 48; gy < N - 40; gy += 80)
        {
            for (int gx = 48; gx < N - 40; gx += 80)
            {
                double angle = rng.NextDouble() * Math.PI, x = gx + rng.NextDouble(), y = gy + rng.NextDouble();
                stars.Add((x, y, 1e4 * ratio));
                stars.Add((x + d * Math.Cos(angle), y + d * Math.Sin(angle), 1e4));
            }
        }

        var sources = Process(Frame(stars, seed: 11));

        Assert.Equal(stars.Count, sources.Count);
        foreach (var (x, y, f) in stars)
        {
            var m = Assert.Single(sources, s => Math.Abs(s.X - x) < 1.0 && Math.Abs(s.Y - y) < 1.0);
            Assert.True(m.Deblended);
            Assert.False(m.PsfFluxFlag);
            Assert.InRange(Math.Abs(m.PsfInstFlux - f), 0, 3 * m.PsfInstFluxErr + 0.02 * f);
            // The child's own aperture flux, neighbour subtracted: within 5 % + 3 sigma of its PSF-scale share (ap06 holds ~93 % for this PSF).
            double expected = f * ApertureFraction(6.0);
            Assert.InRange(Math.Abs(m.ApertureFlux[1] - expected), 0, 3 * m.ApertureFluxErr[1] + 0.05 * expected);
        }
    }

    [Fact]
    public void Run_IsolatedStarsFromFaintToSaturationBright_AreNeverSplit()
    {
        // S/N ~ 10 to ~ 6000: noise on a bright star's profile must not make a second significant peak.
        var rng = new Random(3);
        var stars = new List<(double X, double Y, double Flux)>();
        for (int gy = 30; gy < N - 20; gy += 50)
        {
            for (int gx = 30; gx < N - 20; gx += 50)
            {
                stars.Add((gx + rng.NextDouble(), gy + rng.NextDouble(), 1.5e3 * Math.Pow(10, 3 * rng.NextDouble())));
            }
        }

        var e = Frame(stars, seed: 5);
        var footprints = SourceDetector.Detect(e, new DetectionConfig { PsfSigma = Psf.MatchedFilterSigma() });
        var sources = Process(Frame(stars, seed: 5));

        Assert.Equal(stars.Count, footprints.Count);
        Assert.All(footprints, f => Assert.Single(f.Peaks));
        Assert.Equal(stars.Count, sources.Count);
        Assert.All(sources, s => Assert.False(s.Deblended));
    }

    [Fact]
    public void Run_FaintStarsOnTheWingsOfBrightGalaxies_AreFoundByTheHiddenPeakSearch()
    {
        // Galaxies: round exponential discs of scale length 3 px, 1e5 e- (S/N ~ 500); stars of 2,500 e- (S/N ~ 16)
        // 12 px (3 FWHM, 2.4″) away, where the filtered image shows a shoulder on the galaxy's wing, not a peak.
        const double scale = 3.0, galaxyFlux = 1e5;
        var rng = new Random(9);
        var galaxies = new List<(double X, double Y)>();
        var stars = new List<(double X, double Y, double Flux)>();
        for (int gy = 48; gy < N - 40; gy += 80)
        {
            for (int gx = 48; gx < N - 40; gx += 80)
            {
                double angle = rng.NextDouble() * 2 * Math.PI, x = gx + rng.NextDouble(), y = gy + rng.NextDouble();
                galaxies.Add((x, y));
                stars.Add((x + 12 * Math.Cos(angle), y + 12 * Math.Sin(angle), 2500));
            }
        }
        var e = Frame(stars, seed: 13);
        var rngNoise = new Random(14);
        for (int j = 0; j < N; j++)
        {
            for (int i = 0; i < N; i++)
            {
                // The galaxies' light (pixel-centre samples) with its Poisson noise on top of the frame's.
                double light = galaxies.Sum(g => galaxyFlux / (2 * Math.PI * scale * scale) * Math.Exp(-Math.Sqrt((i - g.X) * (i - g.X) + (j - g.Y) * (j - g.Y)) / scale));
                int k = j * N + i;
                e.Image[k] += (float)(light + Math.Sqrt(light) * SyntheticData.Gaussian(rngNoise));
                e.Variance[k] += (float)light;
            }
        }
        var footprints = SourceDetector.Detect(e, new DetectionConfig { PsfSigma = Psf.MatchedFilterSigma() });
        var measured = SourceMeasurer.Measure(e, footprints, new MeasurementConfig());

        var without = Deblender.Run(e, footprints, measured, Psf, new MeasurementConfig(), new PsfConfig(), new DeblendConfig { HiddenPeakMinParentSignificance = 0 });
        var with = Deblender.Run(e, footprints, measured, Psf, new MeasurementConfig(), new PsfConfig(), new DeblendConfig());

        bool Found(IReadOnlyList<MeasuredSource> sources, (double X, double Y, double Flux) s) =>
            sources.Any(m => Math.Abs(m.X - s.X) < 2 && Math.Abs(m.Y - s.Y) < 2);
        Assert.Equal(galaxies.Count, footprints.Count);
        int foundWithout = stars.Count(s => Found(without, s)), foundWith = stars.Count(s => Found(with, s));
        // Their difference-of-Gaussians S/N is ~ 5-7 (the wing's convexity costs some): most, not all, clear 5.
        Assert.True(foundWithout <= 2, $"{foundWithout} of {stars.Count} found without the search");
        Assert.True(foundWith >= 8, $"{foundWith} of {stars.Count} found with it");
        // The galaxies are not split and nothing else is made: at most one galaxy and one star per footprint.
        Assert.Equal(galaxies.Count + foundWith, with.Count);
    }

    [Theory]
    [InlineData(0, 0, 60, 40)]
    [InlineData(20, 10, 44, 29)]
    [InlineData(3, 25, 61, 39)]
    public void ConvolveBox_RandomPlane_EqualsTheFullConvolutionInsideTheBox(int x0, int y0, int x1, int y1)
    {
        const int w = 62, h = 40;
        var rng = new Random(7);
        var src = new float[w * h];
        for (int k = 0; k < src.Length; k++)
        {
            src[k] = (float)(100 * SyntheticData.Gaussian(rng));
        }
        var kernel = new float[2 * 9 + 1];
        for (int k = 0; k < kernel.Length; k++)
        {
            kernel[k] = (float)Math.Exp(-0.5 * (k - 9) * (k - 9) / 4.0);
        }
        var full = new float[w * h];
        SourceDetector.Convolve(src, full, new float[w * h], w, h, kernel);

        var boxed = new float[w * h];
        Deblender.ConvolveBox(src, boxed, new float[w * h], w, h, kernel, new Deblender.Box(x0, Math.Min(x1, w - 1), y0, Math.Min(y1, h - 1)));

        for (int y = y0; y <= Math.Min(y1, h - 1); y++)
        {
            for (int x = x0; x <= Math.Min(x1, w - 1); x++)
            {
                Assert.Equal(full[y * w + x], boxed[y * w + x]);
            }
        }
    }

    [Fact]
    public void PsfFluxes_TwoOverlappingNoiselessStars_RecoverBothFluxesToAThousandth()
    {
        var stars = new[] { (X: 120.3, Y: 128.6, Flux: 5e4), (X: 124.9, Y: 130.1, Flux: 1e4) };
        var e = Frame(stars, seed: 0, noise: false);
        int radius = PsfPhotometry.PhotometryRadius(Psf, new PsfConfig());

        var fit = PsfPhotometry.PsfFluxes(e, Psf, stars.Select(s => (s.X, s.Y)).ToArray(), radius, PsfPhotometry.ModelPower(Psf, radius));
        var alone = PsfPhotometry.PsfFlux(e, Psf, stars[1].X, stars[1].Y, radius, PsfPhotometry.ModelPower(Psf, radius));

        Assert.Equal(stars[0].Flux, fit[0].Flux, 1e-3 * stars[0].Flux);
        Assert.Equal(stars[1].Flux, fit[1].Flux, 1e-3 * stars[1].Flux);
        Assert.True(fit[1].FluxErr > 0 && !fit[1].Flag);
        // Fitted alone, the faint star takes much of its neighbour's light.
        Assert.True(alone.Flux > 1.3 * stars[1].Flux, $"alone {alone.Flux:F0}");
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(5.0)]
    public void MatchedFilterSigma_MoffatPsf_MaximisesTheFilteredSignalToNoise(double fwhm)
    {
        var psf = MoffatPsf.Circular(fwhm, 3.5);
        var nearlyGaussian = MoffatPsf.Circular(fwhm, 100.0);

        double sigma = psf.MatchedFilterSigma();

        // A Gaussian filter lacks the Moffat's wings, so the best one is a little wider than the FWHM-equivalent
        // Gaussian; for β → ∞ (a Gaussian PSF) it is that Gaussian.
        Assert.InRange(sigma / psf.Sigma, 1.02, 1.2);
        Assert.Equal(1.0, nearlyGaussian.MatchedFilterSigma() / nearlyGaussian.Sigma, 0.02);
        Assert.True(Efficiency(psf, sigma) > Efficiency(psf, 0.95 * sigma) && Efficiency(psf, sigma) > Efficiency(psf, 1.05 * sigma));
    }

    private static double Efficiency(MoffatPsf psf, double sigma)
    {
        var eval = psf.CreateEvaluator();
        double spg = 0, sgg = 0;
        for (int j = -40; j <= 40; j++)
        {
            for (int i = -40; i <= 40; i++)
            {
                double g = Math.Exp(-0.5 * (i * i + j * j) / (sigma * sigma));
                spg += eval[i, j] * g;
                sgg += g * g;
            }
        }
        return spg / Math.Sqrt(sgg);
    }

    /// <summary>Fraction of the PSF's flux within a circle of the radius (fine sampling of the pixel-centred model).</summary>
    private static double ApertureFraction(double radius)
    {
        var eval = Psf.CreateEvaluator();
        double sum = 0;
        for (int j = -30; j <= 30; j++)
        {
            for (int i = -30; i <= 30; i++)
            {
                if (i * i + j * j <= radius * radius)
                {
                    sum += eval[i, j];
                }
            }
        }
        return sum;
    }
}
