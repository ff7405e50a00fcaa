namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="PhotometricCalibration"/>.</summary>
public sealed record PhotoCalConfig
{
    public double MatchRadiusArcsec { get; init; } = 1.0;

    /// <summary>Fewer usable matches than this makes the exposure unprocessable.</summary>
    public int MinMatches { get; init; } = 3;

    /// <summary>Only sources with calibFlux signal-to-noise at least this calibrate.</summary>
    public double MinSignalToNoise { get; init; } = 10.0;

    /// <summary>
    /// Calibrate on psfFlux (total flux of the unit-flux PSF model, so the zero point is the total-flux one) rather
    /// than on the 12-pixel calibFlux, which misses the PSF's wings beyond 12 pixels (about 1 % for a Moffat β 3.5).
    /// </summary>
    public bool UsePsfFlux { get; init; }

    public double ClipSigma { get; init; } = 3.0;

    public int ClipIterations { get; init; } = 5;
}

/// <summary>Why an exposure cannot be processed; recorded as an outcome, not thrown.</summary>
public enum UnprocessableReason
{
    /// <summary>No reference object falls on the detector ("No reference objects supplied" in DP0.2).</summary>
    NoReferenceObjects,
    /// <summary>Reference objects fall on the detector but too few usable sources match them.</summary>
    TooFewReferenceMatches,
}

/// <summary>
/// A photometric calibration: <see cref="NanojanskyPerElectron"/> converts an instFlux in electrons to nJy.
/// <see cref="ZeroPoint"/> is the AB magnitude of a source giving 1 electron in this exposure (not per second):
/// zeroPoint = 31.4 - 2.5 log10(nJy per electron).
/// </summary>
public sealed record PhotoCalib(double NanojanskyPerElectron, double NanojanskyPerElectronErr, int MatchCount, int UsedCount)
{
    public double ZeroPoint => 31.4 - 2.5 * Math.Log10(NanojanskyPerElectron);

    public double ZeroPointErr => 2.5 / Math.Log(10) * NanojanskyPerElectronErr / NanojanskyPerElectron;

    public double ToNanojansky(double electrons) => electrons * NanojanskyPerElectron;

    /// <summary>
    /// Error in nJy of a flux of <paramref name="electrons"/> ± <paramref name="electronsErr"/>, with the calibration's
    /// own relative error added in quadrature, as DP0.2 calibrates Source errors.
    /// </summary>
    public double ToNanojanskyErr(double electrons, double electronsErr)
    {
        double calibTerm = electrons * NanojanskyPerElectronErr;
        double measureTerm = electronsErr * NanojanskyPerElectron;
        return Math.Sqrt(measureTerm * measureTerm + calibTerm * calibTerm);
    }
}

/// <summary>Either a calibration or the reason there is none.</summary>
public abstract record PhotoCalOutcome
{
    private PhotoCalOutcome()
    {
    }

    /// <summary>The calibration and the matches it came from (indices into the caller's source and reference lists).</summary>
    public sealed record Calibrated(PhotoCalib Calib, IReadOnlyList<SkyMatch> Matches) : PhotoCalOutcome;

    /// <summary>No calibration: the exposure is unprocessable for <see cref="Reason"/>.</summary>
    public sealed record Failed(UnprocessableReason Reason, string Message) : PhotoCalOutcome;
}

/// <summary>
/// Simple photometric calibration: match sources to reference objects on the sky, then take the sigma-clipped median
/// of instFlux / refFlux (calibFlux, or psfFlux with <see cref="PhotoCalConfig.UsePsfFlux"/>) (electrons per nJy) over clean, significant matches; its error is the standard error of the
/// median, 1.2533 sigma / sqrt(n).
/// </summary>
public static class PhotometricCalibration
{
    public static PhotoCalOutcome Run(
        IReadOnlyList<MeasuredSource> sources,
        IReadOnlyList<(double Ra, double Dec)> coords,
        IReadOnlyList<ReferenceObject> references,
        DetectorSky detector,
        PhotoCalConfig config)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(coords);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(config);
        if (coords.Count != sources.Count)
        {
            throw new ArgumentException("one sky position per source is required", nameof(coords));
        }

        var onDetector = new List<ReferenceObject>();
        var onDetectorIndex = new List<int>();
        for (int i = 0; i < references.Count; i++)
        {
            var r = references[i];
            if (double.IsFinite(r.FluxNJy) && r.FluxNJy > 0 && detector.Contains(r.Ra, r.Dec))
            {
                onDetector.Add(r);
                onDetectorIndex.Add(i);
            }
        }
        if (onDetector.Count == 0)
        {
            return new PhotoCalOutcome.Failed(UnprocessableReason.NoReferenceObjects,
                $"unprocessable: no reference objects on the detector ({references.Count} supplied)");
        }

        var usable = new List<int>();
        var usableCoords = new List<(double Ra, double Dec)>();
        for (int i = 0; i < sources.Count; i++)
        {
            if (IsCalibrationCandidate(sources[i], config))
            {
                usable.Add(i);
                usableCoords.Add(coords[i]);
            }
        }
        var local = SkyMatcher.Match(usableCoords, onDetector, config.MatchRadiusArcsec);
        if (local.Count < config.MinMatches)
        {
            return new PhotoCalOutcome.Failed(UnprocessableReason.TooFewReferenceMatches,
                $"unprocessable: {local.Count} reference matches, at least {config.MinMatches} needed ({onDetector.Count} reference objects on the detector, {usable.Count} usable sources)");
        }

        var ratios = new float[local.Count];
        var matches = new SkyMatch[local.Count];
        for (int k = 0; k < local.Count; k++)
        {
            var m = local[k];
            ratios[k] = (float)(InstFlux(sources[usable[m.SourceIndex]], config).Flux / onDetector[m.ReferenceIndex].FluxNJy);
            // Report indices into the caller's lists, not the filtered ones.
            matches[k] = m with { SourceIndex = usable[m.SourceIndex], ReferenceIndex = onDetectorIndex[m.ReferenceIndex] };
        }
        var stats = RobustStatistics.SigmaClip(ratios, config.ClipSigma, config.ClipIterations);
        double ratio = stats.Median;
        if (!(ratio > 0))
        {
            return new PhotoCalOutcome.Failed(UnprocessableReason.TooFewReferenceMatches,
                $"unprocessable: the median instFlux/refFlux of {local.Count} matches is not positive");
        }
        double ratioErr = stats.Count > 1 ? 1.2533 * stats.StdDev / Math.Sqrt(stats.Count) : ratio;
        var calib = new PhotoCalib(1.0 / ratio, ratioErr / (ratio * ratio), local.Count, stats.Count);
        return new PhotoCalOutcome.Calibrated(calib, matches);
    }

    /// <summary>
    /// Clean and significant: no saturation in the aperture (it biases the flux), aperture on the image, no masked
    /// pixel at the centre. An interpolated pixel in the wings is accepted, as LSST accepts it: a defect column
    /// would otherwise remove every star within 12 pixels of it.
    /// </summary>
    private static bool IsCalibrationCandidate(MeasuredSource s, PhotoCalConfig config)
    {
        var (flux, err, flag) = InstFlux(s, config);
        return !s.CentroidFlag && !s.PixelFlagsSaturated && !s.PixelFlagsEdge && !s.CenterMasked
            && !flag && err > 0 && flux >= config.MinSignalToNoise * err;
    }

    private static (double Flux, double Err, bool Flag) InstFlux(MeasuredSource s, PhotoCalConfig config) =>
        config.UsePsfFlux ? (s.PsfInstFlux, s.PsfInstFluxErr, s.PsfFluxFlag)
        : (s.CalibInstFlux, s.CalibInstFluxErr, s.ApertureFlag[Apertures.CalibIndex]);
}
