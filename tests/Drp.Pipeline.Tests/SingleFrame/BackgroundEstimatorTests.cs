using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class BackgroundEstimatorTests
{
    private const int N = 256;

    private static double Gradient(int x, int y) => 1000 + 2.0 * x + 1.0 * y;

    // Per-pixel noise is 32..42 e- (sky 1000..1768 + 25 e² read noise). The gradient spreads a 64-pixel cell over
    // another ~37 e- rms, so a cell's clipped mean has an error of ~0.9 e-; linear extrapolation beyond the outer cell
    // centres roughly doubles it at the corners. Stated tolerance: rms 1.5 e- and max 7 e- (0.2 of the pixel noise).
    private const double RmsTolerance = 1.5;
    private const double MaxTolerance = 7.0;

    /// <summary>Binning 2 (the first pass's) clips the sums of 2 x 2 blocks: the same pixels, so the same tolerances.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Estimate_LinearGradient_RecoversSkyWithinStatedTolerance(int binning)
    {
        var rng = new Random(10);
        var exposure = SyntheticData.NoisyExposure(SyntheticData.Render(N, N, Gradient, []), N, N, 5.0, rng);

        var model = BackgroundEstimator.Estimate(exposure, new BackgroundConfig { Binning = binning });

        AssertRecoversGradient(model);
        Assert.Equal((4, 4), (model.CellsX, model.CellsY));
        // RMS about the model: sqrt(sky + 25), the gradient excluded; 3-sigma clipping lowers it by 1.3%. A cell's
        // standard deviation from 4096 pixels has a statistical error of 1.1 %; from the 1024 block sums of binning 2,
        // 2.2 % (the mean loses nothing: the sums hold the same pixels), and the spline's extrapolation beyond the outer
        // cell centres roughly doubles it at the corners: binned, 0.93-1.05 is seen here.
        double low = binning == 1 ? 0.96 : 0.92, high = binning == 1 ? 1.02 : 1.06;
        for (int i = 0; i < N * N; i += 251)
        {
            double expected = Math.Sqrt(Gradient(i % N, i / N) + 25);
            Assert.InRange(model.Rms[i] / expected, low, high);
        }
        Assert.InRange(model.Level, 1300, 1470);
    }

    [Fact]
    public void Refine_AfterDetection_RecoversSkyUnderStarsWithinStatedTolerance()
    {
        var rng = new Random(13);
        var stars = SyntheticData.StarGrid(N, N, 40, 5000, rng);
        var exposure = SyntheticData.NoisyExposure(SyntheticData.Render(N, N, Gradient, stars), N, N, 5.0, rng);
        var first = BackgroundEstimator.Estimate(exposure, new BackgroundConfig());
        BackgroundEstimator.Subtract(exposure, first);
        SourceDetector.Detect(exposure, new DetectionConfig());

        var model = BackgroundEstimator.Refine(exposure, first, new BackgroundConfig());

        AssertRecoversGradient(model);
        // The exposure now holds stars on a zero sky.
        Assert.InRange(exposure.Image.Where((_, i) => exposure.Mask[i] == 0).Average(v => (double)v), -1.0, 1.0);
    }

    [Fact]
    public void SkyNoise_SkyWithStars_IsTheClippedNoiseOfTheSkyWithNoDataLeftOut()
    {
        // Flat sky of 1000 e- + 25 e² read noise: sigma sqrt(1025) = 32.0 e-; iterated 3-sigma clipping reads a
        // Gaussian 1.5 % low, and the clipping removes the bright stars (whose wings add a little).
        var rng = new Random(17);
        var stars = SyntheticData.StarGrid(N, N, 40, 50000, rng);
        var exposure = SyntheticData.NoisyExposure(SyntheticData.Render(N, N, (_, _) => 1000, stars), N, N, 5.0, rng);
        var background = BackgroundEstimator.Estimate(exposure, new BackgroundConfig());
        BackgroundEstimator.Subtract(exposure, background);
        double beforeDetection = BackgroundEstimator.SkyNoise(exposure, new BackgroundConfig());
        SourceDetector.Detect(exposure, new DetectionConfig());
        // A block of NO_DATA with wild values is left out.
        for (int y = 100; y < 160; y++)
        {
            for (int x = 0; x < 120; x++)
            {
                exposure.Image[y * N + x] = 1e6f * (x % 2 == 0 ? 1 : -1);
                exposure.Mask[y * N + x] |= (ushort)MaskPlane.NoData;
            }
        }

        double noise = BackgroundEstimator.SkyNoise(exposure, new BackgroundConfig());

        Assert.InRange(noise / Math.Sqrt(1025), 0.95, 1.01);  // 2048 sampled pixels: ~1.6 % statistical error
        Assert.InRange(noise / beforeDetection, 0.95, 1.05);   // DETECTED does not leave pixels out; the block does
        Array.Fill(exposure.Mask, (ushort)MaskPlane.NoData);
        Assert.True(double.IsNaN(BackgroundEstimator.SkyNoise(exposure, new BackgroundConfig())));
    }

    [Fact]
    public void MedianFilter_OutlyingCell_IsReplaced()
    {
        float[] mesh = [1, 2, 3, 4, 5, 100, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

        BackgroundEstimator.MedianFilter(mesh, 4, 4, 1);

        // The window around it holds 1, 2, 3, 5, 100, 7, 9, 10, 11.
        Assert.Equal(7f, mesh[5]);
        Assert.Equal(1f, mesh[0]);
    }

    private static void AssertRecoversGradient(BackgroundModel model)
    {
        double maxError = 0, sum2 = 0;
        for (int y = 0; y < N; y++)
        {
            for (int x = 0; x < N; x++)
            {
                double d = model.Image[y * N + x] - Gradient(x, y);
                maxError = Math.Max(maxError, Math.Abs(d));
                sum2 += d * d;
            }
        }
        double rms = Math.Sqrt(sum2 / (N * N));
        Assert.True(rms < RmsTolerance, $"rms |background - truth| = {rms:F2} e-");
        Assert.True(maxError < MaxTolerance, $"max |background - truth| = {maxError:F2} e-");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Estimate_MaskedPixels_AreLeftOut(int binning)
    {
        var rng = new Random(11);
        var exposure = SyntheticData.NoisyExposure(SyntheticData.Render(N, N, (_, _) => 500, []), N, N, 5.0, rng);
        // A block of garbage marked BAD in one cell, and a NO_DATA stripe: neither may move the background.
        for (int y = 10; y < 50; y++)
        {
            for (int x = 10; x < 60; x++)
            {
                exposure.Image[y * N + x] = 1e5f;
                exposure.Mask[y * N + x] = (ushort)MaskPlane.Bad;
            }
        }
        for (int y = 0; y < N; y++)
        {
            for (int x = 200; x < 256; x++)
            {
                exposure.Image[y * N + x] = -1e5f;
                exposure.Mask[y * N + x] = (ushort)MaskPlane.NoData;
            }
        }

        // Lone BAD pixels at odd and even places: binned, each takes its whole block out.
        for (int k = 0; k < 400; k++)
        {
            int i = rng.Next(N * N);
            exposure.Image[i] = 1e5f;
            exposure.Mask[i] |= (ushort)MaskPlane.Bad;
        }

        var model = BackgroundEstimator.Estimate(exposure, new BackgroundConfig { Binning = binning });

        Assert.All(model.Image, v => Assert.InRange(v, 497f, 503f));
    }

    [Fact]
    public void Subtract_LeavesZeroMeanSky()
    {
        var rng = new Random(12);
        var exposure = SyntheticData.NoisyExposure(SyntheticData.Render(N, N, Gradient, []), N, N, 5.0, rng);
        var model = BackgroundEstimator.Estimate(exposure, new BackgroundConfig());

        BackgroundEstimator.Subtract(exposure, model);

        Assert.InRange(exposure.Image.Average(v => (double)v), -0.5, 0.5);
    }

    [Fact]
    public void CubicSpline_EvaluatedIntoFloats_IsTheDoubleEvaluationRoundedAtEveryPixel()
    {
        // Knots at half-pixels and whole pixels, a length that is no multiple of the vector width, values of all signs.
        double[] t = [10.5, 47.0, 90.5, 131.0, 170.5];
        double[] v = [1003.25, -17.5, 812.125, 2.0e4, 399.0];
        var m = new double[t.Length];
        CubicSpline.SecondDerivatives(t, v, m, new double[t.Length]);
        var asDouble = new double[203];
        var asFloat = new float[203];

        CubicSpline.EvaluateAtPixels(t, v, m, asDouble);
        CubicSpline.EvaluateAtPixels(t, v, m, asFloat);

        for (int p = 0; p < asFloat.Length; p++)
        {
            Assert.True((float)asDouble[p] == asFloat[p], $"pixel {p}: {asFloat[p]} vs {(float)asDouble[p]}");
        }
        Assert.Equal(v[1], asDouble[47], 9); // and it passes through a knot at a pixel centre
    }

    [Fact]
    public void Interpolate_Plane_IsReproducedExactlyIncludingBeyondCellCentres()
    {
        // 5 x 3 mesh of a plane over a 300 x 200 image: the natural spline and its linear extension are exact.
        int nx = 5, ny = 3, w = 300, h = 200;
        var mesh = new float[nx * ny];
        for (int cy = 0; cy < ny; cy++)
        {
            for (int cx = 0; cx < nx; cx++)
            {
                double xc = 0.5 * (cx * w / nx + (cx + 1) * w / nx - 1), yc = 0.5 * (cy * h / ny + (cy + 1) * h / ny - 1);
                mesh[cy * nx + cx] = (float)(10 + 0.5 * xc - 0.25 * yc);
            }
        }
        BackgroundEstimator.MedianFilter(mesh, nx, ny, 1);

        var image = BackgroundEstimator.Interpolate(mesh, nx, ny, w, h);

        for (int y = 0; y < h; y += 7)
        {
            for (int x = 0; x < w; x += 7)
            {
                Assert.Equal(10 + 0.5 * x - 0.25 * y, image[y * w + x], 3);
            }
        }
    }
}
