using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;
using Drp.Pipeline.Wcs;
using Xunit.Abstractions;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>
/// The astrometric fit against the reference catalog, on a simulated frame whose header WCS has been knocked off the
/// truth (1.5″ shift, 0.03° rotation, 2·10⁻⁴ scale): the fitted WCS puts bright stars back within the 20 mas.
/// </summary>
public sealed class AstrometricFitTests(ITestOutputHelper output)
{
    private static (ProcessFrameInputs Inputs, SimulatedFrame Frame) PerturbedFrame()
    {
        var sim = new SurveySimulator(new SimulationOptions
        {
            Seed = 33,
            VisitCount = 1,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = DetectorGeometry.Create(1024, 1024),
            StarDensityPerArcmin2 = 15.0,
            RefcatMagLimit = 22.5,
        });
        var frame = sim.SimulateFrame(sim.Visits[0].Visit, 0);
        var truthWcs = frame.Wcs;
        double rot = 0.03 * Math.PI / 180, scale = 1.0002, c = Math.Cos(rot) * scale, s = Math.Sin(rot) * scale;
        var perturbed = new TanWcs(truthWcs.CrVal1 + 1.5 / 3600 / Math.Cos(truthWcs.CrVal2 * Math.PI / 180), truthWcs.CrVal2 - 1.0 / 3600,
            truthWcs.CrPix1, truthWcs.CrPix2,
            c * truthWcs.Cd11 - s * truthWcs.Cd21, c * truthWcs.Cd12 - s * truthWcs.Cd22,
            s * truthWcs.Cd11 + c * truthWcs.Cd21, s * truthWcs.Cd12 + c * truthWcs.Cd22);
        perturbed.WriteTo(frame.Hdus[0].Header);
        string band = frame.Visit.Band;
        int b = sim.Options.Bands.ToList().IndexOf(band);
        var refs = sim.CreateReferenceCatalog().Select(r => new ReferenceObject(r.Star.Ra, r.Star.Dec, ReferenceCatalog.MagToNJy(r.Mags[b]))).ToList();
        return (new ProcessFrameInputs(RawFrame.FromImages(frame.Hdus), sim.CreateMasterBias(0), sim.CreateMasterFlat(0, band), DefectMap.FromImage(sim.CreateDefectMask(0)), refs,
            frame.Visit.Visit, 0, band), frame);
    }

    /// <summary>Rms over bright, isolated, unsaturated matched stars of the distance from truth of <paramref name="pixelToSky"/>(x, y).</summary>
    private static double StarRmsMas(SingleFrameResult.Processed p, SimulatedFrame frame, Func<double, double, (double Ra, double Dec)> pixelToSky)
    {
        var offsets = new List<double>();
        // Bright, isolated stars (no truth source brighter than a tenth of it within 2″: there is no deblender yet).
        bool Isolated(FrameSource t) => !frame.Sources.Any(o => o.Id != t.Id && o.Electrons > 0.1 * t.Electrons
            && (o.X - t.X) * (o.X - t.X) + (o.Y - t.Y) * (o.Y - t.Y) < 100);
        foreach (var t in frame.Sources.Where(t => t.Type == SourceType.Star && t.Electrons > 3e4 && Isolated(t)))
        {
            var s = p.Sources.MinBy(s => (s.X - t.X) * (s.X - t.X) + (s.Y - t.Y) * (s.Y - t.Y))!;
            if ((s.X - t.X) * (s.X - t.X) + (s.Y - t.Y) * (s.Y - t.Y) < 1 && !s.PixelFlagsSaturated && !s.PsfFluxFlag)
            {
                var (ra, dec) = pixelToSky(s.X, s.Y);
                offsets.Add(TanWcs.AngularSeparationDegrees(ra, dec, t.Ra, t.Dec) * 3.6e6);
            }
        }
        Assert.True(offsets.Count >= 20, $"{offsets.Count} stars");
        return Math.Sqrt(offsets.Average(o => o * o));
    }

    [Fact]
    public void Run_HeaderWcsOffTheTruth_FittedWcsBringsStarsWithinTwentyMilliarcsec()
    {
        var (inputs, frame) = PerturbedFrame();

        var (fitted, calexpWcs) = ProcessFrameTask.RunProcessed(inputs);

        var p = Assert.IsType<SingleFrameResult.Processed>(fitted);
        var headerWcs = TanWcs.FromHeader(inputs.Raw.PrimaryHeader);
        double rms = StarRmsMas(p, frame, (x, y) => p.Sources.First(s => s.X == x && s.Y == y) is var r ? (r.CoordRa, r.CoordDec) : default);
        double before = StarRmsMas(p, frame, headerWcs.PixelToSky);
        output.WriteLine($"rms {rms:F1} mas after the fit ({p.Astrometry!.MatchCount} matches, fit rms {p.Astrometry.RmsArcsec * 1000:F1} mas), {before:F0} mas before");
        Assert.True(p.Astrometry.Fitted);
        Assert.True(before > 1000, $"the perturbation moved stars by only {before:F0} mas");
        Assert.True(rms <= 20, $"rms {rms:F1} mas");
        // The calexp carries the fitted WCS: it maps a star's pixel where the Source table says.
        var s = p.Sources[0];
        var (ra, dec) = calexpWcs.PixelToSky(s.X, s.Y);
        Assert.True(TanWcs.AngularSeparationDegrees(ra, dec, s.CoordRa, s.CoordDec) * 3.6e6 < 0.01);
    }

    [Fact]
    public void Fit_TooFewReferences_KeepsTheRawWcs()
    {
        var wcs = TanWcs.Create(61.9, -35.8, 0.2, 0, 256, 256);
        var sources = new List<MeasuredSource>();

        var solution = AstrometricFit.Fit(sources, wcs, [new ReferenceObject(61.9, -35.8, 1e5)], 256, 256, new AstrometryConfig());

        Assert.False(solution.Fitted);
        Assert.Same(wcs, solution.Wcs);
    }
}
