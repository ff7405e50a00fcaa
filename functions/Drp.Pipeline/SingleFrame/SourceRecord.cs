using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// One row of the Source catalog (DP0.2 names in <see cref="JsonPropertyNameAttribute"/>, the single place they are
/// written; JSON and Parquet.Net serializers read them). Positions in degrees and zero-based pixels, fluxes in nJy,
/// moments in pixel². Aperture NN has a radius of NN pixels; calibFlux is the 12-pixel aperture, as in DP0.2.
/// Flux errors include the photometric calibration's error in quadrature (DP0.2 does the same); the instFlux
/// columns are in electrons. Failed moments are NaN with shape_flag set. psfFlux is the total flux of the PSF model
/// fitted at the centroid (the PSF is normalised to unit total flux), the flux the photometric calibration uses.
/// </summary>
public sealed record SourceRecord(
    [property: JsonPropertyName("sourceId")] long SourceId,
    [property: JsonPropertyName("ccdVisitId")] long CcdVisitId,
    [property: JsonPropertyName("visit")] long Visit,
    [property: JsonPropertyName("detector")] int Detector,
    [property: JsonPropertyName("band")] string Band,
    [property: JsonPropertyName("coord_ra")] double CoordRa,
    [property: JsonPropertyName("coord_dec")] double CoordDec,
    [property: JsonPropertyName("x")] double X,
    [property: JsonPropertyName("y")] double Y,
    [property: JsonPropertyName("centroid_flag")] bool CentroidFlag,
    [property: JsonPropertyName("psfFlux")] double PsfFlux,
    [property: JsonPropertyName("psfFluxErr")] double PsfFluxErr,
    [property: JsonPropertyName("psfFlux_flag")] bool PsfFluxFlag,
    [property: JsonPropertyName("psfFlux_instFlux")] double PsfInstFlux,
    [property: JsonPropertyName("psfFlux_instFluxErr")] double PsfInstFluxErr,
    [property: JsonPropertyName("ap03Flux")] double Ap03Flux,
    [property: JsonPropertyName("ap03FluxErr")] double Ap03FluxErr,
    [property: JsonPropertyName("ap03Flux_flag")] bool Ap03FluxFlag,
    [property: JsonPropertyName("ap06Flux")] double Ap06Flux,
    [property: JsonPropertyName("ap06FluxErr")] double Ap06FluxErr,
    [property: JsonPropertyName("ap06Flux_flag")] bool Ap06FluxFlag,
    [property: JsonPropertyName("ap09Flux")] double Ap09Flux,
    [property: JsonPropertyName("ap09FluxErr")] double Ap09FluxErr,
    [property: JsonPropertyName("ap09Flux_flag")] bool Ap09FluxFlag,
    [property: JsonPropertyName("ap12Flux")] double Ap12Flux,
    [property: JsonPropertyName("ap12FluxErr")] double Ap12FluxErr,
    [property: JsonPropertyName("ap12Flux_flag")] bool Ap12FluxFlag,
    [property: JsonPropertyName("ap17Flux")] double Ap17Flux,
    [property: JsonPropertyName("ap17FluxErr")] double Ap17FluxErr,
    [property: JsonPropertyName("ap17Flux_flag")] bool Ap17FluxFlag,
    [property: JsonPropertyName("ap25Flux")] double Ap25Flux,
    [property: JsonPropertyName("ap25FluxErr")] double Ap25FluxErr,
    [property: JsonPropertyName("ap25Flux_flag")] bool Ap25FluxFlag,
    [property: JsonPropertyName("calibFlux")] double CalibFlux,
    [property: JsonPropertyName("calibFluxErr")] double CalibFluxErr,
    [property: JsonPropertyName("calibFlux_flag")] bool CalibFluxFlag,
    [property: JsonPropertyName("calibFlux_instFlux")] double CalibInstFlux,
    [property: JsonPropertyName("calibFlux_instFluxErr")] double CalibInstFluxErr,
    [property: JsonPropertyName("kronFlux")] double KronFlux,
    [property: JsonPropertyName("kronFluxErr")] double KronFluxErr,
    [property: JsonPropertyName("kronRad")] double KronRadius,
    [property: JsonPropertyName("kronFlux_flag")] bool KronFluxFlag,
    [property: JsonPropertyName("extendedness")] double Extendedness,
    [property: JsonPropertyName("ixx")] double Ixx,
    [property: JsonPropertyName("iyy")] double Iyy,
    [property: JsonPropertyName("ixy")] double Ixy,
    [property: JsonPropertyName("shape_flag")] bool ShapeFlag,
    [property: JsonPropertyName("ixxPSF")] double IxxPsf,
    [property: JsonPropertyName("iyyPSF")] double IyyPsf,
    [property: JsonPropertyName("ixyPSF")] double IxyPsf,
    [property: JsonPropertyName("pixelFlags_saturated")] bool PixelFlagsSaturated,
    [property: JsonPropertyName("pixelFlags_edge")] bool PixelFlagsEdge,
    [property: JsonPropertyName("pixelFlags_interpolated")] bool PixelFlagsInterpolated,
    [property: JsonPropertyName("pixelFlags_cr")] bool PixelFlagsCr,
    [property: JsonPropertyName("pixelFlags_bad")] bool PixelFlagsBad)
{
    /// <summary>Catalog column names in declaration order, read from the attributes.</summary>
    public static IReadOnlyList<string> ColumnNames { get; } = CatalogColumns.Of<SourceRecord>();
}

/// <summary>
/// Per-detector summary for the CcdVisit table. zeroPoint is the AB magnitude giving 1 electron in this exposure
/// (not per second); skyBg and skyNoise are in electrons per pixel; seeing is the PSF FWHM in arcsec and psfSigma
/// the Gaussian sigma of the same FWHM in pixels, both from the fitted PSF model (elliptical Moffat; nPsfStars = 0 when
/// too few stars were found and a fallback was used: then seeing and psfSigma come from the moments of bright sources,
/// null when there are none). psfIxx/Iyy/Ixy are the PSF model's adaptive moments (pixel²), psfBeta its Moffat β.
/// Corners are the sky positions of the detector's outer corners (ll = pixel (0,0) corner), in degrees.
/// </summary>
public sealed record CcdVisitSummary(
    [property: JsonPropertyName("ccdVisitId")] long CcdVisitId,
    [property: JsonPropertyName("visitId")] long Visit,
    [property: JsonPropertyName("detector")] int Detector,
    [property: JsonPropertyName("band")] string Band,
    [property: JsonPropertyName("zeroPoint")] double ZeroPoint,
    [property: JsonPropertyName("zeroPointErr")] double ZeroPointErr,
    [property: JsonPropertyName("nJyPerElectron")] double NanojanskyPerElectron,
    [property: JsonPropertyName("nSources")] int SourceCount,
    [property: JsonPropertyName("nRefMatches")] int ReferenceMatchCount,
    [property: JsonPropertyName("nPsfStars")] int PsfStarCount,
    [property: JsonPropertyName("psfBeta")] double PsfBeta,
    [property: JsonPropertyName("psfIxx")] double PsfIxx,
    [property: JsonPropertyName("psfIyy")] double PsfIyy,
    [property: JsonPropertyName("psfIxy")] double PsfIxy,
    [property: JsonPropertyName("skyBg")] double SkyBg,
    [property: JsonPropertyName("skyNoise")] double SkyNoise,
    [property: JsonPropertyName("seeing")] double? Seeing,
    [property: JsonPropertyName("psfSigma")] double? PsfSigma,
    [property: JsonPropertyName("pixelScale")] double PixelScaleArcsec,
    [property: JsonPropertyName("llcra")] double Llcra,
    [property: JsonPropertyName("llcdec")] double Llcdec,
    [property: JsonPropertyName("ulcra")] double Ulcra,
    [property: JsonPropertyName("ulcdec")] double Ulcdec,
    [property: JsonPropertyName("urcra")] double Urcra,
    [property: JsonPropertyName("urcdec")] double Urcdec,
    [property: JsonPropertyName("lrcra")] double Lrcra,
    [property: JsonPropertyName("lrcdec")] double Lrcdec,
    [property: JsonPropertyName("expTime")] double ExpTime,
    [property: JsonPropertyName("expMidptMJD")] double ExpMidptMjd,
    [property: JsonPropertyName("airmass")] double? Airmass)
{
    public static IReadOnlyList<string> ColumnNames { get; } = CatalogColumns.Of<CcdVisitSummary>();
}

/// <summary>Reads catalog columns from <see cref="JsonPropertyNameAttribute"/>s, in declaration order.</summary>
public static class CatalogColumns
{
    /// <summary>
    /// The properties that carry a catalog column name, in declaration order: a positional record's properties in the
    /// order of its primary constructor's parameters (which metadata keeps in order on every runtime, unlike
    /// <see cref="MemberInfo.MetadataToken"/>, which a native-AOT build does not have), any other after them.
    /// </summary>
    public static PropertyInfo[] Properties<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>()
    {
        var primary = typeof(T).GetConstructors().MaxBy(c => c.GetParameters().Length);
        var position = (primary?.GetParameters() ?? []).Select((p, i) => (p.Name, i))
            .Where(x => x.Name is not null).ToDictionary(x => x.Name!, x => x.i, StringComparer.Ordinal);
        return typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null)
            .Select((p, i) => (Property: p, Order: position.TryGetValue(p.Name, out int k) ? k : position.Count + i))
            .OrderBy(x => x.Order)
            .Select(x => x.Property)
            .ToArray();
    }

    /// <summary>The catalog column name of a property returned by <see cref="Properties{T}"/>.</summary>
    public static string NameOf(PropertyInfo property) => property.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name;

    public static IReadOnlyList<string> Of<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>() =>
        Properties<T>().Select(NameOf).ToArray();
}
