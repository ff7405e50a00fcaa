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
