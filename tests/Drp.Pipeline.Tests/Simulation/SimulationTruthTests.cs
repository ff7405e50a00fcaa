using Drp.Pipeline.Simulation;
using static Drp.Pipeline.Tests.Simulation.SimulationTestSupport;

namespace Drp.Pipeline.Tests.Simulation;

/// <summary>Simulated pixels against the truth that made them, through an independent minimal ISR.</summary>
public sealed class SimulationTruthTests
{
    /// <summary>A 1024 × 1024 detector with many bright stars and few galaxies, so that isolated stars abound.</summary>
    private static SimulationOptions StarField(RawFormat format) => new()
    {
        Seed = 3,
        VisitCount = 2,
        Bands = ["r", "i"],
        DetectorColumns = 1,
        DetectorRows = 1,
        Detector = DetectorGeometry.Create(1024, 1024, 2, 2),
        Format = format,
        StarDensityPerArcmin2 = 25,
        StarMagBright = 17.5,
        StarMagFaint = 20.5,
        GalaxyDensityPerArcmin2 = 3,
        CosmicRayRatePerCm2PerSecond = 1.0,
    };

    [Theory]
    [InlineData(RawFormat.MultiExtension, 0)]
    [InlineData(RawFormat.MultiExtension, 1)]
    [InlineData(RawFormat.SingleHdu, 0)]
    public void SimulateFrame_IsolatedBrightStars_ApertureFluxMatchesTruthWithinNoise(RawFormat format, int visitIndex)
    {
        // Arrange
        var sim = new SurveySimulator(StarField(format));
        var visit = sim.Visits[visitIndex];
        var frame = sim.SimulateFrame(visit.Visit, 0);
        var image = CalibrateToElectrons(sim, frame);
        var mask = sim.CreateDefectMask(0).Pixels;
        int w = sim.Options.DetectorWidth, h = sim.Options.DetectorHeight;
        double fwhm = visit.SeeingFwhmArcsec / sim.Options.PixelScaleArcsec;
        double radius = 4.0 * fwhm;
        // Moffat β = 3.5: 4 FWHM encloses 99.9 % of the light; the stamp's truncation moves less than 0.1 %.
        double apertureCorrection = MoffatEnclosed(radius, fwhm, sim.Options.MoffatBeta);
        double readNoise = frame.Amplifiers.Max(a => a.ReadNoiseElectrons);
        var everything = sim.Catalog.Select(s => (Source: s, Pixel: frame.Wcs.SkyToPixel(s.Ra, s.Dec), Electrons: s.Flux(visit.Band) * visit.ElectronsPerNJy)).ToList();

        var ratios = new List<double>();
        var relativeErrors = new List<double>();
        var rejected = new Dictionary<string, int> { ["faint or saturated"] = 0, ["edge"] = 0, ["crowded"] = 0, ["cosmic ray"] = 0, ["defect"] = 0 };
        foreach (var star in frame.Sources.Where(s => s.Type == SourceType.Star))
        {
            // Bright (SNR > 100), unsaturated (peak < half the full well), isolated, away from edges, defects and cosmic rays.
            double peak = star.Electrons * (sim.Options.MoffatBeta - 1) / (Math.PI * Math.Pow(fwhm * 1.068, 2));
            if (star.Electrons < 5e4 || peak > 0.5 * sim.Options.FullWellElectrons)
            {
                rejected["faint or saturated"]++;
                continue;
            }
            if (star.X < radius + 2 || star.Y < radius + 2 || star.X > w - radius - 3 || star.Y > h - radius - 3)
            {
                rejected["edge"]++;
                continue;
            }
            // Neighbours: any above 0.2 % of the star near the aperture (galaxies by their size too), bright ones farther out.
            bool crowded = everything.Any(o =>
            {
                double d = double.Hypot(o.Pixel.X - star.X, o.Pixel.Y - star.Y);
                double size = 3.0 * o.Source.HalfLightRadiusArcsec / sim.Options.PixelScaleArcsec;
                return o.Source.Id != star.Id
                    && ((o.Electrons > 2e-3 * star.Electrons && d < radius + 3 * fwhm + size)
                        || (o.Electrons > 0.2 * star.Electrons && d < radius + 8 * fwhm + size));
            });
            bool hit = frame.CosmicRays.Any(c => DistanceToSegment(star.X, star.Y, c.X0, c.Y0, c.X1, c.Y1) < radius + 2);
            if (crowded || hit)
            {
                rejected[crowded ? "crowded" : "cosmic ray"]++;
                continue;
            }

            // Act: sum the aperture.
            double sum = 0;
            int n = 0;
            bool bad = false;
            for (int y = (int)Math.Floor(star.Y - radius); y <= (int)Math.Ceiling(star.Y + radius); y++)
            {
                for (int x = (int)Math.Floor(star.X - radius); x <= (int)Math.Ceiling(star.X + radius); x++)
                {
                    if (double.Hypot(x - star.X, y - star.Y) <= radius)
                    {
                        sum += image[y * w + x];
                        bad |= mask[y * w + x] != 0;
                        n++;
                    }
                }
            }
            if (bad)
            {
                rejected["defect"]++;
                continue;
            }

            // Assert: photon noise of star and sky, read noise, per-row overscan estimates (median of 32: ~1.25 σ/√32).
            double expected = star.Electrons * apertureCorrection;
            double rowsError = Math.Sqrt(2 * radius) * (2 * radius) * 1.25 * readNoise / Math.Sqrt(32);
            double sigma = Math.Sqrt(star.Electrons + n * (visit.SkyElectronsPerPixel + readNoise * readNoise) + rowsError * rowsError);
            Assert.True(Math.Abs(sum - expected) < 3 * sigma + 0.01 * expected,
                $"star {star.Id} at ({star.X:F1}, {star.Y:F1}): aperture {sum:F0} e-, truth {expected:F0} e- ± {sigma:F0}");
            ratios.Add(sum / expected);
            relativeErrors.Add(sigma / expected);
        }

        Assert.True(ratios.Count >= 8, $"only {ratios.Count} isolated bright stars to test; rejected: {string.Join(", ", rejected.Select(r => $"{r.Key} {r.Value}"))}");
        // Together: no bias beyond 3 σ of the mean plus 0.3 %.
        double sigmaOfMean = Math.Sqrt(relativeErrors.Sum(e => e * e)) / ratios.Count;
        Assert.True(Math.Abs(ratios.Average() - 1.0) < 3 * sigmaOfMean + 0.003,
            $"mean aperture/truth {ratios.Average():F4} over {ratios.Count} stars, σ of the mean {sigmaOfMean:F4}");
    }

    [Fact]
    public void SimulateFrame_IsolatedBrightStars_CentroidsMatchTruthPositions()
    {
        var sim = new SurveySimulator(StarField(RawFormat.MultiExtension));
        var visit = sim.Visits[0];
        var frame = sim.SimulateFrame(visit.Visit, 0);
        var image = CalibrateToElectrons(sim, frame);
        int w = sim.Options.DetectorWidth, h = sim.Options.DetectorHeight;
        double fwhm = visit.SeeingFwhmArcsec / sim.Options.PixelScaleArcsec;
        // Within 1.5 FWHM the sky noise moves a first-moment centroid by ~0.01 px at 1e5 e-.
        double radius = 1.5 * fwhm;

        int tested = 0;
        foreach (var star in frame.Sources.Where(s => s.Type == SourceType.Star && s.Electrons is > 1e5 and < 5e5))
        {
            bool crowded = frame.Sources.Any(o => o.Id != star.Id && o.Electrons > 1e-3 * star.Electrons
                && double.Hypot(o.X - star.X, o.Y - star.Y) < radius + 4 * fwhm);
            bool hit = frame.CosmicRays.Any(c => DistanceToSegment(star.X, star.Y, c.X0, c.Y0, c.X1, c.Y1) < radius + 2);
            if (crowded || hit || star.X < radius + 2 || star.Y < radius + 2 || star.X > w - radius - 3 || star.Y > h - radius - 3)
            {
                continue;
            }
            double sx = 0, sy = 0, s = 0;
            for (int y = (int)Math.Floor(star.Y - radius); y <= (int)Math.Ceiling(star.Y + radius); y++)
            {
                for (int x = (int)Math.Floor(star.X - radius); x <= (int)Math.Ceiling(star.X + radius); x++)
                {
                    if (double.Hypot(x - star.X, y - star.Y) <= radius)
                    {
                        double v = image[y * w + x];
                        sx += v * x;
                        sy += v * y;
                        s += v;
                    }
                }
            }
            // Pixel (x, y) is centred on integer coordinates: a zero-based convention slip would show as 0.5 px.
            Assert.True(Math.Abs(sx / s - star.X) < 0.05 && Math.Abs(sy / s - star.Y) < 0.05,
                $"star {star.Id}: centroid ({sx / s:F3}, {sy / s:F3}) vs truth ({star.X:F3}, {star.Y:F3})");
            tested++;
        }
        Assert.True(tested >= 5, $"only {tested} stars tested");
    }

    [Fact]
    public void SimulateFrame_BrightStars_SaturateWithChargeConservingBleedTrails()
    {
        var options = StarField(RawFormat.MultiExtension) with { StarMagBright = 13, StarMagFaint = 15, StarDensityPerArcmin2 = 3 };
        var sim = new SurveySimulator(options);
        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);

        int rawSaturated = 0;
        foreach (var hdu in frame.Hdus.Skip(1))
        {
            double saturate = hdu.Header.GetDouble("SATURATE");
            Assert.True(saturate < 65535, "SATURATE must be reachable in 16 bits");
            rawSaturated += hdu.Pixels.Count(p => p >= saturate);
        }

        Assert.True(frame.SaturatedPixelCount > 50, $"{frame.SaturatedPixelCount} saturated pixels");
        Assert.InRange(rawSaturated, frame.SaturatedPixelCount, 2 * frame.SaturatedPixelCount);
        // A trail runs along a column: saturated pixels stack vertically far beyond the PSF core.
        var image = CalibrateToElectrons(sim, frame);
        int w = options.DetectorWidth;
        int longestRun = 0;
        for (int x = 0; x < w; x++)
        {
            int run = 0;
            for (int y = 0; y < options.DetectorHeight; y++)
            {
                run = image[y * w + x] > 0.8 * options.FullWellElectrons ? run + 1 : 0;
                longestRun = Math.Max(longestRun, run);
            }
        }
        double fwhm = sim.Visits[0].SeeingFwhmArcsec / options.PixelScaleArcsec;
        Assert.True(longestRun > 4 * fwhm, $"longest saturated column run {longestRun} px, FWHM {fwhm:F1} px");
    }

    [Fact]
    public void Bleed_OverfullPixel_SpreadsExcessAlongColumnConservingCharge()
    {
        int w = 3, h = 41;
        var e = new float[w * h];
        Array.Fill(e, 100f);
        e[20 * w + 1] = 7 * 1000f;
        double before = e.Sum(v => (double)v);

        int saturated = SurveySimulator.Bleed(e, w, h, 1000f, new ParallelOptions());

        Assert.Equal(before, e.Sum(v => (double)v), 3);
        Assert.True(e.All(v => v <= 1000f));
        Assert.Equal(7, saturated);
        Assert.Equal(100f, e[20 * w]);
        Assert.Equal(1000f, e[17 * w + 1]);
        Assert.Equal(1000f, e[23 * w + 1]);
    }

    [Fact]
    public void SimulateFrame_CosmicRays_SharperThanThePsf()
    {
        var options = StarField(RawFormat.MultiExtension) with { CosmicRayRatePerCm2PerSecond = 5.0 };
        var sim = new SurveySimulator(options);
        var visit = sim.Visits[0];
        var frame = sim.SimulateFrame(visit.Visit, 0);
        var image = CalibrateToElectrons(sim, frame);
        int w = options.DetectorWidth, h = options.DetectorHeight;

        // 1 − (mean of the 8 neighbours) / peak, sky subtracted: a Moffat of FWHM >= 3 px (0.6") stays near 0.35, a
        // one-pixel-wide track, with about two of the eight neighbours on it, near 0.75.
        double Sharpness(int x, int y)
        {
            double ring = 0;
            for (int dy = -1; dy <= 1; dy++)
            {
                for (int dx = -1; dx <= 1; dx++)
                {
                    ring += dx == 0 && dy == 0 ? 0 : image[(y + dy) * w + x + dx];
                }
            }
            return 1.0 - ring / 8.0 / image[y * w + x];
        }

        var crSharpness = new List<double>();
        foreach (var c in frame.CosmicRays.Where(c => c.Electrons > 3000))
        {
            int x = (int)Math.Round(0.5 * (c.X0 + c.X1)), y = (int)Math.Round(0.5 * (c.Y0 + c.Y1));
            if (x > 1 && y > 1 && x < w - 2 && y < h - 2)
            {
                crSharpness.Add(Sharpness(x, y));
            }
        }
        var mask = sim.CreateDefectMask(0).Pixels;
        bool Clean(int x, int y) => Enumerable.Range(-1, 3).All(dy => Enumerable.Range(-1, 3).All(dx => mask[(y + dy) * w + x + dx] == 0));
        var starSharpness = frame.Sources.Where(s => s.Type == SourceType.Star && s.Electrons is > 1e5 and < 4e5
                && s.X > 2 && s.Y > 2 && s.X < w - 3 && s.Y < h - 3
                && Clean((int)Math.Round(s.X), (int)Math.Round(s.Y))
                && !frame.CosmicRays.Any(c => DistanceToSegment(s.X, s.Y, c.X0, c.Y0, c.X1, c.Y1) < 3))
            .Select(s => Sharpness((int)Math.Round(s.X), (int)Math.Round(s.Y))).ToList();

        Assert.True(crSharpness.Count >= 5, $"{crSharpness.Count} cosmic rays to test");
        Assert.True(starSharpness.Count >= 5, $"{starSharpness.Count} stars to test");
        Assert.True(crSharpness.Order().ElementAt(crSharpness.Count / 2) > 0.6, $"median cosmic-ray sharpness {crSharpness.Order().ElementAt(crSharpness.Count / 2):F2}");
        Assert.True(starSharpness.Max() < 0.5, $"star sharpness up to {starSharpness.Max():F2}");
    }

    [Fact]
    public void SimulateFrame_DefectColumns_AreHotOrDeadWhereTheMaskSaysSo()
    {
        var options = StarField(RawFormat.MultiExtension) with { BadColumnsPerMegapixel = 30, HotPixelsPerMegapixel = 0, StarDensityPerArcmin2 = 2 };
        var sim = new SurveySimulator(options);
        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);
        var image = CalibrateToElectrons(sim, frame);
        var mask = sim.CreateDefectMask(0).Pixels;
        double sky = frame.Visit.SkyElectronsPerPixel;
        int w = options.DetectorWidth;

        int columns = 0;
        for (int x = 0; x < w; x++)
        {
            var bad = Enumerable.Range(0, options.DetectorHeight).Where(y => mask[y * w + x] != 0).ToList();
            if (bad.Count < 20)
            {
                continue;
            }
            columns++;
            // Per pixel, sky-subtracted: a hot column sits hundreds of electrons above 0, a dead one near −sky.
            double median = bad.Select(y => (double)image[y * w + x]).Order().ElementAt(bad.Count / 2);
            Assert.True(median > 200 || median < -0.85 * sky, $"column {x}: median {median:F0} e- over sky {sky:F0} is neither hot nor dead");
        }
        Assert.True(columns >= 2, $"{columns} bad columns");
        Assert.Equal(0, mask.Count(v => v is not (0f or 1f)));
    }
}
