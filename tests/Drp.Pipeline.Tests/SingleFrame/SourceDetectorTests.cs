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

    [Fact]
    public void Detect_BinnedTwoByTwo_IsFullResolutionDetectionOfTheBinnedImageMappedBackToItsBlocks()
    {
        // Odd width and height: the last column and row of blocks hold one pixel. Stars at the edges too.
        const int w = 255, h = 253;
        var rng = new Random(43);
        var stars = SyntheticData.StarGrid(w, h, 40, 300, rng)
            .Concat([new Star(w - 1, 100, 5000), new Star(120, h - 1, 5000), new Star(0.3, 0.2, 5000)]).ToList();
        var truth = SyntheticData.Render(w, h, (_, _) => 0, stars);
        var exposure = new Exposure(w, h, truth.Select(v => (float)v).ToArray(), new float[w * h], new ushort[w * h], new());
        for (int i = 0; i < w * h; i++)
        {
            double variance = Sky + ReadNoise * ReadNoise + Math.Max(exposure.Image[i], 0);
            exposure.Image[i] += (float)(Math.Sqrt(variance) * SyntheticData.Gaussian(rng));
            exposure.Variance[i] = (float)variance;
        }
        // The binned image by hand: each block's sum, row pairs added in order.
        int bw = (w + 1) / 2, bh = (h + 1) / 2;
        var binned = new Exposure(bw, bh, new float[bw * bh], new float[bw * bh], new ushort[bw * bh], new());
        for (int by = 0; by < bh; by++)
        {
            for (int bx = 0; bx < bw; bx++)
            {
                float image = 0f, variance = 0f;
                for (int y = 2 * by; y < Math.Min(2 * by + 2, h); y++)
                {
                    int x = 2 * bx;
                    image += x + 1 < w ? exposure.Image[y * w + x] + exposure.Image[y * w + x + 1] : exposure.Image[y * w + x];
                    variance += x + 1 < w ? exposure.Variance[y * w + x] + exposure.Variance[y * w + x + 1] : exposure.Variance[y * w + x];
                }
                binned.Image[by * bw + bx] = image;
                binned.Variance[by * bw + bx] = variance;
            }
        }
        var config = new DetectionConfig { ThresholdSigma = 4, PsfSigma = 2.0 };

        var footprints = SourceDetector.Detect(exposure, config with { Binning = 2 });
        var expected = SourceDetector.Detect(binned, config with { PsfSigma = 1.0 });

        Assert.True(expected.Count > stars.Count / 2, $"{expected.Count} footprints");
        Assert.Equal(expected.Count, footprints.Count);
        for (int f = 0; f < expected.Count; f++)
        {
            var pixels = footprints[f].Spans.SelectMany(s => Enumerable.Range(s.X0, s.X1 - s.X0 + 1).Select(x => (x, s.Y))).ToList();
            var blocks = expected[f].Spans.SelectMany(s => Enumerable.Range(s.X0, s.X1 - s.X0 + 1).Select(x => (x, s.Y)))
                .SelectMany(b => new[] { (2 * b.x, 2 * b.Y), (2 * b.x + 1, 2 * b.Y), (2 * b.x, 2 * b.Y + 1), (2 * b.x + 1, 2 * b.Y + 1) })
                .Where(p => p.Item1 < w && p.Item2 < h).ToList();
            Assert.Equal(blocks.Order(), pixels.Order());
            Assert.Equal(pixels.Count, footprints[f].Area);
            Assert.Equal(footprints[f].Spans.OrderBy(s => s.Y).ThenBy(s => s.X0), footprints[f].Spans); // raster order
            Assert.Equal((pixels.Min(p => p.x), pixels.Max(p => p.x), pixels.Min(p => p.Y), pixels.Max(p => p.Y)),
                (footprints[f].XMin, footprints[f].XMax, footprints[f].YMin, footprints[f].YMax));
            Assert.Equal(expected[f].Peaks.Count, footprints[f].Peaks.Count);
            for (int k = 0; k < expected[f].Peaks.Count; k++)
            {
                var (peak, block) = (footprints[f].Peaks[k], expected[f].Peaks[k]);
                Assert.Equal(block.Significance, peak.Significance);
                Assert.Equal((block.X, block.Y), (peak.X / 2, peak.Y / 2));
                float brightest = Enumerable.Range(0, 4).Select(q => (x: 2 * block.X + q % 2, y: 2 * block.Y + q / 2))
                    .Where(p => p.x < w && p.y < h).Max(p => exposure.Image[p.y * w + p.x]);
                Assert.Equal(brightest, exposure.Image[peak.Y * w + peak.X]);
            }
            foreach (var (x, y) in pixels)
            {
                Assert.True(exposure.HasMask(x, y, MaskPlane.Detected));
            }
        }
        // Every bright star is found, at its own position within a pixel or two.
        foreach (var star in stars.Where(s => MatchedSignalToNoise(s.Flux, 2.0, Sky + 25) > 10))
        {
            Assert.Contains(footprints, f => Math.Abs(f.Peaks[0].X - star.X) <= 2 && Math.Abs(f.Peaks[0].Y - star.Y) <= 2);
        }
    }

    [Fact]
    public void Detect_Binned_LeavesNoDataPixelsOutOfTheBlockSums()
    {
        // A NO_DATA square of huge values: at full resolution and binned alike, nothing is detected in it.
        var exposure = new Exposure(64, 64, new float[64 * 64], Enumerable.Repeat(1f, 64 * 64).ToArray(), new ushort[64 * 64], new());
        for (int y = 20; y < 31; y++)
        {
            for (int x = 21; x < 30; x++)
            {
                exposure.Image[y * 64 + x] = 1e6f;
                exposure.Mask[y * 64 + x] = (ushort)MaskPlane.NoData;
            }
        }
        exposure.Image[50 * 64 + 50] = 100f; // one real source

        var footprints = SourceDetector.Detect(exposure, new DetectionConfig { PsfSigma = 0.6, Binning = 2 });

        var source = Assert.Single(footprints);
        Assert.Equal((50, 50), (source.Peaks[0].X, source.Peaks[0].Y));
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
