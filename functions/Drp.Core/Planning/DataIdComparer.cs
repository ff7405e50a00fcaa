using Drp.Core.Datasets;

namespace Drp.Core.Planning;

/// <summary>Orders data ids by the fixed dimension order (instrument, visit, detector, tract, patch, band); an absent dimension sorts first.</summary>
public sealed class DataIdComparer : IComparer<DataId>
{
    /// <summary>The one instance.</summary>
    public static readonly DataIdComparer Instance = new();

    /// <inheritdoc />
    public int Compare(DataId? x, DataId? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        int c = string.CompareOrdinal(x.Instrument, y.Instrument);
        if (c != 0) return c;
        c = Nullable.Compare(x.Visit, y.Visit);
        if (c != 0) return c;
        c = Nullable.Compare(x.Detector, y.Detector);
        if (c != 0) return c;
        c = Nullable.Compare(x.Tract, y.Tract);
        if (c != 0) return c;
        c = Nullable.Compare(x.Patch, y.Patch);
        if (c != 0) return c;
        return string.CompareOrdinal(x.Band, y.Band);
    }

    /// <summary>
    /// The data id reduced to <paramref name="dimensions"/> (a subset of the fixed order); the rest become null, except
    /// the band, which a visit implies (a visit is taken in one band) and which stays with the visit.
    /// </summary>
    public static DataId Project(DataId id, IReadOnlyList<string> dimensions)
    {
        bool visit = dimensions.Contains("visit");
        return new(
            id.Instrument,
            visit ? id.Visit : null,
            dimensions.Contains("detector") ? id.Detector : null,
            dimensions.Contains("tract") ? id.Tract : null,
            dimensions.Contains("patch") ? id.Patch : null,
            visit || dimensions.Contains("band") ? id.Band : null);
    }
}
