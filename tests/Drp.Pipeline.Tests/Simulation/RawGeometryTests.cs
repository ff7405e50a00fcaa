using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using static Drp.Pipeline.Tests.Simulation.SimulationTestSupport;

namespace Drp.Pipeline.Tests.Simulation;

/// <summary>Raw layouts: sections against image shapes, and the amplifiers tiling the detector exactly once.</summary>
public sealed class RawGeometryTests
{
    [Fact]
    public void GetAmplifiers_LsstCamItl_MatchesDp02Facts()
    {
        // DP02-FACTS (Geometry): 16 amplifiers, raw 544 x 2048 = 3 prescan + 509 data + 32 serial overscan, 2000 data
        // rows + 48 parallel-overscan rows; assembled 4072 x 4000.
        var sim = new SurveySimulator(new SimulationOptions { Detector = DetectorGeometry.LsstCamItl, DetectorColumns = 1, DetectorRows = 1 });

        var amps = sim.GetAmplifiers(0);

        Assert.Equal(16, amps.Count);
        Assert.Equal(544, DetectorGeometry.LsstCamItl.RawAmpWidth);
        Assert.Equal(2048, DetectorGeometry.LsstCamItl.RawAmpHeight);
        Assert.Equal(["Segment10", "Segment11", "Segment12", "Segment13", "Segment14", "Segment15", "Segment16", "Segment17",
            "Segment07", "Segment06", "Segment05", "Segment04", "Segment03", "Segment02", "Segment01", "Segment00"], amps.Select(a => a.Name));
        Assert.All(amps, a => Assert.Equal("[4:512,1:2000]", a.DataSec));
        Assert.All(amps, a => Assert.Equal("[513:544,1:2000]", a.BiasSec));
        Assert.Equal("[1:509,1:2000]", amps[0].DetSec);
        Assert.Equal("[509:1,4000:2001]", amps[8].DetSec);
        Assert.Equal("[4072:3564,4000:2001]", amps[15].DetSec);
        AssertTiles(amps.Select(a => Section.Parse(a.DetSec)), 4072, 4000);
    }

    [Fact]
    public void SimulateFrame_MultiExtension_SectionsConsistentWithImageShapes()
    {
        var sim = new SurveySimulator(Tiny());
        var g = sim.Options.Detector;

        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);

        var primary = frame.Hdus[0];
        Assert.Equal(0, primary.Width);
        Assert.Equal("[1:128,1:128]", primary.Header.GetString("DETSIZE"));
        foreach (string key in new[] { "FILTER", "BAND", "EXPTIME", "MJD-OBS", "VISIT", "DETECTOR", "GAIN", "RDNOISE", "SATURATE", "INSTRUME", "CTYPE1", "CD1_1" })
        {
            Assert.True(primary.Header.Contains(key), $"primary header lacks {key}");
        }
        Assert.Equal(g.AmpColumns * g.AmpRows, frame.Hdus.Count - 1);
        var detSecs = new List<Section>();
        foreach (var hdu in frame.Hdus.Skip(1))
        {
            Assert.Equal(FitsBitpix.Int16, hdu.Bitpix);
            Assert.Equal(32768.0, hdu.Header.GetDouble("BZERO"));
            Assert.Equal(g.RawAmpWidth, hdu.Width);
            Assert.Equal(g.RawAmpHeight, hdu.Height);
            var data = Section.Parse(hdu.Header.GetString("DATASEC"));
            var bias = Section.Parse(hdu.Header.GetString("BIASSEC"));
            var det = Section.Parse(hdu.Header.GetString("DETSEC"));
            Assert.Equal((data.Width, data.Height), (det.Width, det.Height));
            Assert.True(Math.Max(data.X1, data.X2) <= hdu.Width && Math.Max(data.Y1, data.Y2) <= hdu.Height);
            Assert.True(Math.Max(bias.X1, bias.X2) <= hdu.Width && Math.Min(bias.X1, bias.X2) > Math.Max(data.X1, data.X2), "overscan right of the data");
            Assert.Equal((data.Y1, data.Y2), (bias.Y1, bias.Y2));
            Assert.True(hdu.Header.GetDouble("GAIN") > 0 && hdu.Header.GetDouble("RDNOISE") > 0);
            Assert.True(hdu.Pixels.All(p => p is >= 0 and <= 65535 && p == MathF.Round(p)), "raw pixels are unsigned 16-bit integers");
            detSecs.Add(det);
        }
        AssertTiles(detSecs, 128, 128);
        Assert.Contains(detSecs, d => d.X2 < d.X1 && d.Y2 < d.Y1);
    }

    [Fact]
    public void SimulateFrame_SingleHdu_DataPlusOneOverscanStrip()
    {
        var sim = new SurveySimulator(Tiny() with { Format = RawFormat.SingleHdu });

        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 1);

        var hdu = Assert.Single(frame.Hdus);
        Assert.Equal(128 + 32, hdu.Width);
        Assert.Equal(128, hdu.Height);
        Assert.Equal("[1:128,1:128]", hdu.Header.GetString("DATASEC"));
        Assert.Equal("[1:128,1:128]", hdu.Header.GetString("TRIMSEC"));
        Assert.Equal("[129:160,1:128]", hdu.Header.GetString("BIASSEC"));
        Assert.True(hdu.Header.Contains("CD1_1") && hdu.Header.Contains("SATURATE"));
        // The overscan holds bias and noise only; the data area holds sky on top of it.
        double overscan = Enumerable.Range(0, 128).Average(y => hdu[140, y]);
        double data = Enumerable.Range(0, 128).Average(y => hdu[60, y]);
        double gain = hdu.Header.GetDouble("GAIN");
        Assert.InRange((data - overscan) * gain, 0.5 * frame.Visit.SkyElectronsPerPixel, 2.0 * frame.Visit.SkyElectronsPerPixel);
    }

    [Fact]
    public void SimulateFrame_OverscanAndDataRows_ShareTheRowBiasPattern()
    {
        // Per-row bias noise must be common to a row's overscan and data, so that a per-row overscan removes it.
        // One wide amplifier: row means over 1024 data and 32 overscan columns beat the sky and read noise down.
        var sim = new SurveySimulator(Tiny() with
        {
            Detector = DetectorGeometry.Create(1024, 64, 1, 1),
            GalaxyDensityPerArcmin2 = 0,
            StarDensityPerArcmin2 = 0,
            CosmicRayRatePerCm2PerSecond = 0,
            BadColumnsPerMegapixel = 0,
            HotPixelsPerMegapixel = 0,
        });
        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);
        var masterBias = sim.CreateMasterBias(0);
        var hdu = frame.Hdus[1];
        var data = Section.Parse(hdu.Header.GetString("DATASEC"));
        var bias = Section.Parse(hdu.Header.GetString("BIASSEC"));
        var det = Section.Parse(hdu.Header.GetString("DETSEC"));

        var overscanRows = Enumerable.Range(0, data.Height)
            .Select(k => Enumerable.Range(0, bias.Width).Average(i => (double)hdu[bias.XAt(i), data.YAt(k)])).ToArray();
        var dataRows = Enumerable.Range(0, data.Height)
            .Select(k => Enumerable.Range(0, data.Width).Average(i => hdu[data.XAt(i), data.YAt(k)] - (double)masterBias[det.XAt(i), det.YAt(k)])).ToArray();

        double correlation = MathNet.Numerics.Statistics.Correlation.Pearson(overscanRows, dataRows);
        Assert.True(correlation > 0.5, $"row correlation {correlation:F2}");
    }

    private static void AssertTiles(IEnumerable<Section> sections, int width, int height)
    {
        var covered = new int[width * height];
        foreach (var s in sections)
        {
            for (int k = 0; k < s.Height; k++)
            {
                for (int m = 0; m < s.Width; m++)
                {
                    int x = s.XAt(m), y = s.YAt(k);
                    if (x < 0 || x >= width || y < 0 || y >= height)
                    {
                        Assert.Fail($"DETSEC {s} leaves the {width} x {height} detector");
                    }
                    covered[y * width + x]++;
                }
            }
        }
        Assert.True(covered.All(c => c == 1), "DETSECs must cover every detector pixel exactly once");
    }
}
