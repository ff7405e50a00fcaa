using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Simulation;

/// <summary>
/// A DC2-like survey simulator: raw frames of LSSTCam-like CCDs (bias with per-row noise, gain, read noise, vignetting
/// flat, sky, Moffat stars, PSF-convolved Sérsic galaxies, Poisson noise, cosmic rays, bad columns, saturation with
/// charge-conserving bleed trails), master calibrations, a reference catalog and truth catalogs. Every product is a
/// deterministic function of the <see cref="SimulationOptions"/> (seed included): any frame can be generated alone,
/// in any order, on any number of threads, with identical pixels.
/// </summary>
/// <remarks>
/// <para>Output layout of <see cref="WriteTo"/> (visit and detector ids unpadded):</para>
/// <list type="bullet">
/// <item><c>raw/visit_{visit}_det_{detector}.fits</c>: the raw frame (BITPIX 16, BZERO 32768, ADU).</item>
/// <item><c>calib/bias_det_{detector}.fits</c>: master bias, assembled science geometry, float, BUNIT 'adu': the
/// bias structure left after per-row overscan subtraction (subtract it after the overscan, before the gain).</item>
/// <item><c>calib/flat_{band}_det_{detector}.fits</c>: master flat, assembled geometry, float, mean 1.</item>
/// <item><c>calib/defects_det_{detector}.fits</c>: defect mask, assembled geometry, BITPIX 8, 1 = bad pixel.</item>
/// <item><c>refcat.csv</c>: <c>id,ra,dec,{band}_mag...,{band}_magErr...</c>, AB, stars brighter than the limit, with noise.</item>
/// <item><c>truth.csv</c>: <c>id,ra,dec,type,{band}_flux...</c> (nJy) <c>,sersic_n,hlr_arcsec,axis_ratio,ellipticity,pa_deg</c>.</item>
/// <item><c>visits.csv</c>: per visit band, MJD, exposure, boresight, rotation, seeing, zero point (electrons per nJy, and AB mag of 1 e⁻), sky.</item>
/// <item><c>truth/visit_{visit}_det_{detector}.csv</c>: <c>id,type,x,y,ra,dec,flux_njy,electrons</c> of the sources centred on
/// the frame: x, y ZERO-based in the assembled science area, electrons = flux × electrons_per_njy before the flat.</item>
/// <item><c>truth/amplifiers.csv</c>, <c>truth/cosmic_rays.csv</c>, <c>simulation.json</c> (the options).</item>
/// </list>
/// <para>Raw headers (primary HDU, or the single HDU): INSTRUME, TELESCOP, OBSTYPE, FILTER, BAND, EXPTIME, MJD-OBS,
/// DATE-OBS, VISIT, DETECTOR, DETNAME, BORE-RA, BORE-DEC, ROTPA, BUNIT, GAIN/RDNOISE/SATURATE (in a multi-extension
/// primary: means over the amplifiers, for information), DETSIZE, the TAN WCS of the assembled science area
/// (ZERO-based pixel (0, 0) is the first DATASEC pixel of a single HDU), and for a single HDU DATASEC, BIASSEC, TRIMSEC.
/// Amplifier extensions: EXTNAME, DATASEC, BIASSEC, DETSEC (reversed in x and y for the top row), GAIN (e⁻/ADU),
/// RDNOISE (e⁻), SATURATE (raw ADU, bias included), BUNIT.</para>
/// </remarks>
public sealed class SurveySimulator
{
    /// <summary>INSTRUME of every product.</summary>
    public const string InstrumentName = "LSSTCam-sim";

    private static readonly ConcurrentDictionary<double, GaussianComponent[]> s_psfMixtures = new();

    private readonly Lazy<List<TruthSource>> _catalog;
    private readonly ConcurrentDictionary<int, DetectorModel> _detectors = new();
    private readonly ConcurrentDictionary<(int Detector, string Band), Lazy<float[]>> _flats = new();
    private readonly bool _cacheFlats;
    private readonly List<VisitInfo> _visits;

    public SurveySimulator(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _catalog = new Lazy<List<TruthSource>>(() => SkyCatalog.Generate(options));
        _visits = Enumerable.Range(0, options.VisitCount).Select(PlanVisit).ToList();
        // Flats are the costliest per-frame input to recompute: keep them when all of them fit in 512 MB.
        _cacheFlats = (long)options.DetectorCount * options.Bands.Count * options.DetectorWidth * options.DetectorHeight * sizeof(float) <= 512L << 20;
    }

    public SimulationOptions Options { get; }

    /// <summary>The visits of the campaign, in order.</summary>
    public IReadOnlyList<VisitInfo> Visits => _visits;

    /// <summary>Detector ids 0 .. DetectorCount − 1.</summary>
    public IReadOnlyList<int> Detectors => Enumerable.Range(0, Options.DetectorCount).ToArray();

    /// <summary>Every simulated source of the sky (stars first, then galaxies).</summary>
    public IReadOnlyList<TruthSource> Catalog => _catalog.Value;

    public VisitInfo GetVisit(int visit) =>
        _visits.Find(v => v.Visit == visit) ?? throw new ArgumentOutOfRangeException(nameof(visit), visit, "no such visit in this campaign");

    /// <summary>The TAN WCS of a detector's assembled science area in a visit (ZERO-based pixels).</summary>
    public TanWcs GetWcs(int visit, int detector)
    {
        var v = GetVisit(visit);
        var model = Model(detector);
        var cd = TanWcs.Create(v.BoresightRa, v.BoresightDec, Options.PixelScaleArcsec, v.RotationDegrees, 1, 1);
        // The boresight is at focal-plane (0, 0): detector pixel (−FocalX0, −FocalY0), FITS one-based + 1.
        return new TanWcs(v.BoresightRa, v.BoresightDec, 1.0 - model.FocalX0, 1.0 - model.FocalY0, cd.Cd11, cd.Cd12, cd.Cd21, cd.Cd22);
    }

    /// <summary>The amplifiers of a detector with their electronics (the same in every visit).</summary>
    public IReadOnlyList<AmplifierInfo> GetAmplifiers(int detector)
    {
        var model = Model(detector);
        return model.Amps.Select(a =>
        {
            var e = model.Electronics[a.Index];
            return new AmplifierInfo(a.Name, a.DataSec, a.BiasSec, a.DetSec, e.Gain, e.ReadNoiseElectrons, e.BiasLevelAdu, e.RowNoiseAdu, e.SaturateAdu);
        }).ToArray();
    }

    /// <summary>Simulates one raw frame in memory.</summary>
    public SimulatedFrame SimulateFrame(int visit, int detector)
    {
        var v = GetVisit(visit);
        var model = Model(detector);
        var wcs = GetWcs(visit, detector);
        int w = Options.DetectorWidth, h = Options.DetectorHeight;
        var par = model.Parallelism();
        float[] flat = Flat(detector, v.Band);

        // Expected electrons: sky and sources through the flat.
        var e = new float[w * h];
        float sky = (float)v.SkyElectronsPerPixel;
        Parallel.For(0, h, par, y =>
        {
            for (int i = y * w, end = i + w; i < end; i++)
            {
                e[i] = sky * flat[i];
            }
        });
        var (placed, onFrame) = PlaceSources(v, wcs);
        var renderer = new SourceRenderer(v.SeeingFwhmArcsec / Options.PixelScaleArcsec, Options.MoffatBeta, PsfMixture(Options.MoffatBeta));
        var stamps = new Stamp[placed.Count];
        Parallel.For(0, placed.Count, par, k => stamps[k] = Render(renderer, placed[k].Source, placed[k].X, placed[k].Y, placed[k].Electrons, wcs));
        foreach (var s in stamps)
        {
            AddStamp(e, flat, w, h, s);
        }
        foreach (var d in model.Defects)
        {
            for (int y = d.Y0; y <= d.Y1; y++)
            {
                int i = y * w + d.X;
                e[i] = d.Hot ? e[i] + (float)d.Value : e[i] * (float)d.Value;
            }
        }

        // Photon noise, one random stream per row.
        Parallel.For(0, h, par, y =>
        {
            var rng = new SimRandom(Options.Seed, StreamPurpose.Poisson, visit, detector, y);
            for (int i = y * w, end = i + w; i < end; i++)
            {
                e[i] = (float)rng.Poisson(e[i]);
            }
        });
        var cosmics = AddCosmicRays(e, v, detector);
        int saturated = Bleed(e, w, h, (float)Options.FullWellElectrons, par);

        var hdus = Readout(e, v, model, wcs, par);
        return new SimulatedFrame(v, detector, hdus, wcs, GetAmplifiers(detector), onFrame, cosmics, saturated);
    }

    /// <summary>The master bias of a detector: assembled science geometry, ADU, the structure left after overscan subtraction.</summary>
    public FitsImage CreateMasterBias(int detector)
    {
        var model = Model(detector);
        var header = CalibHeader(detector, "bias");
        header.Set("BUNIT", "adu", "subtract after per-row overscan, before gain");
        header.AddComment("Bias structure left after per-row overscan, ADU (noise-free).");
        return new FitsImage(Options.DetectorWidth, Options.DetectorHeight, FitsBitpix.Float32, header, model.MasterBias());
    }

    /// <summary>The master flat of a detector in a band: assembled science geometry, mean 1.</summary>
    public FitsImage CreateMasterFlat(int detector, string band)
    {
        var info = BandInfo.Get(band);
        var header = CalibHeader(detector, "flat");
        header.Set("FILTER", info.Filter).Set("BAND", info.Band);
        header.AddComment("Vignetting x pixel response, mean 1 (noise-free).");
        return new FitsImage(Options.DetectorWidth, Options.DetectorHeight, FitsBitpix.Float32, header, (float[])Flat(detector, band).Clone());
    }

    /// <summary>The defect mask of a detector: assembled science geometry, 1 for bad pixels (bad columns, hot pixels).</summary>
    public FitsImage CreateDefectMask(int detector)
    {
        var model = Model(detector);
        var header = CalibHeader(detector, "defects");
        header.Set("NDEFECT", (long)model.Defects.Count, "defect regions (columns and pixels)");
        header.AddComment("Defect mask: 1 = bad pixel, 0 = good.");
        return new FitsImage(Options.DetectorWidth, Options.DetectorHeight, FitsBitpix.UInt8, header, model.DefectMask());
    }

    /// <summary>The reference catalog: stars brighter than the limit with noisy AB magnitudes in the campaign's bands.</summary>
    public IReadOnlyList<(TruthSource Star, double[] Mags)> CreateReferenceCatalog()
    {
        string refBand = Options.Bands.Contains("r") ? "r" : Options.Bands[0];
        var rng = new SimRandom(Options.Seed, StreamPurpose.RefcatNoise);
        var result = new List<(TruthSource, double[])>();
        foreach (var s in Catalog)
        {
            if (s.Type != SourceType.Star || BandInfo.NanojanskyToMag(s.Flux(refBand)) >= Options.RefcatMagLimit)
            {
                continue;
            }
            result.Add((s, Options.Bands.Select(b => BandInfo.NanojanskyToMag(s.Flux(b)) + Options.RefcatMagNoise * rng.Gaussian()).ToArray()));
        }
        return result;
    }

    /// <summary>
    /// Writes the whole campaign under <paramref name="outputDirectory"/> (layout in the remarks of this type),
    /// overwriting earlier files, reporting one line per file written.
    /// </summary>
    public SimulationSummary WriteTo(string outputDirectory, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        var total = Stopwatch.StartNew();
        string rawDir = Directory.CreateDirectory(Path.Combine(outputDirectory, "raw")).FullName;
        string calibDir = Directory.CreateDirectory(Path.Combine(outputDirectory, "calib")).FullName;
        string truthDir = Directory.CreateDirectory(Path.Combine(outputDirectory, "truth")).FullName;

        File.WriteAllText(Path.Combine(outputDirectory, "simulation.json"), System.Text.Json.JsonSerializer.Serialize(Options, SimulationJson.Default.SimulationOptions));
        CatalogFiles.WriteTruth(Path.Combine(outputDirectory, "truth.csv"), Catalog, Options.Bands);
        var refcat = CreateReferenceCatalog();
        CatalogFiles.WriteReferenceCatalog(Path.Combine(outputDirectory, "refcat.csv"), refcat, Options.Bands, Options.RefcatMagNoise);
        CatalogFiles.WriteVisits(Path.Combine(outputDirectory, "visits.csv"), Visits);
        CatalogFiles.WriteAmplifiers(Path.Combine(truthDir, "amplifiers.csv"), Detectors.Select(d => (d, GetAmplifiers(d))));
        progress?.Report($"catalogs: {Catalog.Count} sources, {refcat.Count} reference stars, {Visits.Count} visits");

        int calibs = 0;
        foreach (int d in Detectors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            FitsFile.Write(Path.Combine(calibDir, $"bias_det_{d}.fits"), [CreateMasterBias(d)]);
            FitsFile.Write(Path.Combine(calibDir, $"defects_det_{d}.fits"), [CreateDefectMask(d)]);
            calibs += 2;
            foreach (string band in Options.Bands)
            {
                FitsFile.Write(Path.Combine(calibDir, $"flat_{band}_det_{d}.fits"), [CreateMasterFlat(d, band)]);
                calibs++;
            }
            progress?.Report($"calib: detector {d} bias, defects, flats {string.Join(',', Options.Bands)}");
        }

        int frames = 0, count = Visits.Count * Options.DetectorCount;
        var cosmics = new List<(int Visit, int Detector, CosmicRayTrack Track)>();
        foreach (var v in Visits)
        {
            foreach (int d in Detectors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                var frame = SimulateFrame(v.Visit, d);
                FitsFile.Write(Path.Combine(rawDir, $"visit_{v.Visit}_det_{d}.fits"), frame.Hdus);
                CatalogFiles.WriteFrameTruth(Path.Combine(truthDir, $"visit_{v.Visit}_det_{d}.csv"), frame.Sources);
                cosmics.AddRange(frame.CosmicRays.Select(c => (v.Visit, d, c)));
                frames++;
                progress?.Report(string.Create(CultureInfo.InvariantCulture,
                    $"raw {frames}/{count}: visit {v.Visit} detector {d} band {v.Band}, {frame.Sources.Count} sources, {sw.Elapsed.TotalSeconds:F1} s"));
            }
        }
        CatalogFiles.WriteCosmicRays(Path.Combine(truthDir, "cosmic_rays.csv"), cosmics);
        return new SimulationSummary(Path.GetFullPath(outputDirectory), frames, calibs, Catalog.Count, refcat.Count, total.Elapsed);
    }

    internal DetectorModel Model(int detector)
    {
        if (detector < 0 || detector >= Options.DetectorCount)
        {
            throw new ArgumentOutOfRangeException(nameof(detector), detector, $"detectors are 0..{Options.DetectorCount - 1}");
        }
        return _detectors.GetOrAdd(detector, d => new DetectorModel(Options, d));
    }

    /// <summary>The flat of a detector in a band; shared, never to be modified.</summary>
    private float[] Flat(int detector, string band) => _cacheFlats
        ? _flats.GetOrAdd((detector, band), k => new Lazy<float[]>(() => Model(k.Detector).Flat(k.Band))).Value
        : Model(detector).Flat(band);

    internal static GaussianComponent[] PsfMixture(double beta) => s_psfMixtures.GetOrAdd(beta, GaussianMixture.Moffat);

    private VisitInfo PlanVisit(int index)
    {
        var o = Options;
        var rng = new SimRandom(o.Seed, StreamPurpose.Visit, index);
        string band = o.Bands[index % o.Bands.Count];
        var info = BandInfo.Get(band);
        double radius = o.DitherRadiusArcsec * Math.Sqrt(rng.NextDouble());
        double angle = 2.0 * Math.PI * rng.NextDouble();
        var plane = new TanWcs(o.CenterRa, o.CenterDec, 1.0, 1.0, -1.0 / 3600.0, 0, 0, 1.0 / 3600.0);
        var (ra, dec) = plane.PixelToSky(radius * Math.Cos(angle), radius * Math.Sin(angle));
        double rotation = rng.Uniform(-o.RotationDitherDegrees, o.RotationDitherDegrees);
        double seeing = rng.Uniform(o.SeeingMinArcsec, o.SeeingMaxArcsec);
        // Photometric nights with a little extinction: transparency 1 − |N(0, 3%)|.
        double transparency = Math.Max(0.8, 1.0 - Math.Abs(0.03 * rng.Gaussian()));
        double skyMag = info.SkyMagPerArcsec2 + rng.Uniform(-0.1, 0.3);
        double electronsPerNJy = o.ExposureTimeSeconds * Math.Pow(10.0, 0.4 * (info.ZeroPointMag - BandInfo.NanojanskyZeroPointMag)) * transparency;
        double skyPerPixel = o.ExposureTimeSeconds * Math.Pow(10.0, -0.4 * (skyMag - info.ZeroPointMag)) * o.PixelScaleArcsec * o.PixelScaleArcsec;
        return new VisitInfo(o.FirstVisitId + index, band, o.MjdStart + index * o.VisitIntervalDays, o.ExposureTimeSeconds,
            ra, dec, rotation, seeing, electronsPerNJy, skyPerPixel);
    }

    private sealed record Placed(TruthSource Source, double X, double Y, double Electrons);

    private (List<Placed> Placed, List<FrameSource> OnFrame) PlaceSources(VisitInfo v, TanWcs wcs)
    {
        const double margin = 100.0;
        int w = Options.DetectorWidth, h = Options.DetectorHeight;
        int band = TruthSource.BandIndex(v.Band);
        var placed = new List<Placed>();
        var onFrame = new List<FrameSource>();
        foreach (var s in Catalog)
        {
            var (x, y) = wcs.SkyToPixel(s.Ra, s.Dec);
            if (!(x > -margin && x < w + margin && y > -margin && y < h + margin))
            {
                continue;
            }
            double electrons = s.FluxNJy[band] * v.ElectronsPerNJy;
            placed.Add(new Placed(s, x, y, electrons));
            if (x >= -0.5 && x < w - 0.5 && y >= -0.5 && y < h - 0.5)
            {
                onFrame.Add(new FrameSource(s.Id, s.Type, x, y, s.Ra, s.Dec, s.FluxNJy[band], electrons));
            }
        }
        return (placed, onFrame);
    }

    /// <summary>Renders a source of <paramref name="electrons"/> at ZERO-based pixel (x, y) of an image with this WCS.</summary>
    internal static Stamp Render(SourceRenderer renderer, TruthSource s, double x, double y, double electrons, TanWcs wcs)
    {
        if (s.Type == SourceType.Star)
        {
            return renderer.RenderStar(x, y, electrons);
        }
        // Sky shape (east, north; arcsec²) of a unit-variance component, carried to pixels by the local Jacobian.
        double cosDec = Math.Cos(s.Dec * Math.PI / 180.0);
        var (xe, ye) = wcs.SkyToPixel(s.Ra + 1.0 / 3600.0 / cosDec, s.Dec);
        var (xn, yn) = wcs.SkyToPixel(s.Ra, s.Dec + 1.0 / 3600.0);
        double j11 = xe - x, j21 = ye - y, j12 = xn - x, j22 = yn - y;
        double theta = s.PositionAngleDegrees * Math.PI / 180.0;
        double q = s.AxisRatio;
        double r2 = s.HalfLightRadiusArcsec * s.HalfLightRadiusArcsec;
        // Major axis along (sin θ, cos θ) in (east, north), area-preserving: a² = r²/q, b² = r² q.
        double ue = Math.Sin(theta), un = Math.Cos(theta);
        double see = r2 * (ue * ue / q + un * un * q);
        double sen = r2 * ue * un * (1.0 / q - q);
        double snn = r2 * (un * un / q + ue * ue * q);
        double pxx = j11 * j11 * see + 2 * j11 * j12 * sen + j12 * j12 * snn;
        double pxy = j11 * j21 * see + (j11 * j22 + j12 * j21) * sen + j12 * j22 * snn;
        double pyy = j21 * j21 * see + 2 * j21 * j22 * sen + j22 * j22 * snn;
        var profile = s.SersicIndex >= 2.5 ? GaussianMixture.DeVaucouleurs : GaussianMixture.Exponential;
        return renderer.RenderGalaxy(x, y, electrons, profile, (pxx, pxy, pyy));
    }

    private static void AddStamp(float[] e, float[] flat, int w, int h, Stamp s)
    {
        int jLo = Math.Max(0, -s.Y0), jHi = Math.Min(s.Height, h - s.Y0);
        int iLo = Math.Max(0, -s.X0), iHi = Math.Min(s.Width, w - s.X0);
        for (int j = jLo; j < jHi; j++)
        {
            int row = (s.Y0 + j) * w + s.X0;
            int srow = j * s.Width;
            for (int i = iLo; i < iHi; i++)
            {
                e[row + i] += s.Pixels[srow + i] * flat[row + i];
            }
        }
    }

    /// <summary>Straight, one-pixel-wide tracks of muon-like charge, at random positions and angles.</summary>
    private List<CosmicRayTrack> AddCosmicRays(float[] e, VisitInfo v, int detector)
    {
        int w = Options.DetectorWidth, h = Options.DetectorHeight;
        var rng = new SimRandom(Options.Seed, StreamPurpose.CosmicRays, v.Visit, detector);
        double pixelCm = Options.PixelSizeMicrons * 1e-4;
        double areaCm2 = w * (double)h * pixelCm * pixelCm;
        int n = (int)rng.Poisson(Options.CosmicRayRatePerCm2PerSecond * areaCm2 * v.ExposureTimeSeconds);
        var tracks = new List<CosmicRayTrack>(n);
        for (int k = 0; k < n; k++)
        {
            double x0 = rng.Uniform(-0.5, w - 0.5);
            double y0 = rng.Uniform(-0.5, h - 0.5);
            double length = Math.Min(-10.0 * Math.Log(1.0 - rng.NextDouble()), 80.0);
            double angle = rng.Uniform(0.0, 2.0 * Math.PI);
            double perPixel = 1200.0 * Math.Exp(0.4 * rng.Gaussian());
            double x1 = x0 + length * Math.Cos(angle);
            double y1 = y0 + length * Math.Sin(angle);
            int steps = Math.Max(1, (int)Math.Ceiling(length / 0.2));
            double perStep = perPixel * Math.Max(length, 1.0) / steps;
            double deposited = 0;
            for (int s = 0; s < steps; s++)
            {
                double t = (s + 0.5) / steps;
                int ix = (int)Math.Floor(x0 + t * (x1 - x0) + 0.5);
                int iy = (int)Math.Floor(y0 + t * (y1 - y0) + 0.5);
                if (ix >= 0 && ix < w && iy >= 0 && iy < h)
                {
                    e[iy * w + ix] += (float)perStep;
                    deposited += perStep;
                }
            }
            tracks.Add(new CosmicRayTrack(x0, y0, x1, y1, deposited));
        }
        return tracks;
    }

    /// <summary>
    /// Caps pixels at the full well; half the excess of each pixel runs up its column and half down, filling pixels
    /// to the full well, so charge is conserved except what runs off the ends of the column. Returns the number of
    /// pixels at full well.
    /// </summary>
    internal static int Bleed(float[] e, int w, int h, float fullWell, ParallelOptions par)
    {
        var hasExcess = new bool[w];
        Parallel.For(0, h, par, y =>
        {
            for (int x = 0, i = y * w; x < w; x++, i++)
            {
                if (e[i] > fullWell)
                {
                    hasExcess[x] = true;
                }
            }
        });
        var columns = Enumerable.Range(0, w).Where(x => hasExcess[x]).ToArray();
        Parallel.ForEach(columns, par, x =>
        {
            var half = new double[h];
            for (int y = 0; y < h; y++)
            {
                int i = y * w + x;
                if (e[i] > fullWell)
                {
                    half[y] = 0.5 * (e[i] - fullWell);
                    e[i] = fullWell;
                }
            }
            double carry = 0;
            for (int y = 0; y < h; y++)
            {
                carry += half[y];
                carry = Fill(e, y * w + x, carry, fullWell);
            }
            carry = 0;
            for (int y = h - 1; y >= 0; y--)
            {
                carry += half[y];
                carry = Fill(e, y * w + x, carry, fullWell);
            }
        });
        int count = 0;
        foreach (int x in columns)
        {
            for (int y = 0; y < h; y++)
            {
                if (e[y * w + x] >= fullWell)
                {
                    count++;
                }
            }
        }
        return count;

        static double Fill(float[] e, int i, double carry, float fullWell)
        {
            double room = fullWell - e[i];
            if (carry <= 0 || room <= 0)
            {
                return carry;
            }
            double take = Math.Min(room, carry);
            e[i] = (float)(e[i] + take);
            return carry - take;
        }
    }

    /// <summary>Reads the electrons out through the amplifiers into raw 16-bit ADU HDUs with their headers.</summary>
    private List<FitsImage> Readout(float[] e, VisitInfo v, DetectorModel model, TanWcs wcs, ParallelOptions par)
    {
        int w = Options.DetectorWidth;
        var raws = new float[model.Amps.Count][];
        Parallel.ForEach(model.Amps, par, a =>
        {
            var el = model.Electronics[a.Index];
            var rng = new SimRandom(Options.Seed, StreamPurpose.Readout, v.Visit, model.Detector, a.Index);
            double invGain = 1.0 / el.Gain;
            double readNoiseAdu = el.ReadNoiseElectrons * invGain;
            var rowLevel = new double[a.RawHeight];
            for (int r = 0; r < a.RawHeight; r++)
            {
                rowLevel[r] = el.BiasLevelAdu + el.RowNoiseAdu * rng.Gaussian();
            }
            var raw = new float[a.RawWidth * a.RawHeight];
            var structure = new double[a.DataWidth];
            for (int r = 0; r < a.RawHeight; r++)
            {
                int detRow = r < a.DataHeight ? a.DetY(r) * w : -1;
                if (detRow >= 0)
                {
                    model.BiasRow(a.Index, r, structure);
                }
                for (int c = 0; c < a.RawWidth; c++)
                {
                    double value = rowLevel[r] + readNoiseAdu * rng.Gaussian();
                    int u = c - a.Prescan;
                    if (detRow >= 0 && u >= 0 && u < a.DataWidth)
                    {
                        value += e[detRow + a.DetX(u)] * invGain + structure[u];
                    }
                    raw[r * a.RawWidth + c] = (float)Math.Clamp(Math.Round(value), 0.0, 65535.0);
                }
            }
            raws[a.Index] = raw;
        });

        var primary = PrimaryHeader(v, model, wcs);
        if (Options.Format == RawFormat.SingleHdu)
        {
            var a = model.Amps[0];
            var el = model.Electronics[0];
            primary.Set("DATASEC", a.DataSec, "data section").Set("TRIMSEC", a.DataSec, "science section")
                .Set("BIASSEC", a.BiasSec, "serial overscan section")
                .Set("GAIN", el.Gain, "[e-/ADU]").Set("RDNOISE", el.ReadNoiseElectrons, "[e-]")
                .Set("SATURATE", el.SaturateAdu, "[ADU] raw level, bias included");
            return [Raw16(a, primary, raws[0])];
        }
        primary.Set("GAIN", model.Electronics.Average(x => x.Gain), "[e-/ADU] mean over amplifiers; see extensions")
            .Set("RDNOISE", model.Electronics.Average(x => x.ReadNoiseElectrons), "[e-] mean over amplifiers; see extensions")
            .Set("SATURATE", model.Electronics.Min(x => x.SaturateAdu), "[ADU] lowest over amplifiers; see extensions");
        var hdus = new List<FitsImage>(model.Amps.Count + 1) { FitsImage.HeaderOnly(primary) };
        foreach (var a in model.Amps)
        {
            var el = model.Electronics[a.Index];
            var h = new FitsHeader()
                .Set("EXTNAME", a.Name, "amplifier")
                .Set("BUNIT", "adu")
                .Set("DATASEC", a.DataSec, "data section")
                .Set("BIASSEC", a.BiasSec, "serial overscan section")
                .Set("DETSEC", a.DetSec, "place of DATASEC in the assembled detector")
                .Set("GAIN", el.Gain, "[e-/ADU]")
                .Set("RDNOISE", el.ReadNoiseElectrons, "[e-]")
                .Set("SATURATE", el.SaturateAdu, "[ADU] raw level, bias included");
            hdus.Add(Raw16(a, h, raws[a.Index]));
        }
        return hdus;
    }

    private static FitsImage Raw16(AmpLayout a, FitsHeader header, float[] pixels)
    {
        header.Set("BZERO", 32768L, "unsigned 16-bit ADU").Set("BSCALE", 1L);
        return new FitsImage(a.RawWidth, a.RawHeight, FitsBitpix.Int16, header, pixels);
    }

    private FitsHeader PrimaryHeader(VisitInfo v, DetectorModel model, TanWcs wcs)
    {
        var info = BandInfo.Get(v.Band);
        var h = new FitsHeader()
            .Set("INSTRUME", InstrumentName, "simulated LSSTCam-like camera")
            .Set("TELESCOP", "LSST", "simulated")
            .Set("OBSTYPE", "science")
            .Set("FILTER", info.Filter)
            .Set("BAND", info.Band)
            .Set("EXPTIME", v.ExposureTimeSeconds, "[s]")
            .Set("MJD-OBS", v.Mjd, "[d] start of exposure (UTC)")
            .Set("DATE-OBS", MjdToIso(v.Mjd), "start of exposure (UTC)")
            .Set("VISIT", (long)v.Visit)
            .Set("DETECTOR", (long)model.Detector)
            .Set("DETNAME", string.Create(CultureInfo.InvariantCulture, $"S{model.Detector:D3}"))
            .Set("BORE-RA", v.BoresightRa, "[deg] boresight")
            .Set("BORE-DEC", v.BoresightDec, "[deg] boresight")
            .Set("ROTPA", v.RotationDegrees, "[deg] sky rotation")
            .Set("BUNIT", "adu")
            .Set("DETSIZE", string.Create(CultureInfo.InvariantCulture, $"[1:{Options.DetectorWidth},1:{Options.DetectorHeight}]"), "assembled science area")
            .Set("SIMSEED", Options.Seed, "simulation seed");
        wcs.WriteTo(h);
        return h;
    }

    private FitsHeader CalibHeader(int detector, string type) => new FitsHeader()
        .Set("INSTRUME", InstrumentName)
        .Set("OBSTYPE", type)
        .Set("DETECTOR", (long)detector)
        .Set("DETNAME", string.Create(CultureInfo.InvariantCulture, $"S{detector:D3}"))
        .Set("SIMSEED", Options.Seed, "simulation seed");

    private static string MjdToIso(double mjd) =>
        new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddDays(mjd).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);
}

/// <summary><c>simulation.json</c>, generated at compile time (no reflection: a native build of drp writes it too).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SimulationOptions))]
internal sealed partial class SimulationJson : System.Text.Json.Serialization.JsonSerializerContext;
