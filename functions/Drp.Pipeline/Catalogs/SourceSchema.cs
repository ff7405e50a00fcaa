using System.Reflection;
using System.Text.Json.Serialization;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Catalogs;

/// <summary>
/// The Source table's columns: names from <see cref="SourceRecord"/>'s attributes (the one place they are written),
/// types from its properties, units and descriptions below. Writers take <see cref="ToTable"/>'s output, so a column
/// can't be written without being declared. (A Felis-style YAML schema replaces this in the catalog issue.)
/// </summary>
public static class SourceSchema
{
    public const string TableName = "Source";

    private static readonly Dictionary<string, string> s_descriptions = new(StringComparer.Ordinal)
    {
        ["sourceId"] = "Unique id of the source: (ccdVisitId << 24) | index.",
        ["ccdVisitId"] = "Id of the detector-visit: visit * 1000 + detector.",
        ["visit"] = "Visit id.",
        ["detector"] = "Detector id.",
        ["band"] = "Band of the exposure (u, g, r, i, z, y).",
        ["coord_ra"] = "Right ascension of the centroid (ICRS).",
        ["coord_dec"] = "Declination of the centroid (ICRS).",
        ["x"] = "Centroid column, zero-based pixel (pixel centres at integers).",
        ["y"] = "Centroid row, zero-based pixel.",
        ["centroid_flag"] = "The centroid did not converge; x, y are the peak position.",
        ["psfFlux"] = "Total flux of the PSF model (elliptical Moffat, normalised to unit flux) fitted linearly at the centroid.",
        ["psfFluxErr"] = "Uncertainty of psfFlux.",
        ["psfFlux_flag"] = "psfFlux is unreliable: masked centre, failed centroid, or under 80 % of the model on usable pixels.",
        ["psfFlux_instFlux"] = "psfFlux before calibration, in electrons.",
        ["psfFlux_instFluxErr"] = "Uncertainty of psfFlux_instFlux.",
        ["kronFlux"] = "Flux in a circular aperture of 2.5 Kron (first-moment) radii, at least 3.5 PSF sigmas.",
        ["kronFluxErr"] = "Uncertainty of kronFlux.",
        ["kronRad"] = "Radius of the Kron aperture.",
        ["kronFlux_flag"] = "kronFlux is unreliable (no positive first moment, or the aperture leaves the image).",
        ["extendedness"] = "1 when psfFlux falls clearly short of the PSF-scaled 6-pixel aperture flux (a resolved source), 0 when point-like, NaN when unknown.",
        ["ixxPSF"] = "Adaptive second moment xx of the PSF model at the source.",
        ["iyyPSF"] = "Adaptive second moment yy of the PSF model at the source.",
        ["ixyPSF"] = "Adaptive second moment xy of the PSF model at the source.",
        ["calibFlux"] = "Flux in the 12-pixel radius aperture used for photometric calibration.",
        ["calibFluxErr"] = "Uncertainty of calibFlux.",
        ["calibFlux_flag"] = "calibFlux is unreliable (aperture off the image or on masked pixels).",
        ["calibFlux_instFlux"] = "calibFlux before calibration, in electrons.",
        ["calibFlux_instFluxErr"] = "Uncertainty of calibFlux_instFlux.",
        ["ixx"] = "Adaptive second moment xx of the source.",
        ["iyy"] = "Adaptive second moment yy of the source.",
        ["ixy"] = "Adaptive second moment xy of the source.",
        ["shape_flag"] = "The adaptive moments did not converge.",
        ["pixelFlags_saturated"] = "A saturated pixel lies in the source's aperture.",
        ["pixelFlags_edge"] = "The source's aperture reaches off the image.",
        ["pixelFlags_interpolated"] = "An interpolated pixel lies in the source's aperture.",
        ["pixelFlags_cr"] = "A repaired cosmic-ray pixel lies in the source's aperture.",
        ["pixelFlags_bad"] = "A bad (defect) pixel lies in the source's aperture.",
    };

    private static readonly PropertyInfo[] s_properties = typeof(SourceRecord)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null)
        .OrderBy(p => p.MetadataToken)
        .ToArray();

    /// <summary>Every column, in <see cref="SourceRecord"/> order.</summary>
    public static IReadOnlyList<ColumnDef> Columns { get; } = s_properties.Select(ToColumn).ToArray();

    public static CatalogTable ToTable(IEnumerable<SourceRecord> records)
    {
        var table = new CatalogTable(TableName, Columns);
        foreach (var r in records)
        {
            var row = new object?[s_properties.Length];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = s_properties[i].GetValue(r);
            }
            table.Add(row);
        }
        return table;
    }

    private static ColumnDef ToColumn(PropertyInfo p)
    {
        string name = p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name;
        var type = p.PropertyType;
        var columnType = type == typeof(long) ? ColumnType.Long
            : type == typeof(int) ? ColumnType.Int
            : type == typeof(double) ? ColumnType.Double
            : type == typeof(float) ? ColumnType.Float
            : type == typeof(bool) ? ColumnType.Boolean
            : type == typeof(string) ? ColumnType.String
            : throw new InvalidOperationException($"SourceRecord.{p.Name} has a type no catalog column can hold: {type.Name}");
        return new ColumnDef(name, columnType, UnitOf(name), DescriptionOf(name));
    }

    private static string? UnitOf(string name) => name switch
    {
        "coord_ra" or "coord_dec" => "deg",
        "x" or "y" => "pixel",
        "ixx" or "iyy" or "ixy" or "ixxPSF" or "iyyPSF" or "ixyPSF" => "pixel**2",
        "kronRad" => "pixel",
        _ when name.EndsWith("_instFlux", StringComparison.Ordinal) || name.EndsWith("_instFluxErr", StringComparison.Ordinal) => "electron",
        _ when name.EndsWith("Flux", StringComparison.Ordinal) || name.EndsWith("FluxErr", StringComparison.Ordinal) => "nJy",
        _ => null,
    };

    private static string DescriptionOf(string name)
    {
        if (s_descriptions.TryGetValue(name, out var d))
        {
            return d;
        }
        // apNNFlux, apNNFluxErr, apNNFlux_flag: NN is the aperture radius in pixels.
        if (name.StartsWith("ap", StringComparison.Ordinal) && name.Length > 4 && char.IsAsciiDigit(name[2]) && char.IsAsciiDigit(name[3]))
        {
            string radius = name.Substring(2, 2).TrimStart('0');
            return name.EndsWith("_flag", StringComparison.Ordinal) ? $"The {radius}-pixel aperture flux is unreliable."
                : name.EndsWith("Err", StringComparison.Ordinal) ? $"Uncertainty of the {radius}-pixel radius aperture flux."
                : $"Flux in a circular aperture of radius {radius} pixels.";
        }
        throw new InvalidOperationException($"Source column {name} has no description: add one to {nameof(SourceSchema)}");
    }
}
