using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Coadd;

/// <summary>The rings skymap's parameters; <see cref="Dc2"/> is DP0.2's (obs_lsst <c>makeSkyMap.py</c>).</summary>
public sealed record RingsSkyMapConfig
{
    /// <summary>Declination rings between the two polar-cap tracts.</summary>
    public int NumRings { get; init; } = 120;

    /// <summary>RA of the first tract of every ring, degrees.</summary>
    public double RaStartDegrees { get; init; }

    /// <summary>How far each tract reaches past its nominal half-size, degrees (1′).</summary>
    public double TractOverlapDegrees { get; init; } = 1.0 / 60.0;

    public double PixelScaleArcsec { get; init; } = 0.2;

    /// <summary>Inner patch size, pixels; the inner regions tile the tract exactly.</summary>
    public int PatchInnerSize { get; init; } = 4000;

    /// <summary>How far a patch's outer region reaches past its inner one (clipped at the tract's edge), pixels.</summary>
    public int PatchBorder { get; init; } = 100;

    public static RingsSkyMapConfig Dc2 { get; } = new();
}

/// <summary>
/// A "rings" skymap as lsst.skymap's <c>RingsSkyMap</c>: a tract at each pole and <see cref="RingsSkyMapConfig.NumRings"/>
/// declination rings of TAN tracts, each cut into square patches. Tract and patch ids match Rubin's for the same config.
/// </summary>
public sealed class RingsSkyMap
{
    private const double DegToRad = Math.PI / 180.0;
    private readonly double _ringSize;
    private readonly int[] _ringTracts;
    private readonly int[] _ringFirstTract;
    private readonly TractInfo?[] _tracts;

    public RingsSkyMap(RingsSkyMapConfig config)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.NumRings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.PatchInnerSize);
        ArgumentOutOfRangeException.ThrowIfNegative(config.PatchBorder);
        Config = config;
        // The two polar caps together count as one ring when sizing the rings.
        _ringSize = Math.PI / (config.NumRings + 1);
        _ringTracts = new int[config.NumRings];
        _ringFirstTract = new int[config.NumRings];
        int next = 1;
        for (int i = 0; i < config.NumRings; i++)
        {
            double start = _ringSize * (i + 0.5) - 0.5 * Math.PI;
            double dec = Math.Min(Math.Abs(start), Math.Abs(start + _ringSize));
            _ringTracts[i] = (int)(2.0 * Math.PI * Math.Cos(dec) / _ringSize) + 1;
            _ringFirstTract[i] = next;
            next += _ringTracts[i];
        }
        TractCount = next + 1;
        _tracts = new TractInfo?[TractCount];
    }

    public static RingsSkyMap Dc2 { get; } = new(RingsSkyMapConfig.Dc2);

    public RingsSkyMapConfig Config { get; }

    public int TractCount { get; }

    /// <summary>The tract with this id (0 the south cap, <see cref="TractCount"/> − 1 the north cap).</summary>
    public TractInfo Tract(int id)
    {
        if (id < 0 || id >= TractCount)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"tract ids run from 0 to {TractCount - 1}");
        }
        return _tracts[id] ??= BuildTract(id);
    }

    /// <summary>The tract whose ring and RA slot hold the position (RA, Dec degrees), as <c>RingsSkyMap.findTract</c>.</summary>
    public TractInfo FindTract(double ra, double dec)
    {
        double decRad = dec * DegToRad;
        double firstRingStart = _ringSize * 0.5 - 0.5 * Math.PI;
        if (decRad < firstRingStart)
        {
            return Tract(0);
        }
        if (decRad > -firstRingStart)
        {
            return Tract(TractCount - 1);
        }
        int ring = Math.Min((int)((decRad - firstRingStart) / _ringSize), Config.NumRings - 1);
        double dRa = ((ra - Config.RaStartDegrees) * DegToRad) % (2.0 * Math.PI);
        if (dRa < 0)
        {
            dRa += 2.0 * Math.PI;
        }
        int slot = (int)(dRa / (2.0 * Math.PI / _ringTracts[ring]) + 0.5);
        if (slot == _ringTracts[ring])
        {
            slot = 0;
        }
        return Tract(_ringFirstTract[ring] + slot);
    }

    /// <summary>
    /// Every (tract, patch) whose outer region a sky polygon (an exposure's corners) may overlap: each tract near it,
    /// then the patches of the pixel box of the corners grown by the patch border, as <c>TractInfo.findPatchList</c>.
    /// </summary>
    public IReadOnlyList<PatchInfo> PatchesOverlapping(IReadOnlyList<(double Ra, double Dec)> corners)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(corners.Count, 1);
        // A unit-vector mean is the polygon's centre; its radius bounds which tracts can reach it.
        double cx = 0, cy = 0, cz = 0;
        foreach (var (ra, dec) in corners)
        {
            cx += Math.Cos(dec * DegToRad) * Math.Cos(ra * DegToRad);
            cy += Math.Cos(dec * DegToRad) * Math.Sin(ra * DegToRad);
            cz += Math.Sin(dec * DegToRad);
        }
        double centreRa = Math.Atan2(cy, cx) / DegToRad;
        double centreDec = Math.Atan2(cz, Math.Sqrt(cx * cx + cy * cy)) / DegToRad;
        double radius = corners.Max(c => TanWcs.AngularSeparationDegrees(centreRa, centreDec, c.Ra, c.Dec));
        var found = new List<PatchInfo>();
        for (int id = 0; id < TractCount; id++)
        {
            var (tra, tdec) = TractCentre(id);
            // A tract reaches at most its half-diagonal (half-size plus overlap, times √2, plus slack) from its centre.
            double reach = (0.5 * _ringSize / DegToRad + Config.TractOverlapDegrees) * Math.Sqrt(2.0) * 1.05;
            if (id == 0 || id == TractCount - 1)
            {
                reach = (_ringSize / DegToRad + Config.TractOverlapDegrees) * Math.Sqrt(2.0) * 1.05;
            }
            if (TanWcs.AngularSeparationDegrees(tra, tdec, centreRa, centreDec) <= reach + radius)
            {
                found.AddRange(Tract(id).PatchesOverlapping(corners));
            }
        }
        return found;
    }

    private (double Ra, double Dec) TractCentre(int id)
    {
        if (id == 0)
        {
            return (0.0, -90.0);
        }
        if (id == TractCount - 1)
        {
            return (0.0, 90.0);
        }
        int ring = Array.BinarySearch(_ringFirstTract, id);
        if (ring < 0)
        {
            ring = ~ring - 1;
        }
        int slot = id - _ringFirstTract[ring];
        double dec = (_ringSize * (ring + 1) - 0.5 * Math.PI) / DegToRad;
        double ra = (Config.RaStartDegrees + 360.0 * slot / _ringTracts[ring]) % 360.0;
        return (ra < 0 ? ra + 360.0 : ra, dec);
    }

    private TractInfo BuildTract(int id)
    {
        var (ra, dec) = TractCentre(id);
        // The nominal half-size is half a ring; the tract's minimum box holds it plus the overlap on every side.
        double reach = 0.5 * _ringSize + Config.TractOverlapDegrees * DegToRad;
        double scaleDeg = Config.PixelScaleArcsec / 3600.0;
        // On a TAN plane centred on the tract, a point at angle d along a great circle through the centre sits at
        // tan(d) from it: the four corner points at ±reach give the box ±tan(reach) on each axis.
        double half = Math.Tan(reach) / DegToRad / scaleDeg;
        // Pixel i spans [i − 0.5, i + 0.5): the integer box holds the pixels that contain ±half.
        int min = (int)Math.Floor(-half + 0.5);
        int max = (int)Math.Ceiling(half - 0.5);
        int dim = max - min + 1;
        int inner = Config.PatchInnerSize;
        int patches = (dim + inner - 1) / inner;
        int grown = patches * inner;
        min -= (grown - dim) / 2;
        // Shift the reference pixel so that the tract box starts at pixel (0, 0).
        var wcs = new TanWcs(ra, dec, -min + 1.0, -min + 1.0, -scaleDeg, 0.0, 0.0, scaleDeg);
        return new TractInfo(id, ra, dec, wcs, grown, grown, patches, patches, inner, Config.PatchBorder);
    }
}

/// <summary>An integer pixel box, inclusive of <see cref="X0"/>/<see cref="Y0"/>, of size <see cref="Width"/> × <see cref="Height"/>.</summary>
public readonly record struct PixelBox(int X0, int Y0, int Width, int Height)
{
    public int X1 => X0 + Width;

    public int Y1 => Y0 + Height;

    public bool Contains(int x, int y) => x >= X0 && x < X1 && y >= Y0 && y < Y1;

    public bool Contains(double x, double y) => x >= X0 - 0.5 && x < X1 - 0.5 && y >= Y0 - 0.5 && y < Y1 - 0.5;

    public override string ToString() => $"[{X0}, {X1}) x [{Y0}, {Y1})";
}

/// <summary>One tract: its id, centre, TAN WCS (pixel (0, 0) at the box's corner) and its grid of patches.</summary>
public sealed class TractInfo
{
    internal TractInfo(int id, double ra, double dec, TanWcs wcs, int width, int height, int patchesX, int patchesY, int patchInner, int patchBorder)
    {
        Id = id;
        CentreRa = ra;
        CentreDec = dec;
        Wcs = wcs;
        Box = new PixelBox(0, 0, width, height);
        PatchesX = patchesX;
        PatchesY = patchesY;
        PatchInnerSize = patchInner;
        PatchBorder = patchBorder;
    }

    public int Id { get; }

    public double CentreRa { get; }

    public double CentreDec { get; }

    public TanWcs Wcs { get; }

    public PixelBox Box { get; }

    public int PatchesX { get; }

    public int PatchesY { get; }

    public int PatchInnerSize { get; }

    public int PatchBorder { get; }

    public int PatchCount => PatchesX * PatchesY;

    /// <summary>The patch with sequential index <paramref name="patch"/> = x + y · <see cref="PatchesX"/>.</summary>
    public PatchInfo Patch(int patch)
    {
        if (patch < 0 || patch >= PatchCount)
        {
            throw new ArgumentOutOfRangeException(nameof(patch), patch, $"tract {Id} has patches 0 to {PatchCount - 1}");
        }
        return Patch(patch % PatchesX, patch / PatchesX);
    }

    public PatchInfo Patch(int x, int y)
    {
        if (x < 0 || x >= PatchesX || y < 0 || y >= PatchesY)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"patch ({x}, {y}) is outside tract {Id}'s {PatchesX} x {PatchesY}");
        }
        var inner = new PixelBox(x * PatchInnerSize, y * PatchInnerSize, PatchInnerSize, PatchInnerSize);
        int x0 = Math.Max(inner.X0 - PatchBorder, 0), y0 = Math.Max(inner.Y0 - PatchBorder, 0);
        int x1 = Math.Min(inner.X1 + PatchBorder, Box.Width), y1 = Math.Min(inner.Y1 + PatchBorder, Box.Height);
        return new PatchInfo(this, x, y, x + y * PatchesX, inner, new PixelBox(x0, y0, x1 - x0, y1 - y0));
    }

    /// <summary>The patch whose inner region holds the position, or null when it is off the tract.</summary>
    public PatchInfo? FindPatch(double ra, double dec)
    {
        var (x, y) = Wcs.SkyToPixel(ra, dec);
        if (!double.IsFinite(x) || !Box.Contains(x, y))
        {
            return null;
        }
        int px = (int)Math.Floor(x + 0.5), py = (int)Math.Floor(y + 0.5);
        return Patch(Math.Min(px / PatchInnerSize, PatchesX - 1), Math.Min(py / PatchInnerSize, PatchesY - 1));
    }

    /// <summary>Whether the tract's inner region (its patches' inner regions) holds the position.</summary>
    public bool Contains(double ra, double dec)
    {
        var (x, y) = Wcs.SkyToPixel(ra, dec);
        return double.IsFinite(x) && Box.Contains(x, y);
    }

    /// <summary>Patches whose region the pixel box of the corners, grown by the border and clipped to the tract, touches.</summary>
    public IReadOnlyList<PatchInfo> PatchesOverlapping(IReadOnlyList<(double Ra, double Dec)> corners)
    {
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        foreach (var (ra, dec) in corners)
        {
            var (x, y) = Wcs.SkyToPixel(ra, dec);
            if (!double.IsFinite(x))
            {
                continue;
            }
            minX = Math.Min(minX, x);
            minY = Math.Min(minY, y);
            maxX = Math.Max(maxX, x);
            maxY = Math.Max(maxY, y);
        }
        if (!double.IsFinite(minX))
        {
            return [];
        }
        int x0 = Math.Max((int)Math.Floor(minX + 0.5) - PatchBorder, 0), y0 = Math.Max((int)Math.Floor(minY + 0.5) - PatchBorder, 0);
        int x1 = Math.Min((int)Math.Ceiling(maxX - 0.5) + PatchBorder, Box.Width - 1), y1 = Math.Min((int)Math.Ceiling(maxY - 0.5) + PatchBorder, Box.Height - 1);
        if (x1 < x0 || y1 < y0)
        {
            return [];
        }
        var list = new List<PatchInfo>();
        for (int py = y0 / PatchInnerSize; py <= y1 / PatchInnerSize; py++)
        {
            for (int px = x0 / PatchInnerSize; px <= x1 / PatchInnerSize; px++)
            {
                list.Add(Patch(px, py));
            }
        }
        return list;
    }

    public override string ToString() => $"tract {Id}";
}

/// <summary>One patch of a tract: its index, inner and outer boxes in tract pixels, and the WCS of its outer box.</summary>
public sealed record PatchInfo(TractInfo Tract, int X, int Y, int Index, PixelBox Inner, PixelBox Outer)
{
    /// <summary>The WCS of an image of the outer box, whose pixel (0, 0) is the box's corner.</summary>
    public TanWcs Wcs => Tract.Wcs.ForSubimage(Outer.X0, Outer.Y0);

    /// <summary>Whether a position of the outer box's image (zero-based, its own pixels) lies in the inner region.</summary>
    public bool InInner(double x, double y) => Inner.Contains(x + Outer.X0, y + Outer.Y0);

    public override string ToString() => $"tract {Tract.Id} patch {Index} ({X},{Y})";
}
