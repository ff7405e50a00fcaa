namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// ccdVisitId = visit * 1000 + detector (DP0.2's decimal packing: readable, and detectors are 0-999). Visits are
/// limited so that every ccdVisitId stays below 2^39, leaving room for <see cref="SourceId"/>'s 24-bit index.
/// </summary>
public static class CcdVisitId
{
    public const int DetectorFactor = 1000;

    public const int MaxDetector = DetectorFactor - 1;

    /// <summary>Largest visit whose ccdVisitIds stay below 2^39.</summary>
    public const long MaxVisit = ((1L << 39) - 1) / DetectorFactor - 1;

    public static long Pack(long visit, int detector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(visit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(visit, MaxVisit);
        ArgumentOutOfRangeException.ThrowIfNegative(detector);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(detector, MaxDetector);
        return visit * DetectorFactor + detector;
    }

    public static (long Visit, int Detector) Unpack(long ccdVisitId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ccdVisitId);
        return (ccdVisitId / DetectorFactor, (int)(ccdVisitId % DetectorFactor));
    }
}

/// <summary>
/// sourceId = (ccdVisitId &lt;&lt; 24) | index: unique across the survey for up to 16,777,215 sources per detector
/// visit, deterministic (a rerun gives the same ids), and positive in a signed 64-bit column.
/// </summary>
public static class SourceId
{
    public const int IndexBits = 24;

    public const int MaxIndex = (1 << IndexBits) - 1;

    public static long Pack(long ccdVisitId, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ccdVisitId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ccdVisitId, 1L << (63 - IndexBits));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, MaxIndex);
        return (ccdVisitId << IndexBits) | (long)index;
    }

    public static (long CcdVisitId, int Index) Unpack(long sourceId) =>
        (sourceId >> IndexBits, (int)(sourceId & MaxIndex));
}
