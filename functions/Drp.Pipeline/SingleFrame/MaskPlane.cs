namespace Drp.Pipeline.SingleFrame;

/// <summary>Bit planes of an <see cref="Exposure"/> mask, with the LSST plane names in <see cref="MaskPlanes"/>.</summary>
[Flags]
public enum MaskPlane : ushort
{
    None = 0,
    /// <summary>SAT: the raw value reached the amplifier's SATURATE level.</summary>
    Saturated = 1 << 0,
    /// <summary>BAD: a defect, a non-finite raw value or an unusable flat-field value.</summary>
    Bad = 1 << 1,
    /// <summary>INTRP: the value was interpolated (from neighbours along the row).</summary>
    Interpolated = 1 << 2,
    /// <summary>EDGE: too close to the image edge for detection's smoothing kernel.</summary>
    Edge = 1 << 3,
    /// <summary>NO_DATA: no amplifier covers the pixel, or nothing could be interpolated into it.</summary>
    NoData = 1 << 4,
    /// <summary>DETECTED: inside a detection footprint.</summary>
    Detected = 1 << 5,
    /// <summary>CR: a cosmic ray, found by <see cref="CosmicRayFinder"/> and repaired by interpolation.</summary>
    CosmicRay = 1 << 6,
    /// <summary>CLIPPED: a coadd input's transient (cosmic ray, trail, moving object) rejected by compare-warp.</summary>
    Clipped = 1 << 7,
    /// <summary>SENSOR_EDGE: a coadd pixel where some input ended (its edge or NO_DATA) while others went on.</summary>
    SensorEdge = 1 << 8,
}

/// <summary>The LSST names of the mask planes (SAT, BAD, ...), for headers (MP_SAT = 0, ...) and catalogs.</summary>
public static class MaskPlanes
{
    /// <summary>Every named plane with its LSST name, in bit order.</summary>
    public static IReadOnlyList<(MaskPlane Plane, string Name)> All { get; } =
    [
        (MaskPlane.Saturated, "SAT"),
        (MaskPlane.Bad, "BAD"),
        (MaskPlane.Interpolated, "INTRP"),
        (MaskPlane.Edge, "EDGE"),
        (MaskPlane.NoData, "NO_DATA"),
        (MaskPlane.Detected, "DETECTED"),
        (MaskPlane.CosmicRay, "CR"),
        (MaskPlane.Clipped, "CLIPPED"),
        (MaskPlane.SensorEdge, "SENSOR_EDGE"),
    ];

    /// <summary>The LSST name of a single plane.</summary>
    public static string NameOf(MaskPlane plane)
    {
        foreach (var (p, name) in All)
        {
            if (p == plane)
            {
                return name;
            }
        }
        throw new ArgumentException($"{plane} is not a single mask plane", nameof(plane));
    }

    /// <summary>Writes an MP_&lt;name&gt; card per plane, its bit index, into a MASK extension's header (as afw does).</summary>
    public static Fits.FitsHeader DescribeIn(Fits.FitsHeader header)
    {
        foreach (var (plane, name) in All)
        {
            header.Set("MP_" + (name.Length > 5 ? name[..5] : name), BitOf(plane), $"mask bit of plane {name}");
        }
        return header;
    }

    /// <summary>The bit index of a single plane (the value of the MP_&lt;name&gt; header card).</summary>
    public static int BitOf(MaskPlane plane) =>
        plane != MaskPlane.None && ((ushort)plane & ((ushort)plane - 1)) == 0
            ? System.Numerics.BitOperations.TrailingZeroCount((uint)plane)
            : throw new ArgumentException($"{plane} is not a single mask plane", nameof(plane));
}
