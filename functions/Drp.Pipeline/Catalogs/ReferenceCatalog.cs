using System.Globalization;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Catalogs;

/// <summary>A reference catalog CSV could not be used: the message names the line and column.</summary>
public sealed class ReferenceCatalogException(string message) : FormatException(message);

/// <summary>
/// Reads a reference catalog CSV: <c>ra, dec</c> in degrees (other columns, such as <c>id</c>, ignored) and, per band,
/// <c>{band}_mag</c> in AB or <c>{band}_flux</c> in nJy (AB 31.4 mag = 1 nJy).
/// </summary>
public static class ReferenceCatalog
{
    /// <summary>nJy of an AB magnitude: 10^((31.4 - mag) / 2.5).</summary>
    public static double MagToNJy(double abMag) => Math.Pow(10, (31.4 - abMag) / 2.5);

    public static double NJyToMag(double nJy) => 31.4 - 2.5 * Math.Log10(nJy);

    public static List<ReferenceObject> ParseCsv(string text, string band)
    {
        using var reader = new StringReader(text);
        var headerLine = reader.ReadLine() ?? throw new ReferenceCatalogException("reference catalog is empty");
        var cols = headerLine.Split(',').Select(c => c.Trim()).ToList();
        int ra = cols.IndexOf("ra"), dec = cols.IndexOf("dec");
        int mag = cols.IndexOf(band + "_mag"), flux = cols.IndexOf(band + "_flux");
        if (ra < 0 || dec < 0)
        {
            throw new ReferenceCatalogException($"reference catalog header lacks 'ra' or 'dec': {headerLine}");
        }
        if (mag < 0 && flux < 0)
        {
            throw new ReferenceCatalogException($"reference catalog has neither {band}_mag nor {band}_flux");
        }
        var list = new List<ReferenceObject>();
        int lineNo = 1;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }
            var f = line.Split(',');
            if (f.Length != cols.Count)
            {
                throw new ReferenceCatalogException($"reference catalog line {lineNo} has {f.Length} fields, header has {cols.Count}");
            }
            double Parse(int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v : throw new ReferenceCatalogException($"reference catalog line {lineNo}, column {cols[i]}: '{f[i]}' is not a number");
            double value = flux >= 0 ? Parse(flux) : MagToNJy(Parse(mag));
            if (!double.IsFinite(value) || value <= 0)
            {
                continue; // no measurement in this band
            }
            list.Add(new ReferenceObject(Parse(ra), Parse(dec), value));
        }
        return list;
    }
}
