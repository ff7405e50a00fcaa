using System.Globalization;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.Tests.Wcs;
using Drp.Pipeline.Wcs;
using static Drp.Pipeline.Tests.Simulation.SimulationTestSupport;

namespace Drp.Pipeline.Tests.Simulation;

/// <summary>The written campaign: layout, fitsverify, astropy reading our WCS, CSV columns, FITS round trip.</summary>
public sealed class SimulationFilesTests : IDisposable
{
    private const double OneMasDeg = 1.0 / 3600.0 / 1000.0;

    // Prints astropy's sky position of each ZERO-based pixel of the list, from the header of HDU 0.
    private const string PixToSkyScript = """
        import sys, warnings
        import numpy as np
        from astropy.io import fits
        from astropy.wcs import WCS
        warnings.simplefilter("ignore")
        w = WCS(fits.open(sys.argv[1])[0].header)
        pix = np.loadtxt(sys.argv[2], ndmin=2)
        ra, dec = w.all_pix2world(pix[:, 0], pix[:, 1], 0)
        for a, b in zip(ra, dec):
            print("%.17g %.17g" % (a, b))
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("drp-sim-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WriteTo_TinyCampaign_WritesDocumentedLayout()
    {
        var sim = new SurveySimulator(Tiny());
        var messages = new List<string>();

        var summary = sim.WriteTo(_dir, new SyncProgress(messages));

        Assert.Equal(4, summary.RawFrames);
        Assert.Equal(2 * (2 + 2), summary.CalibrationFiles);
        foreach (var v in sim.Visits)
        {
            foreach (int d in sim.Detectors)
            {
                Assert.True(File.Exists(Path.Combine(_dir, "raw", $"visit_{v.Visit}_det_{d}.fits")));
                Assert.True(File.Exists(Path.Combine(_dir, "truth", $"visit_{v.Visit}_det_{d}.csv")));
            }
        }
        foreach (int d in sim.Detectors)
        {
            Assert.True(File.Exists(Path.Combine(_dir, "calib", $"bias_det_{d}.fits")));
            Assert.True(File.Exists(Path.Combine(_dir, "calib", $"defects_det_{d}.fits")));
            Assert.True(File.Exists(Path.Combine(_dir, "calib", $"flat_r_det_{d}.fits")));
            Assert.True(File.Exists(Path.Combine(_dir, "calib", $"flat_i_det_{d}.fits")));
        }
        Assert.Equal("id,ra,dec,r_mag,i_mag,r_magErr,i_magErr", File.ReadLines(Path.Combine(_dir, "refcat.csv")).First());
        Assert.Equal("id,ra,dec,type,r_flux,i_flux,sersic_n,hlr_arcsec,axis_ratio,ellipticity,pa_deg", File.ReadLines(Path.Combine(_dir, "truth.csv")).First());
        Assert.Equal(sim.Catalog.Count + 1, File.ReadLines(Path.Combine(_dir, "truth.csv")).Count());
        Assert.Equal(summary.ReferenceStars + 1, File.ReadLines(Path.Combine(_dir, "refcat.csv")).Count());
        Assert.True(summary.ReferenceStars > 0);
        Assert.Equal(3, File.ReadLines(Path.Combine(_dir, "visits.csv")).Count());
        Assert.True(File.Exists(Path.Combine(_dir, "truth", "amplifiers.csv")));
        Assert.True(File.Exists(Path.Combine(_dir, "truth", "cosmic_rays.csv")));
        Assert.True(File.Exists(Path.Combine(_dir, "simulation.json")));
        Assert.Contains(messages, m => m.StartsWith("raw 4/4", StringComparison.Ordinal));
    }

    [Fact]
    public void WriteTo_RawRead_BackEqualsFrameInMemory()
    {
        var sim = new SurveySimulator(Tiny());
        sim.WriteTo(_dir);
        var visit = sim.Visits[1].Visit;

        var read = FitsFile.Read(Path.Combine(_dir, "raw", $"visit_{visit}_det_1.fits"));
        var frame = sim.SimulateFrame(visit, 1);

        Assert.Equal(frame.Hdus.Count, read.Count);
        for (int i = 0; i < read.Count; i++)
        {
            Assert.True(frame.Hdus[i].Pixels.AsSpan().SequenceEqual(read[i].Pixels), $"HDU {i} pixels changed through the file");
            Assert.Equal(frame.Hdus[i].Header.GetString("DETSEC"), read[i].Header.GetString("DETSEC"));
        }
        var wcs = TanWcs.FromHeader(read[0].Header);
        var (ra, dec) = wcs.PixelToSky(10, 20);
        var (ra2, dec2) = frame.Wcs.PixelToSky(10, 20);
        Assert.True(TanWcs.AngularSeparationDegrees(ra, dec, ra2, dec2) < OneMasDeg / 100);
    }

    [Theory]
    [InlineData(RawFormat.MultiExtension)]
    [InlineData(RawFormat.SingleHdu)]
    public async Task WriteTo_EveryKindOfFile_PassesFitsverify(RawFormat format)
    {
        var sim = new SurveySimulator(Tiny() with { Format = format, VisitCount = 1, DetectorColumns = 1 });
        sim.WriteTo(_dir);
        string[] files =
        [
            Path.Combine(_dir, "raw", $"visit_{sim.Visits[0].Visit}_det_0.fits"),
            Path.Combine(_dir, "calib", "bias_det_0.fits"),
            Path.Combine(_dir, "calib", "flat_r_det_0.fits"),
            Path.Combine(_dir, "calib", "defects_det_0.fits"),
        ];

        foreach (string file in files)
        {
            var (errors, _, report) = await ReferenceTools.RunFitsVerifyAsync(file);
            Assert.True(errors == 0, report);
        }
    }

    [Fact]
    public async Task WriteTo_LsstCamItlFrame_FullSizeRawPassesFitsverify()
    {
        var sim = new SurveySimulator(new SimulationOptions
        {
            Detector = DetectorGeometry.LsstCamItl,
            DetectorColumns = 1,
            DetectorRows = 1,
            VisitCount = 1,
            Bands = ["r"],
            GalaxyDensityPerArcmin2 = 2,
        });
        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);
        string path = Path.Combine(_dir, "itl.fits");

        FitsFile.Write(path, frame.Hdus);
        var (errors, _, report) = await ReferenceTools.RunFitsVerifyAsync(path);

        Assert.True(errors == 0, report);
        Assert.Equal(17, frame.Hdus.Count);
        Assert.All(frame.Hdus.Skip(1), h => Assert.Equal((544, 2048), (h.Width, h.Height)));
        Assert.Equal("[1:4072,1:4000]", frame.Hdus[0].Header.GetString("DETSIZE"));
    }

    [Theory]
    [InlineData(RawFormat.MultiExtension)]
    [InlineData(RawFormat.SingleHdu)]
    public async Task WriteTo_TruthStars_AstropyPlacesThemWithinOneMas(RawFormat format)
    {
        var sim = new SurveySimulator(Tiny() with { Format = format, StarDensityPerArcmin2 = 60 });
        sim.WriteTo(_dir);
        var visit = sim.Visits[1].Visit;
        string raw = Path.Combine(_dir, "raw", $"visit_{visit}_det_1.fits");
        var stars = File.ReadLines(Path.Combine(_dir, "truth", $"visit_{visit}_det_1.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Where(f => f[1] == "star")
            .Select(f => f[2..6].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            .ToList();
        string pixPath = Path.Combine(_dir, "pix.txt");
        ReferenceTools.WriteColumns(pixPath, stars.Select(s => new[] { s[0], s[1] }));

        var sky = ReferenceTools.ParseColumns(await ReferenceTools.RunPythonAsync(PixToSkyScript, raw, pixPath));

        Assert.True(stars.Count >= 3, $"{stars.Count} truth stars on the frame");
        Assert.Equal(stars.Count, sky.Length);
        for (int i = 0; i < stars.Count; i++)
        {
            double sep = TanWcs.AngularSeparationDegrees(stars[i][2], stars[i][3], sky[i][0], sky[i][1]);
            Assert.True(sep < OneMasDeg, $"star {i}: astropy puts it {sep * 3.6e6:F3} mas from the truth");
        }
    }

    /// <summary>Collects progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class SyncProgress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
