namespace Drp.Pipeline.Simulation;

/// <summary>How raw frames are written.</summary>
public enum RawFormat
{
    /// <summary>
    /// LSSTCam-like: a primary HDU with no data, then one IMAGE extension per amplifier (prescan, data, serial
    /// overscan, parallel-overscan rows) with DATASEC, BIASSEC, DETSEC, GAIN, RDNOISE, SATURATE.
    /// </summary>
    MultiExtension,

    /// <summary>One HDU read through one amplifier: the data area plus one serial-overscan strip on the right, with DATASEC, BIASSEC, TRIMSEC.</summary>
    SingleHdu,
}

/// <summary>
/// A CCD's amplifier layout. The assembled science area is <see cref="Width"/> × <see cref="Height"/> =
/// (AmpColumns × AmpDataWidth) × (AmpRows × AmpDataHeight). Each raw amplifier is <see cref="RawAmpWidth"/> ×
/// <see cref="RawAmpHeight"/>: prescan columns, data columns, serial-overscan columns; data rows then
/// parallel-overscan rows. <see cref="LsstCamItl"/> is the ITL CCD of DP02-FACTS (16 amplifiers of 509 × 2000 data,
/// 3 prescan, 32 serial-overscan columns, 48 parallel-overscan rows; 4072 × 4000 assembled).
/// </summary>
public sealed record DetectorGeometry
{
    public int AmpColumns { get; init; } = 8;

    /// <summary>1 or 2. With 2, the top row is read out from the top edge: its DETSEC runs backwards in x and y.</summary>
    public int AmpRows { get; init; } = 2;

    public int AmpDataWidth { get; init; } = 509;

    public int AmpDataHeight { get; init; } = 2000;

    public int PrescanColumns { get; init; } = 3;

    public int SerialOverscanColumns { get; init; } = 32;

    public int ParallelOverscanRows { get; init; } = 48;

    /// <summary>Assembled science width, pixels.</summary>
    public int Width => AmpColumns * AmpDataWidth;

    /// <summary>Assembled science height, pixels.</summary>
    public int Height => AmpRows * AmpDataHeight;

    public int RawAmpWidth => PrescanColumns + AmpDataWidth + SerialOverscanColumns;

    public int RawAmpHeight => AmpDataHeight + ParallelOverscanRows;

    /// <summary>The LSSTCam ITL CCD (DP02-FACTS, Geometry): 8 × 2 amplifiers, 4072 × 4000.</summary>
    public static DetectorGeometry LsstCamItl { get; } = new();

    /// <summary>
    /// A detector of <paramref name="width"/> × <paramref name="height"/> science pixels read by
    /// <paramref name="ampColumns"/> × <paramref name="ampRows"/> amplifiers (the sizes must divide evenly), with the
    /// ITL prescan and serial overscan and parallel-overscan rows scaled down for small amplifiers.
    /// </summary>
    public static DetectorGeometry Create(int width, int height, int ampColumns = 2, int ampRows = 2)
    {
        if (ampColumns <= 0 || ampRows <= 0 || width % ampColumns != 0 || height % ampRows != 0)
        {
            throw new ArgumentException($"a {width} x {height} detector cannot be split into {ampColumns} x {ampRows} equal amplifiers");
        }
        int ampHeight = height / ampRows;
        var g = new DetectorGeometry
        {
            AmpColumns = ampColumns,
            AmpRows = ampRows,
            AmpDataWidth = width / ampColumns,
            AmpDataHeight = ampHeight,
            ParallelOverscanRows = Math.Clamp(ampHeight / 40, 4, 48),
        };
        g.Validate();
        return g;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the layout cannot be simulated.</summary>
    public void Validate()
    {
        if (AmpColumns is < 1 or > 10 || AmpRows is < 1 or > 2)
        {
            throw new ArgumentException($"amplifier layout {AmpColumns} x {AmpRows}: need 1-10 columns and 1-2 rows (names Segment1c / Segment0c)");
        }
        if (AmpDataWidth < 16 || AmpDataHeight < 16)
        {
            throw new ArgumentException($"amplifier data {AmpDataWidth} x {AmpDataHeight} is smaller than 16 x 16");
        }
        if (PrescanColumns < 0 || ParallelOverscanRows < 0 || SerialOverscanColumns < 4)
        {
            throw new ArgumentException("prescan and parallel overscan must be >= 0 and the serial overscan >= 4 columns");
        }
    }
}

/// <summary>
/// Everything that defines a simulated campaign. The same options and <see cref="Seed"/> give bit-identical outputs,
/// whatever the order in which frames are generated and however many threads generate them.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Root of every random stream.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Number of visits; visit ids are <see cref="FirstVisitId"/>, +1, ... and visit k observes band Bands[k % Bands.Count].</summary>
    public int VisitCount { get; init; } = 6;

    public int FirstVisitId { get; init; } = 1000;

    /// <summary>Bands observed, cycled over visits (u, g, r, i, z, y).</summary>
    public IReadOnlyList<string> Bands { get; init; } = ["g", "r", "i"];

    /// <summary>Detectors per visit are a grid of DetectorColumns × DetectorRows, ids 0.. row-major from the bottom left.</summary>
    public int DetectorColumns { get; init; } = 2;

    public int DetectorRows { get; init; } = 2;

    /// <summary>Gap between neighbouring detectors on the focal plane, pixels.</summary>
    public int DetectorGapPixels { get; init; } = 100;

    public DetectorGeometry Detector { get; init; } = DetectorGeometry.Create(1024, 1024);

    public RawFormat Format { get; init; } = RawFormat.MultiExtension;

    /// <summary>Field centre (the boresight before dithering), degrees; DC2 is centred near (61.9, −35.8).</summary>
    public double CenterRa { get; init; } = 61.9;

    public double CenterDec { get; init; } = -35.8;

    public double PixelScaleArcsec { get; init; } = 0.2;

    /// <summary>Physical pixel size, micrometres (cosmic-ray rate per area).</summary>
    public double PixelSizeMicrons { get; init; } = 10.0;

    /// <summary>Boresights are dithered uniformly within a disc of this radius about the field centre.</summary>
    public double DitherRadiusArcsec { get; init; } = 60.0;

    /// <summary>Sky rotation of each visit is uniform in ±this, degrees.</summary>
    public double RotationDitherDegrees { get; init; } = 2.0;

    /// <summary>Extra sky simulated around the dithered focal plane, arcseconds.</summary>
    public double SkyMarginArcsec { get; init; } = 30.0;

    public double StarDensityPerArcmin2 { get; init; } = 2.0;

    public double GalaxyDensityPerArcmin2 { get; init; } = 20.0;

    /// <summary>Star r-band magnitude range (AB); counts rise as 10^(0.15 m).</summary>
    public double StarMagBright { get; init; } = 16.0;

    public double StarMagFaint { get; init; } = 24.0;

    /// <summary>Galaxy r-band magnitude range (AB); counts rise as 10^(0.33 m).</summary>
    public double GalaxyMagBright { get; init; } = 19.0;

    public double GalaxyMagFaint { get; init; } = 25.0;

    /// <summary>Stars brighter than this in r (or the first band when r is not observed) go into the reference catalog.</summary>
    public double RefcatMagLimit { get; init; } = 21.0;

    /// <summary>Gaussian noise added to reference-catalog magnitudes, mag.</summary>
    public double RefcatMagNoise { get; init; } = 0.01;

    public double ExposureTimeSeconds { get; init; } = 30.0;

    public double MjdStart { get; init; } = 60000.05;

    public double VisitIntervalDays { get; init; } = 40.0 / 86400.0;

    /// <summary>Per-visit seeing (PSF FWHM) is uniform in [SeeingMinArcsec, SeeingMaxArcsec].</summary>
    public double SeeingMinArcsec { get; init; } = 0.6;

    public double SeeingMaxArcsec { get; init; } = 1.0;

    /// <summary>Moffat β of the PSF.</summary>
    public double MoffatBeta { get; init; } = 3.5;

    /// <summary>Cosmic rays per cm² of silicon per second of exposure.</summary>
    public double CosmicRayRatePerCm2PerSecond { get; init; } = 0.1;

    /// <summary>Bad (hot or dead) columns per million pixels of each detector (fixed per detector).</summary>
    public double BadColumnsPerMegapixel { get; init; } = 0.3;

    /// <summary>Isolated hot pixels per million pixels of each detector.</summary>
    public double HotPixelsPerMegapixel { get; init; } = 2.0;

    /// <summary>Full well, electrons: charge beyond it bleeds along the column. At most 81,000 so saturated pixels stay within 16 bits.</summary>
    public double FullWellElectrons { get; init; } = 80000.0;

    /// <summary>Threads per frame; null uses all cores. Results do not depend on it.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>The assembled detector size, pixels.</summary>
    public int DetectorWidth => Detector.Width;

    public int DetectorHeight => Detector.Height;

    public int DetectorCount => DetectorColumns * DetectorRows;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first unusable option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Detector);
        ArgumentNullException.ThrowIfNull(Bands);
        Detector.Validate();
        Require(VisitCount >= 1, nameof(VisitCount), "must be at least 1");
        Require(FirstVisitId >= 0, nameof(FirstVisitId), "must not be negative");
        Require(Bands.Count >= 1, nameof(Bands), "must name at least one band");
        Require(Bands.Distinct().Count() == Bands.Count, nameof(Bands), "must not repeat a band");
        foreach (string b in Bands)
        {
            BandInfo.Get(b);
        }
        Require(DetectorColumns >= 1 && DetectorRows >= 1 && DetectorCount <= 1000, nameof(DetectorColumns), "detector grid must be 1x1 to 1000 detectors");
        Require(DetectorGapPixels >= 0, nameof(DetectorGapPixels), "must not be negative");
        Require(CenterDec is > -80 and < 80, nameof(CenterDec), "must be within ±80° (the catalog is drawn on a tangent plane)");
        Require(double.IsFinite(CenterRa), nameof(CenterRa), "must be finite");
        Require(PixelScaleArcsec > 0, nameof(PixelScaleArcsec), "must be positive");
        Require(PixelSizeMicrons > 0, nameof(PixelSizeMicrons), "must be positive");
        Require(DitherRadiusArcsec >= 0 && RotationDitherDegrees >= 0 && SkyMarginArcsec >= 0, nameof(DitherRadiusArcsec), "dithers and margins must not be negative");
        Require(StarDensityPerArcmin2 >= 0 && GalaxyDensityPerArcmin2 >= 0, nameof(StarDensityPerArcmin2), "densities must not be negative");
        Require(StarMagFaint > StarMagBright && GalaxyMagFaint > GalaxyMagBright, nameof(StarMagFaint), "faint limits must be fainter than bright limits");
        Require(RefcatMagNoise >= 0, nameof(RefcatMagNoise), "must not be negative");
        Require(ExposureTimeSeconds > 0, nameof(ExposureTimeSeconds), "must be positive");
        Require(VisitIntervalDays >= 0, nameof(VisitIntervalDays), "must not be negative");
        Require(SeeingMinArcsec > 0 && SeeingMaxArcsec >= SeeingMinArcsec, nameof(SeeingMinArcsec), "need 0 < min <= max");
        Require(SeeingMaxArcsec / PixelScaleArcsec <= 40, nameof(SeeingMaxArcsec), "PSF wider than 40 pixels FWHM is not supported");
        Require(MoffatBeta is >= 2.0 and <= 10.0, nameof(MoffatBeta), "must be within [2, 10]");
        Require(CosmicRayRatePerCm2PerSecond >= 0, nameof(CosmicRayRatePerCm2PerSecond), "must not be negative");
        Require(BadColumnsPerMegapixel >= 0 && HotPixelsPerMegapixel >= 0, nameof(BadColumnsPerMegapixel), "must not be negative");
        Require(FullWellElectrons is >= 1000 and <= 81000, nameof(FullWellElectrons), "must be within [1000, 81000] electrons");
        Require(MaxDegreeOfParallelism is null or >= 1, nameof(MaxDegreeOfParallelism), "must be at least 1");
    }

    private static void Require(bool condition, string name, string problem)
    {
        if (!condition)
        {
            throw new ArgumentException($"SimulationOptions.{name} {problem}", name);
        }
    }
}
