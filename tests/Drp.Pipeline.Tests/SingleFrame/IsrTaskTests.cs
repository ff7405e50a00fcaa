using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class IsrTaskTests
{
    private const int N = SyntheticCamera.Size;

    private static double[] SkyWithStars(Random rng) =>
        SyntheticData.Render(N, N, (x, y) => 400 + 0.5 * x + 0.3 * y, SyntheticData.StarGrid(N, N, 64, 20000, rng));

    [Fact]
    public void Run_NoiselessRaw_RecoversElectronImageExactly()
    {
        var camera = new SyntheticCamera();
        var truth = SkyWithStars(new Random(1));

        var exposure = IsrTask.Run(camera.Raw(truth, rng: null), camera.Bias(), camera.Flat(), null, new IsrConfig());

        // Only integer rounding separates output and truth: 0.5 ADU in the data and 0.5 ADU in the overscan, at most
        // 1 ADU x gain (1.7) / response (0.93) = 1.83 e-.
        double maxError = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(exposure.Image[i] - truth[i]));
        }
        Assert.True(maxError < 1.85, $"max |ISR - truth| = {maxError} e-");
        Assert.All(exposure.Mask, m => Assert.Equal(0, m));
        Assert.Equal("electron", exposure.Header.GetString("BUNIT"));
        Assert.Equal("SYNTH", exposure.Header.GetString("INSTRUME"));
    }

    [Fact]
    public void Run_RawStreamedFromItsFile_GivesTheExposureOfTheRawInMemory()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(SkyWithStars(new Random(5)), new Random(6));
        for (int k = 0; k < 50; k++)
        {
            raw[1 + k % 4].Pixels[k * 977 % raw[1].Pixels.Length] = 65535; // saturated pixels, in every amplifier
        }
        string path = Path.Combine(Path.GetTempPath(), $"isr-raw-{Guid.NewGuid():N}.fits");
        FitsFile.Write(path, raw);
        try
        {
            var inMemory = IsrTask.Run(FitsFile.Read(path), camera.Bias(), camera.Flat(), null, new IsrConfig());
            using var reader = FitsFile.OpenImages(path);
            var streamed = IsrTask.Run(RawFrame.FromReader(reader), camera.Bias(), camera.Flat(), null, new IsrConfig(), consumeCalibrations: true);

            Assert.Equal(inMemory.Image, streamed.Image);
            Assert.Equal(inMemory.Variance, streamed.Variance);
            Assert.Equal(inMemory.Mask, streamed.Mask);
            Assert.Contains(streamed.Mask, m => (m & (ushort)MaskPlane.Saturated) != 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_NoisyRaw_ResidualsMatchVariancePlane()
    {
        var camera = new SyntheticCamera();
        var truth = SkyWithStars(new Random(2));

        var exposure = IsrTask.Run(camera.Raw(truth, new Random(3)), camera.Bias(), camera.Flat(), null, new IsrConfig());

        // Residuals normalised by the true variance must be unbiased with unit spread. (Normalising by the plane
        // would bias the mean by -1 / (2 sqrt(signal)) ~ -0.024: the plane is built from the noisy signal.)
        var response = camera.Response();
        double sum = 0, sum2 = 0, sumE = 0, ratioSum = 0, maxRatioError = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            double d = exposure.Image[i] - truth[i];
            double expectedVariance = (truth[i] * response[i] + 25.0) / (response[i] * response[i]);
            double z = d / Math.Sqrt(expectedVariance);
            sum += z;
            sum2 += z * z;
            sumE += d;
            double ratio = exposure.Variance[i] / expectedVariance;
            ratioSum += ratio;
            maxRatioError = Math.Max(maxRatioError, Math.Abs(ratio - 1));
        }
        int n = truth.Length;
        double meanZ = sum / n, stdZ = Math.Sqrt(sum2 / n - meanZ * meanZ);
        // Per-pixel sigma ~ 21 e-: the mean of 65536 pixels has sigma ~ 0.08 e- (z: 0.004); bounds are ~5 sigma.
        Assert.InRange(sumE / n, -0.4, 0.4);
        Assert.InRange(meanZ, -0.02, 0.02);
        // Per-row overscan medians of 32 columns add ~1% variance the plane does not claim; rounding adds less.
        Assert.InRange(stdZ, 0.98, 1.03);
        // The plane follows the noisy signal: right on average, each pixel within Poisson scatter (~5 sigma of 4%).
        Assert.InRange(ratioSum / n, 0.995, 1.005);
        Assert.True(maxRatioError < 0.25, $"variance plane off by up to {maxRatioError:P1}");
    }

    [Fact]
    public void Run_FlippedDetsec_PlacesMarkersInTheRightCorners()
    {
        // A marker in the first data pixel read out by each amplifier (raw x = 4, y = 0) must land at the detector
        // pixel where that amplifier's DETSEC starts: (0,0), (255,0), (0,255), (255,255).
        var camera = new SyntheticCamera { FlatPattern = (_, _) => 1.0, BiasStructure = (_, _) => 0.0 };
        var raw = camera.Raw(new double[N * N], rng: null);
        float[] markers = [100, 200, 300, 400];
        for (int amp = 0; amp < 4; amp++)
        {
            raw[amp + 1][SyntheticCamera.Prescan, 0] += markers[amp];
            raw[amp + 1][SyntheticCamera.Prescan + 1, 2] += 7;
        }

        var exposure = IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig());

        (int X, int Y)[] corners = [(0, 0), (255, 0), (0, 255), (255, 255)];
        (int X, int Y)[] seconds = [(1, 2), (254, 2), (1, 253), (254, 253)];
        for (int amp = 0; amp < 4; amp++)
        {
            var (x, y) = corners[amp];
            Assert.Equal(markers[amp] * camera.Gains[amp], exposure.Image[y * N + x], 3);
            var (sx, sy) = seconds[amp];
            Assert.Equal(7 * camera.Gains[amp], exposure.Image[sy * N + sx], 3);
        }
        double total = exposure.Image.Sum(v => (double)v);
        double expected = markers.Select((m, a) => (m + 7) * camera.Gains[a]).Sum();
        Assert.Equal(expected, total, 1);
    }

    [Fact]
    public void Run_DatasecFlippedInX_GivesTheSameExposureAsTheSameDataReadForwards()
    {
        var camera = new SyntheticCamera();
        var truth = SkyWithStars(new Random(8));
        var forwards = camera.Raw(truth, new Random(9));
        var flipped = camera.Raw(truth, new Random(9));
        forwards[2][SyntheticCamera.Prescan + 3, 5] = 65535; // saturated, in a group of eight with usable pixels
        flipped[2][SyntheticCamera.Prescan + SyntheticCamera.AmpSize - 1 - 3, 5] = 65535;
        foreach (int amp in new[] { 1, 2 })
        {
            // Amplifier 1 is read forwards into a forward DETSEC, amplifier 2 into a flipped one (the right-hand side).
            for (int y = 0; y < SyntheticCamera.AmpSize; y++)
            {
                for (int k = 0; k < SyntheticCamera.AmpSize; k++)
                {
                    flipped[amp][SyntheticCamera.Prescan + k, y] = forwards[amp][SyntheticCamera.Prescan + SyntheticCamera.AmpSize - 1 - k, y];
                }
            }
            flipped[amp].Header.Set("DATASEC", $"[{SyntheticCamera.Prescan + SyntheticCamera.AmpSize}:{SyntheticCamera.Prescan + 1},1:{SyntheticCamera.AmpSize}]");
        }

        var a = IsrTask.Run(forwards, camera.Bias(), camera.Flat(), null, new IsrConfig());
        var b = IsrTask.Run(flipped, camera.Bias(), camera.Flat(), null, new IsrConfig());

        Assert.Equal(a.Image, b.Image);
        Assert.Equal(a.Variance, b.Variance);
        Assert.Equal(a.Mask, b.Mask);
        Assert.Contains(a.Mask, m => (m & (ushort)MaskPlane.Saturated) != 0);
    }

    [Fact]
    public void Run_NaNRawPixels_AreMaskedInterpolatedAndNeverPropagated()
    {
        var camera = new SyntheticCamera();
        var truth = SyntheticData.Render(N, N, (x, _) => 500 + 2.0 * x, []);
        var raw = camera.Raw(truth, rng: null);
        // Amp 0 is not flipped: raw (4 + x, y) is detector (x, y).
        raw[1][SyntheticCamera.Prescan + 40, 10] = float.NaN;
        raw[1][SyntheticCamera.Prescan + 41, 10] = float.NaN;
        raw[1][SyntheticCamera.Prescan + 40, 11] = float.NaN;
        raw[1][SyntheticCamera.BiasSec.XMin + 3, 20] = float.NaN;

        var exposure = IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig());

        Assert.All(exposure.Image, v => Assert.True(float.IsFinite(v)));
        Assert.All(exposure.Variance, v => Assert.True(float.IsFinite(v) && v > 0));
        foreach (var (x, y) in new[] { (40, 10), (41, 10), (40, 11) })
        {
            Assert.True(exposure.HasMask(x, y, MaskPlane.Bad));
            Assert.True(exposure.HasMask(x, y, MaskPlane.Interpolated));
            // Linear interpolation along the row of a linear ramp is exact to the raw rounding.
            Assert.Equal(truth[y * N + x], exposure.Image[y * N + x], 1.5);
        }
        Assert.Equal(3, exposure.Mask.Count(m => (m & (ushort)MaskPlane.Bad) != 0));
        // A NaN in the overscan is skipped: row 20 is as good as its neighbours.
        Assert.Equal(truth[20 * N + 5], exposure.Image[20 * N + 5], 1.5);
    }

    [Fact]
    public void Run_RawAtSaturate_IsMaskedSaturatedBeforeOverscanSubtraction()
    {
        var camera = new SyntheticCamera { Saturate = 30000 };
        var truth = SyntheticData.Render(N, N, (_, _) => 300, [new Star(60.3, 70.7, 2e6, 1.5)]);

        var exposure = IsrTask.Run(camera.Raw(truth, rng: null), camera.Bias(), camera.Flat(), null, new IsrConfig());

        Assert.True(exposure.HasMask(60, 71, MaskPlane.Saturated | MaskPlane.Interpolated));
        Assert.False(exposure.HasMask(30, 30, MaskPlane.Saturated));
        // The peak pixel holds ~ 2e6 / (2 pi 1.5²) x pixel integral ~ 1.3e5 e-, far above 30000 ADU x 1.4.
        int saturated = exposure.Mask.Count(m => (m & (ushort)MaskPlane.Saturated) != 0);
        Assert.InRange(saturated, 5, 200);
    }

    [Fact]
    public void Run_DefectColumn_IsInterpolatedLinearlyAlongRows()
    {
        var camera = new SyntheticCamera();
        var truth = SyntheticData.Render(N, N, (x, y) => 1000 + 3.0 * x + y, []);
        var defects = new FitsImage(N, N);
        for (int y = 0; y < N; y++)
        {
            defects[100, y] = 1;
            defects[101, y] = 1;
        }
        var raw = camera.Raw(truth, rng: null);
        for (int ry = 0; ry < SyntheticCamera.AmpSize; ry++)
        {
            raw[1][SyntheticCamera.Prescan + 100, ry] = 50000;  // a hot column under the defect
        }

        var exposure = IsrTask.Run(raw, camera.Bias(), camera.Flat(), defects, new IsrConfig());

        for (int y = 0; y < N; y += 17)
        {
            Assert.True(exposure.HasMask(100, y, MaskPlane.Bad | MaskPlane.Interpolated));
            Assert.Equal(truth[y * N + 100], exposure.Image[y * N + 100], 1.5);
            Assert.Equal(truth[y * N + 101], exposure.Image[y * N + 101], 1.5);
        }
    }

    [Fact]
    public void Run_BiasInAdu_IsConvertedWithEachAmplifiersGain()
    {
        var camera = new SyntheticCamera();
        var truth = SkyWithStars(new Random(4));
        var raw = camera.Raw(truth, rng: null);

        var inElectrons = IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig());
        var inAdu = IsrTask.Run(raw, camera.Bias(inAdu: true), camera.Flat(), null, new IsrConfig());

        for (int i = 0; i < truth.Length; i += 97)
        {
            Assert.Equal(inElectrons.Image[i], inAdu.Image[i], 0.01);
        }
    }

    [Fact]
    public void Run_SingleHduRaw_TrimsToTrimsec()
    {
        var header = new FitsHeader()
            .Set("DATASEC", "[3:34,1:20]").Set("TRIMSEC", "[3:34,1:20]").Set("BIASSEC", "[35:40,1:20]")
            .Set("GAIN", 2.0).Set("RDNOISE", 4.0).Set("SATURATE", 65535);
        var raw = new FitsImage(40, 20, FitsBitpix.Int16, header);
        for (int y = 0; y < 20; y++)
        {
            for (int x = 0; x < 40; x++)
            {
                raw[x, y] = 500 + (x >= 2 && x < 34 ? x + 10 * y : 0);
            }
        }
        var bias = new FitsImage(32, 20, header: new FitsHeader().Set("BUNIT", "electron"));
        var flat = new FitsImage(32, 20, pixels: Enumerable.Repeat(1f, 32 * 20).ToArray());

        var exposure = IsrTask.Run([raw], bias, flat, null, new IsrConfig());

        Assert.Equal((32, 20), (exposure.Width, exposure.Height));
        Assert.Equal(2.0 * (2 + 10 * 5), exposure.Image[5 * 32 + 0], 4);
        Assert.Equal(2.0 * (33 + 10 * 19), exposure.Image[19 * 32 + 31], 4);
        Assert.Equal(2.0 * (2 + 10 * 5) + 16.0, exposure.Variance[5 * 32 + 0], 3);
    }

    [Fact]
    public void Run_MissingGain_ThrowsNamingHduAndKeyword()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        raw[3].Header.Remove("GAIN");

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig()));

        Assert.Equal("GAIN", ex.Keyword);
        Assert.Contains("raw HDU 3 (EXTNAME=AMP2)", ex.Message);
        Assert.Contains("GAIN", ex.Message);
    }

    [Fact]
    public void Run_DatasecOutsideTheHdu_ThrowsNamingTheValue()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        raw[2].Header.Set("DATASEC", "[5:300,1:128]");

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig()));

        Assert.Equal("DATASEC", ex.Keyword);
        Assert.Equal("[5:300,1:128]", ex.Value);
        Assert.Contains("outside the 164 x 128 image", ex.Message);
    }

    [Fact]
    public void Run_MalformedDetsec_ThrowsNamingTheValue()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        raw[4].Header.Set("DETSEC", "[129:256;1:128]");

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig()));

        Assert.Equal(("DETSEC", "[129:256;1:128]"), (ex.Keyword, ex.Value));
    }

    [Fact]
    public void Run_DetsecBeyondDetsize_Throws()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        raw[4].Header.Set("DETSEC", "[257:130,256:129]");

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig()));

        Assert.Equal("DETSEC", ex.Keyword);
    }

    [Fact]
    public void Run_FlatOfWrongSize_ThrowsGeometryMismatch()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        var flat = new FitsImage(128, 256);

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), flat, null, new IsrConfig()));

        Assert.Equal("flat", ex.Hdu);
        Assert.Contains("256 x 256", ex.Message);
    }

    [Fact]
    public void Run_BiasWithoutBunit_ThrowsRatherThanGuessing()
    {
        var camera = new SyntheticCamera();
        var bias = camera.Bias();
        bias.Header.Remove("BUNIT");

        var ex = Assert.Throws<IsrInputException>(() =>
            IsrTask.Run(camera.Raw(new double[N * N], rng: null), bias, camera.Flat(), null, new IsrConfig()));

        Assert.Equal(("bias", "BUNIT"), (ex.Hdu, ex.Keyword));
    }

    [Fact]
    public void Run_AmplifierMissing_ItsDetsecIsNoDataWithZeroImageAndVarianceAndTheRestIsProcessed()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(SkyWithStars(new Random(7)), rng: null).ToList();
        var gap = PixelSection.Parse(raw[3].Header.GetString("DETSEC")!);
        raw.RemoveAt(3);

        var exposure = IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig());

        for (int y = 0; y < N; y++)
        {
            for (int x = 0; x < N; x++)
            {
                int i = y * N + x;
                bool inGap = x >= gap.XMin && x <= gap.XMax && y >= gap.YMin && y <= gap.YMax;
                Assert.True(inGap == ((exposure.Mask[i] & (ushort)MaskPlane.NoData) != 0), $"NO_DATA at ({x}, {y}): {exposure.Mask[i]}");
                if (inGap)
                {
                    Assert.Equal((0f, 0f), (exposure.Image[i], exposure.Variance[i]));
                }
                else
                {
                    Assert.True(exposure.Image[i] > 300 && exposure.Variance[i] > 0, $"({x}, {y}): {exposure.Image[i]}, {exposure.Variance[i]}");
                }
            }
        }
    }

    [Fact]
    public void Run_OverlappingAmplifiers_Throws()
    {
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], rng: null);
        raw[2].Header.Set("DETSEC", raw[1].Header.GetString("DETSEC"));

        var ex = Assert.Throws<IsrInputException>(() => IsrTask.Run(raw, camera.Bias(), camera.Flat(), null, new IsrConfig()));

        Assert.Contains("overlaps", ex.Message);
    }

    [Theory]
    [InlineData(OverscanStatistic.Median, 0)]
    [InlineData(OverscanStatistic.ClippedMean, 0)]
    [InlineData(OverscanStatistic.ClippedMean, 3)]
    public void OverscanLevels_HotPixelsInTheOverscan_AreIgnored(OverscanStatistic statistic, int smoothingRows)
    {
        // Overscan 1000 + 0.05 row ADU with 3.3 ADU noise and a 5000 ADU hit in every row's first overscan column.
        var camera = new SyntheticCamera();
        var raw = camera.Raw(new double[N * N], new Random(5));
        for (int y = 0; y < SyntheticCamera.AmpSize; y++)
        {
            raw[1][SyntheticCamera.BiasSec.XMin, y] += 5000;
        }
        var layout = RawLayout.FromRaw(raw);
        var config = new IsrConfig { OverscanStatistic = statistic, OverscanSmoothingRows = smoothingRows };

        var levels = IsrTask.OverscanLevels(raw[1], layout.Amplifiers[0], config);

        // One row's estimate from 31 good values: sigma ~ 3.3 / sqrt(31) x 1.25 = 0.75 ADU; 4 ADU is > 5 sigma.
        for (int y = 0; y < SyntheticCamera.AmpSize; y++)
        {
            Assert.InRange(levels[y] - (1000 + 0.05 * y), -4.0, 4.0);
        }
    }

    [Fact]
    public void FromRaw_SingleHduWithFlippedDatasecAndNoTrimsec_NamesDatasec()
    {
        var header = new FitsHeader()
            .Set("DATASEC", "[34:3,1:20]").Set("BIASSEC", "[35:40,1:20]")
            .Set("GAIN", 2.0).Set("RDNOISE", 4.0).Set("SATURATE", 65535);

        var ex = Assert.Throws<IsrInputException>(() => RawLayout.FromRaw([new FitsImage(40, 20, FitsBitpix.Int16, header)]));

        Assert.Equal(("DATASEC", "[34:3,1:20]"), (ex.Keyword, ex.Value));
    }
}
