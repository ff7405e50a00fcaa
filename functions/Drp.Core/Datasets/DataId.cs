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
}
