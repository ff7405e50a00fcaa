using System.Globalization;
using System.Text.RegularExpressions;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;

namespace Drp.Pipeline.Tests.Simulation;

/// <summary>A FITS section [x1:x2,y1:y2] as written (1-based, inclusive, x2 &lt; x1 for a flipped axis).</summary>
internal readonly record struct Section(int X1, int X2, int Y1, int Y2)
{
    public int Width => Math.Abs(X2 - X1) + 1;

    public int Height => Math.Abs(Y2 - Y1) + 1;

    /// <summary>Zero-based column of the k-th pixel walking from X1 to X2.</summary>
    public int XAt(int k) => X2 >= X1 ? X1 - 1 + k : X1 - 1 - k;

    public int YAt(int k) => Y2 >= Y1 ? Y1 - 1 + k : Y1 - 1 - k;

    public static Section Parse(string? text)
    {
        var m = Regex.Match(text ?? "", @"^\[(\d+):(\d+),(\d+):(\d+)\]$");
        Assert.True(m.Success, $"'{text}' is not a FITS section");
        int P(int g) => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
        return new Section(P(1), P(2), P(3), P(4));
    }
}

/// <summary>Options and a minimal, independent instrument-signature removal for checking simulated frames against their truth.</summary>
internal static class SimulationTestSupport
{
    /// <summary>A small, fast campaign: 2 visits (r, i) × 2 detectors of 128 × 128 pixels read by 2 × 2 amplifiers.</summary>
    public static SimulationOptions Tiny(long seed = 7) => new()
    {
        Seed = seed,
        VisitCount = 2,
        Bands = ["r", "i"],
        DetectorColumns = 2,
        DetectorRows = 1,
        Detector = DetectorGeometry.Create(128, 128, 2, 2),
        DitherRadiusArcsec = 10,
        GalaxyDensityPerArcmin2 = 60,
        StarDensityPerArcmin2 = 10,
        CosmicRayRatePerCm2PerSecond = 2.0,
        BadColumnsPerMegapixel = 50,
    };

    /// <summary>
    /// Electrons per pixel after overscan (per-row median), master bias (ADU), gain and flat, with the sky level
    /// subtracted: what is left is the sources, cosmic rays, defects and noise. Sections are parsed from the headers.
    /// </summary>
    public static float[] CalibrateToElectrons(SurveySimulator sim, SimulatedFrame frame)
    {
        int w = sim.Options.DetectorWidth, h = sim.Options.DetectorHeight;
        var bias = sim.CreateMasterBias(frame.Detector);
        var flat = sim.CreateMasterFlat(frame.Detector, frame.Visit.Band);
        Assert.Equal("adu", bias.Header.GetString("BUNIT"));
        var image = new float[w * h];
        var amps = frame.Hdus.Count == 1 ? frame.Hdus : frame.Hdus.Skip(1).ToList();
        foreach (var hdu in amps)
        {
            var data = Section.Parse(hdu.Header.GetString("DATASEC"));
            var over = Section.Parse(hdu.Header.GetString("BIASSEC"));
            var det = hdu.Header.Contains("DETSEC") ? Section.Parse(hdu.Header.GetString("DETSEC")) : new Section(1, w, 1, h);
            double gain = hdu.Header.GetDouble("GAIN");
            for (int k = 0; k < data.Height; k++)
            {
                int ry = data.YAt(k);
                var overscan = Enumerable.Range(0, over.Width).Select(i => (double)hdu[over.XAt(i), ry]).Order().ToArray();
                double level = 0.5 * (overscan[(overscan.Length - 1) / 2] + overscan[overscan.Length / 2]);
                for (int m = 0; m < data.Width; m++)
                {
                    int di = det.YAt(k) * w + det.XAt(m);
                    double adu = hdu[data.XAt(m), ry] - level - bias.Pixels[di];
                    image[di] = (float)(adu * gain / flat.Pixels[di] - frame.Visit.SkyElectronsPerPixel);
                }
            }
        }
        return image;
    }

    /// <summary>Fraction of a Moffat profile's flux within radius r (FWHM and r in the same unit).</summary>
    public static double MoffatEnclosed(double r, double fwhm, double beta)
    {
        double alpha = fwhm / (2.0 * Math.Sqrt(Math.Pow(2.0, 1.0 / beta) - 1.0));
        return 1.0 - Math.Pow(1.0 + r * r / (alpha * alpha), 1.0 - beta);
    }

    /// <summary>Distance from (px, py) to the segment (x0, y0)-(x1, y1).</summary>
    public static double DistanceToSegment(double px, double py, double x0, double y0, double x1, double y1)
    {
        double dx = x1 - x0, dy = y1 - y0;
        double len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? Math.Clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0.0, 1.0) : 0.0;
        double ex = x0 + t * dx - px, ey = y0 + t * dy - py;
        return Math.Sqrt(ex * ex + ey * ey);
    }

    public static void AssertSamePixels(IReadOnlyList<FitsImage> a, IReadOnlyList<FitsImage> b)
    {
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Width, b[i].Width);
            Assert.Equal(a[i].Height, b[i].Height);
            Assert.True(a[i].Pixels.AsSpan().SequenceEqual(b[i].Pixels), $"HDU {i} pixels differ");
            Assert.Equal(a[i].Header.Select(c => c.ToString()), b[i].Header.Select(c => c.ToString()));
        }
    }
}
