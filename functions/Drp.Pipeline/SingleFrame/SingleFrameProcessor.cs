using System.Runtime.Intrinsics;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// Everything single-frame processing needs, in memory. <see cref="PixelToSky"/> maps zero-based pixel coordinates
/// (pixel centres at integers, LSST convention; a FITS WCS needs x + 1, y + 1) to (RA, Dec) in degrees.
/// </summary>
public sealed record SingleFrameInputs(
    RawFrame Raw,
    FitsImage Bias,
    FitsImage Flat,
    DefectMap? Defects,
    Func<double, double, (double Ra, double Dec)> PixelToSky,
    IReadOnlyList<ReferenceObject> ReferenceObjects,
    long Visit,
    int Detector,
    string Band)
{
    /// <summary>
    /// The raw's TAN WCS behind <see cref="PixelToSky"/>. When set, the astrometric fit against the reference objects
    /// refines it (TAN + linear correction) and the sources' coordinates come from the fitted WCS.
    /// </summary>
    public TanWcs? Wcs { get; init; }

    /// <summary>
    /// The caller uses <see cref="Bias"/> and <see cref="Flat"/> for this frame only: ISR may turn their pixel arrays
    /// into the calexp's image and variance planes (<see cref="IsrTask.Run(IReadOnlyList{FitsImage}, FitsImage, FitsImage, FitsImage?, IsrConfig, bool)"/>).
    /// </summary>
    public bool ConsumeCalibrations { get; init; }
}

/// <summary>Configuration of <see cref="SingleFrameProcessor"/>: one record per stage.</summary>
public sealed record SingleFrameConfig
{
    public IsrConfig Isr { get; init; } = new();

    public BackgroundConfig Background { get; init; } = new();

    public DetectionConfig Detection { get; init; } = new();

    public MeasurementConfig Measurement { get; init; } = new();

    public DeblendConfig Deblend { get; init; } = new();

    public PsfConfig Psf { get; init; } = new();

    public CosmicRayConfig CosmicRay { get; init; } = new();

    public AstrometryConfig Astrometry { get; init; } = new();

    public PhotoCalConfig PhotoCal { get; init; } = new() { UsePsfFlux = true };

    /// <summary>Re-estimate the background with the first detections masked, then detect again (LSST does the same).</summary>
    public bool RefineBackground { get; init; } = true;

    /// <summary>
    /// With <see cref="RefineBackground"/>, the first detection runs on the image binned this many times in each
    /// direction (<see cref="DetectionConfig.Binning"/>): its footprints only mask the sources for the refined
    /// background and give the bright stars of the first PSF, and the second detection, whose footprints are measured,
    /// runs at full resolution. 1 detects at full resolution both times.
    /// </summary>
    public int FirstDetectionBinning { get; init; } = 2;

    /// <summary>Minimum calibFlux signal-to-noise of the clean sources whose moments estimate the seeing.</summary>
    public double SeeingMinSignalToNoise { get; init; } = 50.0;

    public static SingleFrameConfig Default { get; } = new();
}

/// <summary>The outcome of single-frame processing: the products, or the reason the exposure is unprocessable.</summary>
public abstract record SingleFrameResult
{
    private SingleFrameResult()
    {
    }

    /// <summary>The calexp (background subtracted, electrons), its background, the sources and the CcdVisit summary.</summary>
    public sealed record Processed(
        Exposure Calexp, BackgroundModel Background, IReadOnlyList<SourceRecord> Sources, CcdVisitSummary Summary) : SingleFrameResult
    {
        /// <summary>The astrometric solution (null when the inputs carried no <see cref="SingleFrameInputs.Wcs"/>).</summary>
        public AstrometricSolution? Astrometry { get; init; }

        /// <summary>The PSF the sources were measured with (carried by the calexp for coaddition).</summary>
        public MoffatPsf? Psf { get; init; }
    }

    /// <summary>A typed "cannot be processed" outcome (not an error): record it with its reason and move on.</summary>
    public sealed record Unprocessable(UnprocessableReason Reason, string Message) : SingleFrameResult;
}

/// <summary>
/// Single-frame processing as a pure function: ISR, background, detection (on the image binned 2 x 2: this first pass
/// only masks sources and finds bright stars), a first PSF from the bright detections,
/// cosmic-ray detection and repair, a second background pass with the detections masked and detection again at full
/// resolution (filter matched to the first PSF), measurement, PSF determination (elliptical Moffat from selected stars), deblending,
/// PSF photometry, Kron flux and extendedness, the astrometric fit (when the inputs carry the raw's TAN WCS),
/// photometric calibration on psfFlux, then the Source records and the
/// CcdVisit summary. Bad inputs throw <see cref="IsrInputException"/>; an exposure
/// without usable reference objects returns <see cref="SingleFrameResult.Unprocessable"/>.
/// </summary>
public static class SingleFrameProcessor
{
    /// <param name="timings">When given, each stage's wall time is charged to it.</param>
    public static SingleFrameResult Run(SingleFrameInputs inputs, SingleFrameConfig config, StageTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(config);
        long ccdVisitId = CcdVisitId.Pack(inputs.Visit, inputs.Detector);

        timings?.Skip();
        var exposure = IsrTask.Run(inputs.Raw, inputs.Bias, inputs.Flat, inputs.Defects, config.Isr, inputs.ConsumeCalibrations);
        timings?.Lap("isr");
        // The sky noise comes from the final background-subtracted image (below), so no pass measures it per mesh cell.
        var background = BackgroundEstimator.Estimate(exposure, config.Background, includeNoise: false);
        BackgroundEstimator.Subtract(exposure, background);
        timings?.Lap("background");
        var footprints = SourceDetector.Detect(exposure,
            config.RefineBackground ? config.Detection with { Binning = config.FirstDetectionBinning } : config.Detection);
        timings?.Lap("detection");
        int cosmicRayPixels = 0;
        MoffatPsf? firstPsf = null;
        if (config.CosmicRay.Enabled)
        {
            // A first PSF from the bright footprints only (cheap), sharp enough a yardstick for cosmic rays.
            var bright = footprints.Where(f => f.Peaks.Count > 0 && f.Peaks[0].Significance >= config.Psf.MinSignalToNoise).ToList();

            firstPsf = PsfDeterminer.Determine(exposure, SourceMeasurer.MeasurePsfCandidates(exposure, bright, config.Measurement), config.Psf);
            timings?.Lap("first psf");
            cosmicRayPixels = CosmicRayFinder.FindAndRepair(exposure, firstPsf, config.CosmicRay);
            timings?.Lap("cosmic rays");
        }
        if (config.RefineBackground || cosmicRayPixels > 0)
        {
            // The second pass: background with the detections masked and the cosmic rays repaired, detection again.
            background = BackgroundEstimator.Refine(exposure, background, config.Background, includeNoise: false);
            ClearPlane(exposure, MaskPlane.Detected);
            timings?.Lap("background refinement");
            // With a measured first PSF, the second detection's filter matches it (the default sigma is a guess).
            var detection = firstPsf is { StarCount: > 0 } ? config.Detection with { PsfSigma = firstPsf.MatchedFilterSigma() } : config.Detection;
            footprints = SourceDetector.Detect(exposure, detection);
            timings?.Lap("second detection");
        }
        // The noise of the final background-subtracted image.
        double skyNoise = BackgroundEstimator.SkyNoise(exposure, config.Background);
        var measured = SourceMeasurer.Measure(exposure, footprints, config.Measurement);
        timings?.Lap("measurement");
        var psf = PsfDeterminer.Determine(exposure, measured, config.Psf, start: firstPsf);
        timings?.Lap("psf");
        measured = Deblender.Run(exposure, footprints, measured, psf, config.Measurement, config.Psf, config.Deblend);
        timings?.Lap("deblending");
        measured = PsfPhotometry.Measure(exposure, measured, psf, config.Psf);
        timings?.Lap("psf photometry");

        var pixelToSky = inputs.PixelToSky;
        AstrometricSolution? astrometry = null;
        if (inputs.Wcs is { } rawWcs)
        {
            astrometry = AstrometricFit.Fit(measured, rawWcs, inputs.ReferenceObjects, exposure.Width, exposure.Height, config.Astrometry);
            pixelToSky = astrometry.Wcs.PixelToSky;
        }
        var coords = new (double Ra, double Dec)[measured.Count];
        for (int i = 0; i < measured.Count; i++)
        {
            coords[i] = pixelToSky(measured[i].X, measured[i].Y);
        }
        var sky = DetectorSky.From(pixelToSky, exposure.Width, exposure.Height);
        var outcome = PhotometricCalibration.Run(measured, coords, inputs.ReferenceObjects, sky, config.PhotoCal);
        if (outcome is PhotoCalOutcome.Failed failed)
        {
            return new SingleFrameResult.Unprocessable(failed.Reason, failed.Message);
        }
        var calibrated = (PhotoCalOutcome.Calibrated)outcome;
        timings?.Lap("astrometry and calibration");
        var calib = calibrated.Calib;

        var sources = new SourceRecord[measured.Count];
        for (int i = 0; i < measured.Count; i++)
        {
            sources[i] = ToRecord(measured[i], psf, coords[i], calib, SourceId.Pack(ccdVisitId, i), ccdVisitId, inputs);
        }
        double? psfSigma = psf.StarCount > 0 ? psf.Sigma : EstimatePsfSigma(measured, config.SeeingMinSignalToNoise);
        var c = sky.Corners;
        // The exposure's time and start are what ingest checks and the CcdVisit and Visit rows carry; a raw without
        // them is invalid input (FitsFormatException, never retried), not a row with a made-up epoch.
        var header = inputs.Raw.PrimaryHeader;
        double expTime = header.GetDouble("EXPTIME"), mjdObs = header.GetDouble("MJD-OBS");
        var summary = new CcdVisitSummary(
            ccdVisitId, inputs.Visit, inputs.Detector, inputs.Band,
            calib.ZeroPoint, calib.ZeroPointErr, calib.NanojanskyPerElectron,
            sources.Length, calib.MatchCount,
            psf.StarCount, psf.Beta, psf.Ixx, psf.Iyy, psf.Ixy,
            background.Level, skyNoise,
            psfSigma * 2.0 * Math.Sqrt(2.0 * Math.Log(2.0)) * sky.PixelScaleArcsec, psfSigma, sky.PixelScaleArcsec,
            c[0].Ra, c[0].Dec, c[3].Ra, c[3].Dec, c[2].Ra, c[2].Dec, c[1].Ra, c[1].Dec,
            expTime, mjdObs + expTime / 2 / 86400.0, header.TryGetDouble("AIRMASS", out double airmass) ? airmass : null);
        timings?.Lap("source records");
        return new SingleFrameResult.Processed(exposure, background, sources, summary) { Astrometry = astrometry, Psf = psf };
    }

    private static void ClearPlane(Exposure exposure, MaskPlane plane)
    {
        ushort keep = (ushort)~(ushort)plane;
        var mask = exposure.Mask.AsSpan();
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var k = Vector256.Create(keep);
            for (; i + Vector256<ushort>.Count <= mask.Length; i += Vector256<ushort>.Count)
            {
                var slice = mask.Slice(i, Vector256<ushort>.Count);
                (Vector256.Create(slice) & k).CopyTo(slice);
            }
        }
        for (; i < mask.Length; i++)
        {
            mask[i] &= keep;
        }
    }

    internal static SourceRecord ToRecord(
        MeasuredSource m, MoffatPsf psf, (double Ra, double Dec) coord, PhotoCalib calib, long sourceId, long ccdVisitId, SingleFrameInputs inputs)
    {
        double Flux(int a) => calib.ToNanojansky(m.ApertureFlux[a]);
        double Err(int a) => calib.ToNanojanskyErr(m.ApertureFlux[a], m.ApertureFluxErr[a]);
        int ci = Apertures.CalibIndex;
        return new SourceRecord(
            sourceId, ccdVisitId, inputs.Visit, inputs.Detector, inputs.Band,
            coord.Ra, coord.Dec, m.X, m.Y, m.CentroidFlag,
            calib.ToNanojansky(m.PsfInstFlux), calib.ToNanojanskyErr(m.PsfInstFlux, m.PsfInstFluxErr), m.PsfFluxFlag,
            m.PsfInstFlux, m.PsfInstFluxErr,
            Flux(0), Err(0), m.ApertureFlag[0],
            Flux(1), Err(1), m.ApertureFlag[1],
            Flux(2), Err(2), m.ApertureFlag[2],
            Flux(3), Err(3), m.ApertureFlag[3],
            Flux(4), Err(4), m.ApertureFlag[4],
            Flux(5), Err(5), m.ApertureFlag[5],
            Flux(ci), Err(ci), m.ApertureFlag[ci],
            m.ApertureFlux[ci], m.ApertureFluxErr[ci],
            calib.ToNanojansky(m.KronInstFlux), calib.ToNanojanskyErr(m.KronInstFlux, m.KronInstFluxErr), m.KronRadius, m.KronFluxFlag,
            m.Extendedness,
            m.Ixx, m.Iyy, m.Ixy, m.ShapeFlag,
            psf.Ixx, psf.Iyy, psf.Ixy,
            m.PixelFlagsSaturated, m.PixelFlagsEdge, m.PixelFlagsInterpolated, m.PixelFlagsCr, m.PixelFlagsBad);
    }

    /// <summary>
    /// Sigma-clipped median of sqrt((ixx + iyy) / 2) over clean sources above the signal-to-noise cut; clipping
    /// rejects most galaxies, which are larger than the PSF. Null when no source qualifies.
    /// </summary>
    internal static double? EstimatePsfSigma(IReadOnlyList<MeasuredSource> measured, double minSignalToNoise)
    {
        var sizes = new float[measured.Count];
        int n = 0;
        foreach (var m in measured)
        {
            bool clean = !m.ShapeFlag && !m.CentroidFlag && !m.PixelFlagsSaturated && !m.PixelFlagsEdge
                && !m.CenterMasked && m.CalibInstFluxErr > 0
                && m.CalibInstFlux >= minSignalToNoise * m.CalibInstFluxErr;
            if (clean)
            {
                sizes[n++] = (float)Math.Sqrt(0.5 * (m.Ixx + m.Iyy));
            }
        }
        if (n == 0)
        {
            return null;
        }
        return RobustStatistics.SigmaClip(sizes.AsSpan(0, n), 3.0, 5).Median;
    }
}
