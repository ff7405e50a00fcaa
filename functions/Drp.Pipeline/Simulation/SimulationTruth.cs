using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Simulation;

/// <summary>Kind of a simulated source.</summary>
public enum SourceType
{
    Star,
    Galaxy,
}

/// <summary>
/// A source of the simulated sky. Fluxes are in nJy (AB 31.4 mag = 1 nJy) for the six bands u..y, indexed as
/// <see cref="BandInfo.All"/>. Galaxies are Sérsic n = 1 or 4 with a half-light radius (geometric mean of the
/// semi-axes), an axis ratio b/a and a position angle of the major axis (degrees east of north); stars have
/// SersicIndex 0 and zero sizes.
/// </summary>
public sealed record TruthSource(
    long Id,
    double Ra,
    double Dec,
    SourceType Type,
    IReadOnlyList<double> FluxNJy,
    double SersicIndex,
    double HalfLightRadiusArcsec,
    double AxisRatio,
    double PositionAngleDegrees)
{
    /// <summary>Flux in nJy in a band (u, g, r, i, z, y).</summary>
    public double Flux(string band) => FluxNJy[BandIndex(band)];

    /// <summary>Ellipticity |e| = (1 − q) / (1 + q) of the axis ratio q.</summary>
    public double Ellipticity => (1.0 - AxisRatio) / (1.0 + AxisRatio);

    internal static int BandIndex(string band)
    {
        for (int i = 0; i < BandInfo.All.Count; i++)
        {
            if (BandInfo.All[i].Band == band)
            {
                return i;
            }
        }
        throw new ArgumentException($"unknown band '{band}'", nameof(band));
    }
}

/// <summary>
/// One visit of the campaign: its band, time, dithered boresight and sky rotation, seeing, the photometric zero point
/// (<see cref="ElectronsPerNJy"/>: electrons collected per nJy of source flux in the exposure, before the flat) and
/// the sky level (electrons per pixel before the flat).
/// </summary>
public sealed record VisitInfo(
    int Visit,
    string Band,
    double Mjd,
    double ExposureTimeSeconds,
    double BoresightRa,
    double BoresightDec,
    double RotationDegrees,
    double SeeingFwhmArcsec,
    double ElectronsPerNJy,
    double SkyElectronsPerPixel)
{
    /// <summary>AB magnitude that gives 1 electron in the exposure: 31.4 + 2.5 log10(ElectronsPerNJy).</summary>
    public double ZeroPointMag => BandInfo.NanojanskyZeroPointMag + 2.5 * Math.Log10(ElectronsPerNJy);
}

/// <summary>
/// A source as placed in one frame: ZERO-based pixel position in the assembled science area (the WCS of the raw's
/// primary header), its flux in the visit's band and the expected electrons (flux × ElectronsPerNJy, before the flat).
/// </summary>
public sealed record FrameSource(long Id, SourceType Type, double X, double Y, double Ra, double Dec, double FluxNJy, double Electrons);

/// <summary>A cosmic-ray track in a frame: ZERO-based assembled-pixel end points and the electrons it deposited.</summary>
public sealed record CosmicRayTrack(double X0, double Y0, double X1, double Y1, double Electrons);

/// <summary>
/// An amplifier's truth: its HDU name, FITS sections (DATASEC, BIASSEC in the amplifier's HDU, DETSEC in the
/// assembled detector), gain (e⁻/ADU), read noise (e⁻), bias level (ADU), per-row bias noise (ADU), SATURATE (raw ADU).
/// </summary>
public sealed record AmplifierInfo(
    string Name,
    string DataSec,
    string BiasSec,
    string DetSec,
    double Gain,
    double ReadNoiseElectrons,
    double BiasLevelAdu,
    double RowNoiseAdu,
    double SaturateAdu);

/// <summary>
/// One simulated raw frame in memory: the HDUs as they are written (primary + amplifiers, or one HDU), the WCS of the
/// assembled science area, and the truth that went into it.
/// </summary>
public sealed record SimulatedFrame(
    VisitInfo Visit,
    int Detector,
    IReadOnlyList<FitsImage> Hdus,
    TanWcs Wcs,
    IReadOnlyList<AmplifierInfo> Amplifiers,
    IReadOnlyList<FrameSource> Sources,
    IReadOnlyList<CosmicRayTrack> CosmicRays,
    int SaturatedPixelCount);

/// <summary>What <see cref="SurveySimulator.WriteTo"/> wrote.</summary>
public sealed record SimulationSummary(
    string OutputDirectory,
    int RawFrames,
    int CalibrationFiles,
    int TruthSources,
    int ReferenceStars,
    TimeSpan Elapsed);
