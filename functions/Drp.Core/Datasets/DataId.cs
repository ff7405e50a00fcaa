using System.Globalization;
using System.Text;

namespace Drp.Core.Datasets;

/// <summary>
/// A data id: the dimensions that name one dataset, always in the fixed order instrument, visit, detector, tract,
/// patch, band. Unused dimensions are null.
/// </summary>
public sealed record DataId(
    string Instrument,
    long? Visit = null,
    int? Detector = null,
    int? Tract = null,
    int? Patch = null,
    string? Band = null)
{
    /// <summary>"instrument=X/visit=1/detector=2" — the dimensions present, in the fixed order.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("instrument=").Append(Instrument);
        if (Visit is { } v) sb.Append("/visit=").Append(v.ToString(CultureInfo.InvariantCulture));
        if (Detector is { } d) sb.Append("/detector=").Append(d.ToString(CultureInfo.InvariantCulture));
        if (Tract is { } t) sb.Append("/tract=").Append(t.ToString(CultureInfo.InvariantCulture));
        if (Patch is { } p) sb.Append("/patch=").Append(p.ToString(CultureInfo.InvariantCulture));
        if (Band is { } b) sb.Append("/band=").Append(b);
        return sb.ToString();
    }

    /// <summary>The data id of <see cref="ToString"/>'s text; false for anything else (unknown or out-of-order dimensions, bad numbers).</summary>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DataId? id)
    {
        id = null;
        var parts = text.Split('/');
        if (parts.Length == 0 || !parts[0].StartsWith("instrument=", StringComparison.Ordinal) || parts[0].Length == "instrument=".Length)
        {
            return false;
        }
        var result = new DataId(parts[0]["instrument=".Length..]);
        string[] order = ["visit", "detector", "tract", "patch", "band"];
        int next = 0;
        foreach (var part in parts.Skip(1))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) return false;
            string name = part[..eq], value = part[(eq + 1)..];
            int at = Array.IndexOf(order, name, next);
            if (at < 0 || value.Length == 0) return false;
            next = at + 1;
            const NumberStyles n = NumberStyles.AllowLeadingSign;
            var c = CultureInfo.InvariantCulture;
            switch (name)
            {
                case "visit" when long.TryParse(value, n, c, out long v): result = result with { Visit = v }; break;
                case "detector" when int.TryParse(value, n, c, out int d): result = result with { Detector = d }; break;
                case "tract" when int.TryParse(value, n, c, out int t): result = result with { Tract = t }; break;
                case "patch" when int.TryParse(value, n, c, out int p): result = result with { Patch = p }; break;
                case "band": result = result with { Band = value }; break;
                default: return false;
            }
        }
        id = result;
        return id.ToString() == text;
    }
}
