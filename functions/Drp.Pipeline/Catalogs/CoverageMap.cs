namespace Drp.Pipeline.Catalogs;

/// <summary>A detector's sky corners (degrees): ll is the pixel (0, 0) corner, lr (W, 0), ur (W, H), ul (0, H).</summary>
public sealed record DetectorCorners(double LlRa, double LlDec, double LrRa, double LrDec, double UrRa, double UrDec, double UlRa, double UlDec);

/// <summary>
/// Source counts on a grid x grid map over one detector (row-major, row 0 at the ll-lr edge), and the cells left empty.
/// An empty cell where the detector was processed is the signature of DP0.2's silent holes (DM-33786).
/// </summary>
public sealed record DetectorCoverage(long CcdVisitId, int Grid, int Sources, IReadOnlyList<int> Counts)
{
    public int EmptyCells => Counts.Count(c => c == 0);
}

/// <summary>Coverage maps: where on a detector its sources lie, from the sky positions alone (pure; no WCS needed).</summary>
public static class CoverageMap
{
    /// <summary>
    /// Counts <paramref name="sources"/> (ra, dec in degrees) on a <paramref name="grid"/> x <paramref name="grid"/>
    /// map of the detector: each position is mapped to detector fractions (u, v) in [0, 1]² by inverting the bilinear
    /// map of the four corners on the tangent plane at the detector's centre (accurate to well under a cell for a
    /// detector a fraction of a degree across). Positions off the detector count in the nearest edge cell.
    /// </summary>
    public static DetectorCoverage ForDetector(long ccdVisitId, DetectorCorners c, IEnumerable<(double Ra, double Dec)> sources, int grid = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(grid, 1);
        double ra0 = c.LlRa, dec0 = (c.LlDec + c.LrDec + c.UrDec + c.UlDec) / 4;
        double cos0 = Math.Cos(dec0 * Math.PI / 180);
        (double X, double Y) P(double ra, double dec) => (WrapDelta(ra - ra0) * cos0, dec - dec0);
        var ll = P(c.LlRa, c.LlDec);
        var lr = P(c.LrRa, c.LrDec);
        var ur = P(c.UrRa, c.UrDec);
        var ul = P(c.UlRa, c.UlDec);
        var counts = new int[grid * grid];
        int n = 0;
        foreach (var (ra, dec) in sources)
        {
            var (u, v) = Invert(P(ra, dec), ll, lr, ur, ul);
            int i = Math.Clamp((int)Math.Floor(u * grid), 0, grid - 1);
            int j = Math.Clamp((int)Math.Floor(v * grid), 0, grid - 1);
            counts[j * grid + i]++;
            n++;
        }
        return new DetectorCoverage(ccdVisitId, grid, n, counts);
    }

    private static double WrapDelta(double d) => d > 180 ? d - 360 : d < -180 ? d + 360 : d;

    /// <summary>Solves P = (1-u)(1-v) ll + u(1-v) lr + uv ur + (1-u)v ul for (u, v) by Newton's method.</summary>
    private static (double U, double V) Invert((double X, double Y) p, (double X, double Y) ll, (double X, double Y) lr, (double X, double Y) ur, (double X, double Y) ul)
    {
        double u = 0.5, v = 0.5;
        for (int iter = 0; iter < 20; iter++)
        {
            double fx = (1 - u) * (1 - v) * ll.X + u * (1 - v) * lr.X + u * v * ur.X + (1 - u) * v * ul.X - p.X;
            double fy = (1 - u) * (1 - v) * ll.Y + u * (1 - v) * lr.Y + u * v * ur.Y + (1 - u) * v * ul.Y - p.Y;
            double dxu = (1 - v) * (lr.X - ll.X) + v * (ur.X - ul.X);
            double dyu = (1 - v) * (lr.Y - ll.Y) + v * (ur.Y - ul.Y);
            double dxv = (1 - u) * (ul.X - ll.X) + u * (ur.X - lr.X);
            double dyv = (1 - u) * (ul.Y - ll.Y) + u * (ur.Y - lr.Y);
            double det = dxu * dyv - dxv * dyu;
            if (det == 0)
            {
                break;
            }
            double du = (fx * dyv - fy * dxv) / det;
            double dv = (fy * dxu - fx * dyu) / det;
            u -= du;
            v -= dv;
            if (Math.Abs(du) + Math.Abs(dv) < 1e-12)
            {
                break;
            }
        }
        return (u, v);
    }
}
