using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;
using Xunit.Abstractions;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>
/// One DC2-like simulated frame (the project's simulator: Moffat β 3.5 stars, Sérsic galaxies, cosmic rays, defects,
/// saturation, 16-bit readout through 4 amplifiers), processed once by <see cref="ProcessFrameTask"/> as the
/// pipeline runs it, and every stage checked against the simulator's truth.
/// </summary>
public sealed class SimulatedFrameFixture
{
    public SimulatedFrameFixture()
    {
        Simulator = new SurveySimulator(new SimulationOptions
        {
            Seed = 21,
            VisitCount = 1,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = DetectorGeometry.Create(2048, 2048),
            StarDensityPerArcmin2 = 12.0,
            RefcatMagLimit = 22.0,
        });
        Frame = Simulator.SimulateFrame(Simulator.Visits[0].Visit, 0);
        string band = Frame.Visit.Band;
        int b = Simulator.Options.Bands.ToList().IndexOf(band);
        var refs = Simulator.CreateReferenceCatalog()
            .Select(r => new ReferenceObject(r.Star.Ra, r.Star.Dec, ReferenceCatalog.MagToNJy(r.Mags[b]))).ToList();
        var inputs = new ProcessFrameInputs(RawFrame.FromImages(Frame.Hdus), Simulator.CreateMasterBias(0), Simulator.CreateMasterFlat(0, band),
            DefectMap.FromImage(Simulator.CreateDefectMask(0)), refs, Frame.Visit.Visit, 0, band);
        var (processed, wcs) = ProcessFrameTask.RunProcessed(inputs);
        Result = Assert.IsType<SingleFrameResult.Processed>(processed);
        Outputs = ProcessFrameTask.Run(inputs);
        _ = wcs;
    }

    public SurveySimulator Simulator { get; }

    public SimulatedFrame Frame { get; }

    public SingleFrameResult.Processed Result { get; }

    public ProcessFrameOutputs Outputs { get; }
}

public sealed class SimulatedFrameTests(SimulatedFrameFixture fixture, ITestOutputHelper output) : IClassFixture<SimulatedFrameFixture>
{
    private const double ArcsecPerPixel = 0.2;

    private IReadOnlyList<SourceRecord> Sources => fixture.Result.Sources;

    /// <summary>Truth sources with their nearest measured source within 1 arcsec (null when none).</summary>
    private List<(FrameSource Truth, SourceRecord? Match)> Matched()
    {
        var grid = Sources.ToLookup(s => ((int)(s.X / 8), (int)(s.Y / 8)));
        var list = new List<(FrameSource, SourceRecord?)>();
        foreach (var t in fixture.Frame.Sources)
        {
            SourceRecord? best = null;
            double bestD = 1.0 / ArcsecPerPixel;
            for (int gx = (int)(t.X / 8) - 1; gx <= (int)(t.X / 8) + 1; gx++)
            {
                for (int gy = (int)(t.Y / 8) - 1; gy <= (int)(t.Y / 8) + 1; gy++)
                {
                    foreach (var s in grid[(gx, gy)])
                    {
                        double d = Math.Sqrt((s.X - t.X) * (s.X - t.X) + (s.Y - t.Y) * (s.Y - t.Y));
                        if (d < bestD)
                        {
                            (best, bestD) = (s, d);
                        }
                    }
                }
            }
            list.Add((t, best));
        }
        return list;
    }

    /// <summary>
    /// Ideal point-source S/N of a truth source: electrons over the sky noise in the Moffat PSF's effective area
    /// 1/∫p² = π α² (2β − 1)/(β − 1)² (the S/N of an optimal PSF fit, as <c>drp bench sextractor</c> bins it).
    /// </summary>
    private double IdealSignalToNoise(FrameSource t)
    {
        var v = fixture.Frame.Visit;
        double beta = fixture.Simulator.Options.MoffatBeta;
        double alpha = v.SeeingFwhmArcsec / ArcsecPerPixel * 0.5 / Math.Sqrt(Math.Pow(2.0, 1.0 / beta) - 1.0);
        double area = Math.PI * alpha * alpha * (2 * beta - 1) / ((beta - 1) * (beta - 1));
        return t.Electrons / Math.Sqrt(v.SkyElectronsPerPixel * area);
    }

    /// <summary>No other truth source brighter than a tenth of this one within 2 arcsec.</summary>
    private bool Isolated(FrameSource t) =>
        !fixture.Frame.Sources.Any(o => o.Id != t.Id && o.Electrons > 0.1 * t.Electrons
            && (o.X - t.X) * (o.X - t.X) + (o.Y - t.Y) * (o.Y - t.Y) < 100);

    /// <summary>Truth stars of ideal S/N > 50 (the photometry and astrometry sample), matched, unsaturated, unflagged.</summary>
    private List<(FrameSource Truth, SourceRecord? Match)> BrightStars() =>
        Matched().Where(x => x.Truth.Type == SourceType.Star && IdealSignalToNoise(x.Truth) > 50
            && x.Match is { PsfFluxFlag: false, PixelFlagsSaturated: false }).ToList();

    [Fact]
    public void Psf_FittedMoffat_MatchesTheSimulatedSeeingAndBeta()
    {
        var s = fixture.Result.Summary;
        var v = fixture.Frame.Visit;
        output.WriteLine($"seeing {s.Seeing:F4} truth {v.SeeingFwhmArcsec:F4}; beta {s.PsfBeta:F2}; {s.PsfStarCount} stars");

        Assert.True(s.PsfStarCount >= 20, $"{s.PsfStarCount} PSF stars");
        // The image's PSF is the Moffat convolved with the 1-pixel box (σ² + 1/12 px²: +1.7 % for this seeing); 3 % allows that.
        Assert.InRange(s.Seeing!.Value / v.SeeingFwhmArcsec, 1.0, 1.03);
        Assert.InRange(s.PsfBeta, 3.0, 4.0);
    }

    [Fact]
    public void Psf_ModelMoments_MatchTheBrightStarsMoments()
    {
        var stars = BrightStars().Select(x => x.Match!).Where(m => !m.ShapeFlag && m.Extendedness == 0).ToList();
        double starIxx = stars.Select(m => 0.5 * (m.Ixx + m.Iyy)).Order().ElementAt(stars.Count / 2);
        var psf = stars[0];

        // Same adaptive-moment code on the noiseless model and on the stars: 3 % covers the noise of the median.
        Assert.InRange(0.5 * (psf.IxxPsf + psf.IyyPsf) / starIxx, 0.97, 1.03);
        Assert.InRange(Math.Abs(psf.IxyPsf), 0, 0.05 * starIxx);
    }

    [Fact]
    public void PsfFlux_BrightUnsaturatedStars_MedianWithinOnePercentOfTruthAfterCalibration()
    {
        var bright = BrightStars();
        var deviations = bright.Select(x => Math.Abs(x.Match!.PsfFlux / x.Truth.FluxNJy - 1)).Order().ToList();
        double median = deviations[deviations.Count / 2];
        output.WriteLine($"{bright.Count} stars: median |psfFlux/true - 1| = {median:F4}");

        Assert.True(bright.Count >= 50, $"{bright.Count} bright stars");
        Assert.True(median <= 0.01, $"median |psfFlux/true - 1| = {median:F4}");
        // Errors are honest: the scatter of (psfFlux - true) / err over these stars is about 1 (within 0.5..2, as the
        // zero point's error and the refcat noise are shared).
        var pulls = bright.Select(x => (x.Match!.PsfFlux - x.Truth.FluxNJy) / x.Match.PsfFluxErr).Select(Math.Abs).Order().ToList();
        Assert.InRange(pulls[pulls.Count / 2] / 0.6745, 0.5, 2.0);
    }

    [Fact]
    public void ZeroPoint_FromPsfFluxes_WithinOneHundredthMagOfTruth()
    {
        var s = fixture.Result.Summary;
        output.WriteLine($"zp {s.ZeroPoint:F4} ± {s.ZeroPointErr:F4}, truth {fixture.Frame.Visit.ZeroPointMag:F4}");

        Assert.InRange(s.ZeroPoint - fixture.Frame.Visit.ZeroPointMag, -0.01, 0.01);
        Assert.InRange(s.ZeroPointErr, 1e-4, 0.01);
    }

    [Fact]
    public void Astrometry_IsolatedBrightStars_RmsUnderTwentyMilliarcsec()
    {
        var stars = BrightStars().Where(x => Isolated(x.Truth)).ToList();
        var offsets = stars.Select(x => Pipeline.Wcs.TanWcs.AngularSeparationDegrees(x.Match!.CoordRa, x.Match.CoordDec, x.Truth.Ra, x.Truth.Dec) * 3.6e6).ToList();
        double rms = Math.Sqrt(offsets.Average(d => d * d));
        output.WriteLine($"{stars.Count} isolated stars: rms {rms:F1} mas, max {offsets.Max():F1} mas");

        Assert.True(stars.Count >= 50);
        Assert.True(rms <= 20, $"rms {rms:F1} mas");
    }

    [Fact]
    public void CosmicRays_TracksAreFoundAndRepairedAndStarsAreNot()
    {
        var calexp = fixture.Result.Calexp;
        var tracks = fixture.Frame.CosmicRays.Where(c => c.Electrons > 3000).ToList();
        // A track is found when a CR pixel lies within 1.5 pixels of its segment.
        int found = tracks.Count(c => TrackPixels(c).Any(p => calexp.HasMask(p.X, p.Y, MaskPlane.CosmicRay)));
        var stars = BrightStars().Where(x => Isolated(x.Truth)).ToList();
        int starCores = stars.Count(x => calexp.HasMask((int)Math.Round(x.Truth.X), (int)Math.Round(x.Truth.Y), MaskPlane.CosmicRay));
        output.WriteLine($"{found} of {tracks.Count} tracks found; {starCores} of {stars.Count} bright star cores marked CR");

        Assert.True(tracks.Count >= 5, $"{tracks.Count} tracks");
        Assert.True(found >= 0.9 * tracks.Count, $"{found} of {tracks.Count} cosmic-ray tracks found");
        Assert.Equal(0, starCores);
        // Repaired: no detection is left on a track that lies off every truth source.
        Assert.DoesNotContain(fixture.Result.Sources, s => tracks.Any(c => DistanceToSegment(c, s.X, s.Y) < 2)
            && !fixture.Frame.Sources.Any(t => (t.X - s.X) * (t.X - s.X) + (t.Y - s.Y) * (t.Y - s.Y) < 25));
    }

    private IEnumerable<(int X, int Y)> TrackPixels(CosmicRayTrack c)
    {
        var e = fixture.Result.Calexp;
        for (int y = (int)Math.Floor(Math.Min(c.Y0, c.Y1) - 2); y <= (int)Math.Ceiling(Math.Max(c.Y0, c.Y1) + 2); y++)
        {
            for (int x = (int)Math.Floor(Math.Min(c.X0, c.X1) - 2); x <= (int)Math.Ceiling(Math.Max(c.X0, c.X1) + 2); x++)
            {
                if (x >= 0 && y >= 0 && x < e.Width && y < e.Height && DistanceToSegment(c, x, y) <= 1.5)
                {
                    yield return (x, y);
                }
            }
        }
    }

    private static double DistanceToSegment(CosmicRayTrack c, double x, double y)
    {
        double dx = c.X1 - c.X0, dy = c.Y1 - c.Y0, l2 = dx * dx + dy * dy;
        double t = l2 == 0 ? 0 : Math.Clamp(((x - c.X0) * dx + (y - c.Y0) * dy) / l2, 0, 1);
        return Math.Sqrt(Sq(x - (c.X0 + t * dx)) + Sq(y - (c.Y0 + t * dy)));
    }

    private static double Sq(double v) => v * v;

    [Fact]
    public void KronFlux_BrightStars_HoldMostOfTheFlux()
    {
        var ratios = BrightStars().Where(x => !x.Match!.KronFluxFlag).Select(x => x.Match!.KronFlux / x.Truth.FluxNJy).Order().ToList();
        double median = ratios[ratios.Count / 2];
        output.WriteLine($"median kronFlux/true {median:F4}");

        // 2.5 first-moment radii hold ~96 % of a Moffat β 3.5 (SExtractor's AUTO misses a few % the same way).
        Assert.InRange(median, 0.93, 1.0);
    }

    [Fact]
    public void Extendedness_SeparatesStarsFromGalaxiesAboveSignalToNoiseTwenty()
    {
        var m = Matched().Where(x => x.Match is { } s && s.PsfFlux > 20 * s.PsfFluxErr && !double.IsNaN(s.Extendedness)).ToList();
        var stars = m.Where(x => x.Truth.Type == SourceType.Star).ToList();
        var galaxies = m.Where(x => x.Truth.Type == SourceType.Galaxy).ToList();
        double starsExtended = stars.Count(x => x.Match!.Extendedness == 1) / (double)stars.Count;
        double galaxiesExtended = galaxies.Count(x => x.Match!.Extendedness == 1) / (double)galaxies.Count;
        output.WriteLine($"stars {stars.Count}: {starsExtended:F3} extended; galaxies {galaxies.Count}: {galaxiesExtended:F3} extended");

        Assert.True(stars.Count >= 100 && galaxies.Count >= 30);
        Assert.True(starsExtended <= 0.05, $"{starsExtended:F3} of stars called extended");
        Assert.True(galaxiesExtended >= 0.75, $"{galaxiesExtended:F3} of galaxies called extended");
    }

    [Fact]
    public void Detection_BrightStarsAreFoundAndDetectionsAreReal()
    {
        var m = Matched();
        var strong = m.Where(x => x.Truth.Type == SourceType.Star && IdealSignalToNoise(x.Truth) >= 20).ToList();
        double completeness = strong.Count(x => x.Match is not null) / (double)strong.Count;
        int real = m.Where(x => x.Match is not null).Select(x => x.Match!.SourceId).Distinct().Count();
        double purity = real / (double)Sources.Count;
        output.WriteLine($"completeness S/N >= 20: {completeness:F3} of {strong.Count}; purity {purity:F3} of {Sources.Count}");

        // With the deblender, only stars too close to a brighter source for a separate peak are missed (0.95 before).
        // Purity is the target (0.98), met once cosmic rays are repaired.
        Assert.True(completeness >= 0.97, $"completeness {completeness:F3}");
        Assert.True(purity >= 0.98, $"purity {purity:F3}");
    }

    [Fact]
    public void Detection_FaintStars_CompletenessNearTheIdealAtTheThreshold()
    {
        var stars = Matched().Where(x => x.Truth.Type == SourceType.Star).ToList();
        double Completeness(double lo, double hi, out int n)
        {
            var bin = stars.Where(x => IdealSignalToNoise(x.Truth) >= lo && IdealSignalToNoise(x.Truth) < hi).ToList();
            n = bin.Count;
            return bin.Count(x => x.Match is not null) / (double)bin.Count;
        }
        double atFive = Completeness(4.5, 5.5, out int nFive), atTen = Completeness(8, 12, out int nTen);
        output.WriteLine($"completeness S/N 4.5-5.5: {atFive:F3} of {nFive}; S/N 8-12: {atTen:F3} of {nTen}");

        // A near-optimal detector at a 5 sigma threshold finds about half of the stars of S/N 5 (the issue asks 0.45;
        // this frame's bin is small, so the bound allows for its binomial noise) and nearly all of S/N 10.
        Assert.True(atFive >= 0.35, $"completeness at S/N 5: {atFive:F3} of {nFive}");
        Assert.True(atTen >= 0.93, $"completeness at S/N 10: {atTen:F3} of {nTen}");
    }
}

/// <summary>The step-1 outputs of a real processed frame pass every check the schema implies (nothing NaN without its flag).</summary>
public sealed class SimulatedFrameQaTests(SimulatedFrameFixture fixture) : IClassFixture<SimulatedFrameFixture>
{
    [Fact]
    public void SourceAndCcdVisit_OfAProcessedFrame_PassSchemaQa()
    {
        var ccd = CcdVisitSchema.ToTable([fixture.Outputs.Summary!]);
        var parents = new Dictionary<string, IReadOnlySet<object>>
        {
            ["CcdVisit.ccdVisitId"] = ccd.Rows.Select(r => r[0]!).ToHashSet(),
        };

        var source = CatalogQa.Check(fixture.Outputs.Sources!, SourceSchema.Table, parents);
        var ccdReport = CatalogQa.Check(ccd, CcdVisitSchema.Table);

        Assert.True(source.Passed, source.Summary);
        Assert.True(ccdReport.Passed, ccdReport.Summary);
        Assert.Empty(source.NotRun);
        Assert.True(source.Rows > 100);
        Assert.True(source.ChecksRun > SourceSchema.Columns.Count);
    }

    [Fact]
    public void SourceQa_NaNInjectedIntoARequiredColumn_FailsNamingTableAndColumn()
    {
        var rows = fixture.Outputs.Sources!;
        var copy = SourceSchema.Table.NewTable();
        foreach (var r in rows.Rows)
        {
            copy.Rows.Add((object?[])r.Clone());
        }
        copy.Rows[3][copy.IndexOf("coord_dec")] = double.NaN;

        var report = CatalogQa.Check(copy, SourceSchema.Table);

        var f = Assert.Single(report.Findings);
        Assert.Equal(("Source", "coord_dec"), (f.Table, f.Column));
        Assert.StartsWith("Source.coord_dec: 1 of", report.Summary);
    }
}
