using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class SourceDetectorTests
{
    private const int N = 256;
    private const double Sky = 400;
    private const double ReadNoise = 5;

    /// <summary>Matched-filter S/N of a Gaussian star of sigma s on a flat background of variance v: F / sqrt(4 pi s² v).</summary>
    private static double MatchedSignalToNoise(double flux, double sigma, double variance) =>
        flux / Math.Sqrt(4 * Math.PI * sigma * sigma * variance);

    [Fact]
    public void Detect_StarsAboveTenSigma_AreAllFoundAndNothingElse()
    {
        var rng = new Random(20);
        // Fluxes 1500..15000 e- on 425 e² of sky + read noise: matched S/N ~ 10..100.
        var stars = SyntheticData.StarGrid(N, N, 40, 1500, rng);
        Assert.All(stars, s => Assert.True(MatchedSignalToNoise(s.Flux, 2.0, Sky + 25) > 10));
        var exposure = Noiseless(SyntheticData.Render(N, N, (_, _) => 0, stars));
        AddSkyNoiseVariance(exposure, rng);

        var footprints = SourceDetector.Detect(exposure, new DetectionConfig());

        Assert.Equal(stars.Count, footprints.Count);
        foreach (var star in stars)
        {
            var fp = Assert.Single(footprints, f => Math.Abs(f.Peaks[0].X - star.X) <= 1.5 && Math.Abs(f.Peaks[0].Y - star.Y) <= 1.5);
            Assert.Single(fp.Peaks);
            Assert.True(exposure.HasMask((int)Math.Round(star.X), (int)Math.Round(star.Y), MaskPlane.Detected));
        }
        Assert.True(exposure.HasMask(0, 100, MaskPlane.Edge));
        Assert.False(exposure.HasMask(100, 100, MaskPlane.Edge));
    }

    [Fact]
    public void Detect_PureNoise_FindsAtMostOneSpuriousSource()
    {
        // ~1300 independent smoothing beams per 256² image at 5 sigma: the expected false count is ~1e-3 per image.
        int spurious = 0;
        for (int seed = 0; seed < 4; seed++)
        {
            var rng = new Random(30 + seed);
            var exposure = Noiseless(new double[N * N]);
            AddSkyNoiseVariance(exposure, rng);
            spurious += SourceDetector.Detect(exposure, new DetectionConfig()).Count;
        }

        Assert.True(spurious <= 1, $"{spurious} detections in 4 pure-noise images");
    }

    [Fact]
    public void Detect_TouchingDiagonalPixels_AreOneFootprint()
    {
        var exposure = new Exposure(20, 20, new float[400], Enumerable.Repeat(1f, 400).ToArray(), new ushort[400], new());
        var config = new DetectionConfig { PsfSigma = 0.3, ThresholdSigma = 5, MinPixels = 1 };
        // With a tiny kernel the significance is ~ the pixel value: a diagonal chain and a separate pixel.
        foreach (var (x, y) in new[] { (5, 5), (6, 6), (7, 7), (7, 8), (15, 15) })
        {
            exposure.Image[y * 20 + x] = 100;
        }

        var footprints = SourceDetector.Detect(exposure, config);

        Assert.Equal(2, footprints.Count);
        Assert.Equal(4, footprints[0].Area);
        Assert.Equal(1, footprints[1].Area);
    }

    [Fact]
    public void Detect_FootprintSmallerThanMinimum_IsDropped()
    {
        var exposure = new Exposure(20, 20, new float[400], Enumerable.Repeat(1f, 400).ToArray(), new ushort[400], new());
        exposure.Image[10 * 20 + 10] = 100;

        var footprints = SourceDetector.Detect(exposure, new DetectionConfig { PsfSigma = 0.3, MinPixels = 2 });

        Assert.Empty(footprints);
    }

    /// <summary>
    /// A noiseless Gaussian star (σ 2.9 px, filter σ 2 px) centred between four pixels, (64.5, 64.5): the filtered
    /// significance sampled at the pixels is ~2 % below its continuous maximum, which (by symmetry) is what the same
    /// star centred on a pixel samples. Returns the exposure and its sampled maximum.
    /// </summary>
    private static (Exposure Exposure, float SampledMaximum) StarBetweenPixels(double continuousPeakSigma)
    {
        const int size = 128;
        const double sigma = 2.9;
        Exposure Make(double x, double flux)
        {
            var image = SyntheticData.Render(size, size, (_, _) => 0, [new Star(x, x, flux, sigma)]);
            return new Exposure(size, size, image.Select(v => (float)v).ToArray(), Enumerable.Repeat((float)(Sky + ReadNoise * ReadNoise), size * size).ToArray(),
                new ushort[size * size], new());
        }
        float centred = SourceDetector.Significance(Make(64, 1000), new DetectionConfig()).Max();
        var exposure = Make(64.5, 1000 * continuousPeakSigma / centred);
        return (exposure, SourceDetector.Significance(exposure, new DetectionConfig()).Max());
    }

    [Fact]
    public void Detect_StarBetweenPixelsContinuousPeakFivePointZeroFive_IsDetectedAsOnePixelFootprint()
    {
        var (exposure, sampled) = StarBetweenPixels(5.05);
        Assert.InRange(sampled, 4.9f, 4.99f);  // the sampled peak alone misses the 5σ threshold

        var footprint = Assert.Single(SourceDetector.Detect(exposure, new DetectionConfig()));

        Assert.Equal(1, footprint.Area);
        var peak = Assert.Single(footprint.Peaks);
        Assert.InRange(peak.X, 64, 65);
        Assert.InRange(peak.Y, 64, 65);
        Assert.Equal(5.05, peak.Significance, 0.01);  // the interpolated continuous maximum
        Assert.True(exposure.HasMask(peak.X, peak.Y, MaskPlane.Detected));
        Assert.Empty(SourceDetector.Detect(StarBetweenPixels(5.05).Exposure, new DetectionConfig { SubPixelPeakMarginSigma = 0 }));
    }

    [Fact]
    public void Detect_StarBetweenPixelsContinuousPeakFourPointNine_IsNotDetected()
    {
        var (exposure, sampled) = StarBetweenPixels(4.9);
        Assert.InRange(sampled, 4.5f, 4.9f);  // inside the interpolation margin: the fit is tried and must say no

        Assert.Empty(SourceDetector.Detect(exposure, new DetectionConfig()));
        Assert.False(exposure.HasMask(64, 64, MaskPlane.Detected));
    }

    [Fact]
    public void ContinuousMaximum_GaussianOffCentre_RecoversPeakAndRejectsOneMoreThanAPixelAway()
    {
        static double[] Samples(double x0, double y0) =>
            [.. from y in new[] { -1, 0, 1 } from x in new[] { -1, 0, 1 } select 4.8 * Math.Exp(-((x - x0) * (x - x0) + (y - y0) * (y - y0)) / (2 * 2.5 * 2.5))];

        Assert.Equal(4.8, SourceDetector.ContinuousMaximum(Samples(0.3, -0.45))!.Value, 1e-9);
        Assert.Null(SourceDetector.ContinuousMaximum(Samples(1.3, 0)));
        Assert.Null(SourceDetector.ContinuousMaximum([1, 1, 1, 1, 1, 1, 1, 1, 1]));  // flat: no maximum
        Assert.Null(SourceDetector.ContinuousMaximum([1, 1, 1, 1, 2, 1, 1, 1, -0.1]));  // a value not positive
    }

    [Fact]
    public void Detect_PureNoiseAtThreeAndAHalfSigma_NoMoreDetectionsThanAGaussianFieldHasPeaks()
    {
        // The expected number of maxima above u of a smooth Gaussian random field (Euler characteristic density,
        // Adler): area λ u exp(−u²/2) / (2π)^(3/2), with λ = 1 / (2 σ²) for white noise smoothed by a Gaussian of σ.
        // The pixel-sampled threshold finds fewer (it sees peaks a little low); the interpolation may bring the count
        // up to that expectation but not beyond it: tolerance ±3 √expected (Poisson), both ways, so that the
        // expectation is shown to be the right yardstick.
        const int size = 1024;
        const double u = 3.5;
        var config = new DetectionConfig { ThresholdSigma = u };
        double lambda = 1 / (2 * config.PsfSigma * config.PsfSigma);
        double expected = 2.0 * size * size * lambda * u * Math.Exp(-u * u / 2) / Math.Pow(2 * Math.PI, 1.5);
        int interpolated = 0, sampled = 0;
        for (int seed = 0; seed < 2; seed++)
        {
            var rng = new Random(50 + seed);
            var image = new float[size * size];
            for (int i = 0; i < image.Length; i++)
            {
                image[i] = (float)SyntheticData.Gaussian(rng);
            }
            Exposure Make() => new(size, size, (float[])image.Clone(), Enumerable.Repeat(1f, size * size).ToArray(), new ushort[size * size], new());
            interpolated += SourceDetector.Detect(Make(), config).Count;
            sampled += SourceDetector.Detect(Make(), config with { SubPixelPeakMarginSigma = 0 }).Count;
        }

        Assert.InRange(interpolated, expected - 3 * Math.Sqrt(expected), expected + 3 * Math.Sqrt(expected));
        Assert.True(sampled < interpolated, $"{sampled} detections without interpolation, {interpolated} with it");
    }

    [Fact]
    public void Detect_RowByRowScan_FindsEveryPixelAndLocalMaximumOfTheFullSignificancePlane()
    {
        // Stars on the first and last rows and columns too: the scan's ring of three rows must see the same maxima as
        // the whole plane, at the image's edges as inside. Prominence 0 keeps every local maximum as a peak.
        var rng = new Random(41);
        var stars = SyntheticData.StarGrid(N, N, 40, 300, rng)
            .Concat([new Star(0.2, 0.4, 4000), new Star(N - 1.3, N - 0.6, 4000), new Star(128.5, 0, 3000), new Star(0, N - 1, 3000)])
            .ToList();
        var exposure = Noiseless(SyntheticData.Render(N, N, (_, _) => 0, stars));
        AddSkyNoiseVariance(exposure, rng);
        var config = new DetectionConfig { ThresholdSigma = 3.5, MinPeakProminence = 0 };
        var plane = SourceDetector.Significance(exposure, config);
        float threshold = (float)config.ThresholdSigma, floor = (float)(config.ThresholdSigma - config.SubPixelPeakMarginSigma);

        var footprints = SourceDetector.Detect(exposure, config);

        var above = Enumerable.Range(0, N * N).Where(i => plane[i] >= threshold).ToHashSet();
        var fullFootprints = footprints.Where(f => f.Area > 1 || plane[f.Spans[0].Y * N + f.Spans[0].X0] >= threshold).ToList();
        var inFootprints = fullFootprints.SelectMany(f => f.Spans.SelectMany(s => Enumerable.Range(s.X0, s.X1 - s.X0 + 1).Select(x => s.Y * N + x))).ToList();
        Assert.Equal(above.Count, inFootprints.Count);
        Assert.True(above.SetEquals(inFootprints));
        var maxima = above.Where(i => IsMaximum(plane, i % N, i / N)).Select(i => (i % N, i / N, plane[i])).Order().ToList();
        Assert.True(maxima.Count > stars.Count / 2, $"{maxima.Count} maxima");
        Assert.Equal(maxima, fullFootprints.SelectMany(f => f.Peaks).Select(p => (p.X, p.Y, p.Significance)).Order().ToList());
        // The sub-pixel peaks: maxima sampled in [floor, threshold) whose interpolated maximum reaches the threshold.
        var subPixel = Enumerable.Range(0, N * N)
            .Where(i => i % N > 0 && i % N < N - 1 && i / N > 0 && i / N < N - 1 && plane[i] >= floor && plane[i] < threshold && IsMaximum(plane, i % N, i / N))
            .Where(i => SourceDetector.ContinuousMaximum(Neighbourhood(plane, i % N, i / N)) >= threshold)
            .Select(i => (i % N, i / N)).ToList();
        Assert.Equal(subPixel, footprints.Except(fullFootprints).Select(f => (f.Peaks[0].X, f.Peaks[0].Y)).ToList());
    }

    /// <summary>Above every neighbour, a tie going to the neighbour first in raster order.</summary>
    private static bool IsMaximum(float[] plane, int x, int y)
    {
        for (int dy = -1; dy <= 1; dy++)
        {
            for (int dx = -1; dx <= 1; dx++)
            {
                int xx = x + dx, yy = y + dy;
                if ((dx != 0 || dy != 0) && xx >= 0 && xx < N && yy >= 0 && yy < N
                    && (dy < 0 || (dy == 0 && dx < 0) ? plane[yy * N + xx] >= plane[y * N + x] : plane[yy * N + xx] > plane[y * N + x]))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static double[] Neighbourhood(float[] plane, int x, int y) =>
        Enumerable.Range(0, 9).Select(k => (double)plane[(y + k / 3 - 1) * N + x + k % 3 - 1]).ToArray();

    private static Exposure Noiseless(double[] truth) =>
        new(N, N, truth.Select(v => (float)v).ToArray(), new float[N * N], new ushort[N * N], new());

    /// <summary>Adds sky-level Poisson + read noise to a noiseless exposure and sets the matching variance.</summary>
    private static void AddSkyNoiseVariance(Exposure exposure, Random rng)
    {
        double v = Sky + ReadNoise * ReadNoise;
        for (int i = 0; i < exposure.Image.Length; i++)
        {
            double signal = Math.Max(exposure.Image[i], 0);
            exposure.Image[i] += (float)(Math.Sqrt(v + signal) * SyntheticData.Gaussian(rng));
            exposure.Variance[i] = (float)(v + signal);
        }
    }
}
