namespace Drp.Pipeline.SingleFrame;

/// <summary>A reference-catalog object: position in degrees (ICRS) and flux in nJy in the exposure's band.</summary>
public readonly record struct ReferenceObject(double Ra, double Dec, double FluxNJy);

/// <summary>A source matched to a reference object.</summary>
public readonly record struct SkyMatch(int SourceIndex, int ReferenceIndex, double DistanceArcsec);

/// <summary>Spherical helpers and a sorted-declination positional matcher (O((N + M) log M) for N sources, M references).</summary>
public static class SkyMatcher
{
    /// <summary>Great-circle distance in arcseconds (haversine: accurate at small separations).</summary>
    public static double DistanceArcsec(double ra1, double dec1, double ra2, double dec2)
    {
        const double d2r = Math.PI / 180.0;
        double sdd = Math.Sin(0.5 * (dec2 - dec1) * d2r);
        double sda = Math.Sin(0.5 * (ra2 - ra1) * d2r);
        double a = sdd * sdd + Math.Cos(dec1 * d2r) * Math.Cos(dec2 * d2r) * sda * sda;
        return 2.0 * Math.Asin(Math.Min(1.0, Math.Sqrt(a))) / d2r * 3600.0;
    }

    /// <summary>
    /// One-to-one matches within <paramref name="radiusArcsec"/>: each source takes its nearest reference, and where
    /// two sources want the same reference the closer pair wins. References are sorted by declination once and each
    /// source scans only the band dec ± radius; right ascension wraps correctly.
    /// </summary>
    public static IReadOnlyList<SkyMatch> Match(
        IReadOnlyList<(double Ra, double Dec)> sources, IReadOnlyList<ReferenceObject> references, double radiusArcsec)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(references);
        var order = new int[references.Count];
        var decs = new double[references.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            decs[i] = references[i].Dec;
        }
        Array.Sort(decs, order);
        double radiusDeg = radiusArcsec / 3600.0;

        var candidates = new List<SkyMatch>();
        for (int s = 0; s < sources.Count; s++)
        {
            var (ra, dec) = sources[s];
            if (!double.IsFinite(ra) || !double.IsFinite(dec))
            {
                continue;
            }
            int k = LowerBound(decs, dec - radiusDeg);
            int best = -1;
            double bestDistance = double.PositiveInfinity;
            for (; k < decs.Length && decs[k] <= dec + radiusDeg; k++)
            {
                var r = references[order[k]];
                double d = DistanceArcsec(ra, dec, r.Ra, r.Dec);
                if (d <= radiusArcsec && d < bestDistance)
                {
                    bestDistance = d;
                    best = order[k];
                }
            }
            if (best >= 0)
            {
                candidates.Add(new SkyMatch(s, best, bestDistance));
            }
        }

        candidates.Sort((a, b) => a.DistanceArcsec.CompareTo(b.DistanceArcsec));
        var taken = new HashSet<int>();
        var matches = new List<SkyMatch>(candidates.Count);
        foreach (var c in candidates)
        {
            if (taken.Add(c.ReferenceIndex))
            {
                matches.Add(c);
            }
        }
        matches.Sort((a, b) => a.SourceIndex.CompareTo(b.SourceIndex));
        return matches;
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}

/// <summary>
/// The detector's outline on the sky, from the caller's pixel-to-sky mapping (zero-based pixel coordinates, pixel
/// centres at integers, so the outline runs through -0.5 and size - 0.5), in a gnomonic projection about its centre.
/// </summary>
public sealed class DetectorSky
{
    private readonly double _ra0;
    private readonly double _dec0;
    private readonly (double Xi, double Eta)[] _outline;

    private DetectorSky(double ra0, double dec0, (double Ra, double Dec)[] corners, double pixelScaleArcsec)
    {
        _ra0 = ra0;
        _dec0 = dec0;
        Corners = corners;
        PixelScaleArcsec = pixelScaleArcsec;
        _outline = new (double, double)[corners.Length];
        for (int i = 0; i < corners.Length; i++)
        {
            _outline[i] = Project(corners[i].Ra, corners[i].Dec) ?? (double.NaN, double.NaN);
        }
    }

    /// <summary>Sky positions of the outer corners of pixels (0,0), (w-1,0), (w-1,h-1), (0,h-1): ll, lr, ur, ul.</summary>
    public IReadOnlyList<(double Ra, double Dec)> Corners { get; }

    /// <summary>Local pixel scale at the centre, arcsec per pixel (square root of the Jacobian's determinant).</summary>
    public double PixelScaleArcsec { get; }

    public static DetectorSky From(Func<double, double, (double Ra, double Dec)> pixelToSky, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixelToSky);
        double cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);
        var centre = pixelToSky(cx, cy);
        var corners = new[]
        {
            pixelToSky(-0.5, -0.5),
            pixelToSky(width - 0.5, -0.5),
            pixelToSky(width - 0.5, height - 0.5),
            pixelToSky(-0.5, height - 0.5),
        };
        var sky = new DetectorSky(centre.Ra, centre.Dec, corners, 0);
        var px = sky.Project(pixelToSky(cx + 0.5, cy).Ra, pixelToSky(cx + 0.5, cy).Dec);
        var mx = sky.Project(pixelToSky(cx - 0.5, cy).Ra, pixelToSky(cx - 0.5, cy).Dec);
        var py = sky.Project(pixelToSky(cx, cy + 0.5).Ra, pixelToSky(cx, cy + 0.5).Dec);
        var my = sky.Project(pixelToSky(cx, cy - 0.5).Ra, pixelToSky(cx, cy - 0.5).Dec);
        double scale = double.NaN;
        if (px is { } a && mx is { } b && py is { } c && my is { } d)
        {
            double det = (a.Xi - b.Xi) * (c.Eta - d.Eta) - (a.Eta - b.Eta) * (c.Xi - d.Xi);
            scale = Math.Sqrt(Math.Abs(det)) * 3600.0;
        }
        return new DetectorSky(centre.Ra, centre.Dec, corners, scale);
    }

    /// <summary>True when the position lies inside the detector outline.</summary>
    public bool Contains(double ra, double dec)
    {
        if (Project(ra, dec) is not { } p)
        {
            return false;
        }
        int sign = 0;
        for (int i = 0; i < _outline.Length; i++)
        {
            var a = _outline[i];
            var b = _outline[(i + 1) % _outline.Length];
            double cross = (b.Xi - a.Xi) * (p.Eta - a.Eta) - (b.Eta - a.Eta) * (p.Xi - a.Xi);
            int s = Math.Sign(cross);
            if (s == 0)
            {
                continue;
            }
            if (sign == 0)
            {
                sign = s;
            }
            else if (s != sign)
            {
                return false;
            }
        }
        return sign != 0;
    }

    /// <summary>Gnomonic projection about the centre, in degrees; null on the far hemisphere.</summary>
    private (double Xi, double Eta)? Project(double ra, double dec)
    {
        const double d2r = Math.PI / 180.0;
        double dra = (ra - _ra0) * d2r;
        double sd = Math.Sin(dec * d2r), cd = Math.Cos(dec * d2r);
        double sd0 = Math.Sin(_dec0 * d2r), cd0 = Math.Cos(_dec0 * d2r);
        double cosc = sd0 * sd + cd0 * cd * Math.Cos(dra);
        if (!(cosc > 0))
        {
            return null;
        }
        double xi = cd * Math.Sin(dra) / cosc;
        double eta = (cd0 * sd - sd0 * cd * Math.Cos(dra)) / cosc;
        return (xi / d2r, eta / d2r);
    }
}
