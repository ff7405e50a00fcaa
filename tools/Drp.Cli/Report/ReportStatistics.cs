using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;

namespace Drp.Cli.Report;

/// <summary>How many values of a column are missing: null, or NaN in a floating-point column.</summary>
public sealed record ColumnNanFraction(string Column, long Missing, long Rows)
{
    public double Fraction => Rows == 0 ? 0 : (double)Missing / Rows;
}

/// <summary>A 2D histogram of sky positions: <see cref="Counts"/>[i, j] counts RA bin i and Dec bin j.</summary>
public sealed record SkyDensity(double RaMin, double RaMax, double DecMin, double DecMax, int[,] Counts, long Positions)
{
    public int RaBins => Counts.GetLength(0);

    public int DecBins => Counts.GetLength(1);

    /// <summary>Area of one bin in square arcminutes (RA widths shrink by cos(dec) at the bin centre).</summary>
    public double BinAreaArcmin2(int decBin)
    {
        double dec = DecMin + (decBin + 0.5) * (DecMax - DecMin) / DecBins;
        return (RaMax - RaMin) / RaBins * Math.Cos(dec * Math.PI / 180) * (DecMax - DecMin) / DecBins * 3600;
    }
}

/// <summary>A measured source matched to a truth object: the true magnitude, and psfFlux over the true flux.</summary>
public readonly record struct PhotometryMatch(string Band, long SourceId, double TrueMag, double TrueFlux, double PsfFlux)
{
    public double Ratio => PsfFlux / TrueFlux;
}

/// <summary>The report's numbers, pure functions of the in-memory catalogs (the page only draws them).</summary>
public static class ReportStatistics
{
    /// <summary>Per column, in table order: null values, and NaN values of Double and Float columns.</summary>
    public static IReadOnlyList<ColumnNanFraction> NanFractions(CatalogTable table)
    {
        var missing = new long[table.Columns.Count];
        foreach (var row in table.Rows)
        {
            for (int c = 0; c < missing.Length; c++)
            {
                if (row[c] is null || (row[c] is double d && double.IsNaN(d)) || (row[c] is float f && float.IsNaN(f)))
                {
                    missing[c]++;
                }
            }
        }
        return table.Columns.Select((col, c) => new ColumnNanFraction(col.Name, missing[c], table.Rows.Count)).ToArray();
    }

    /// <summary>
    /// The finite (coord_ra, coord_dec) pairs of a table, RA unwrapped so that a field across RA = 0 stays together
    /// (values above 180 become negative when the positions span more than 180 degrees).
    /// </summary>
    public static IReadOnlyList<(double Ra, double Dec)> Positions(CatalogTable table, string raColumn = "coord_ra", string decColumn = "coord_dec")
    {
        if (!HasColumn(table, raColumn) || !HasColumn(table, decColumn))
        {
            return [];
        }
        int ra = table.IndexOf(raColumn), dec = table.IndexOf(decColumn);
        var list = new List<(double Ra, double Dec)>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            if (row[ra] is double r && row[dec] is double d && double.IsFinite(r) && double.IsFinite(d))
            {
                list.Add((r, d));
            }
        }
        return Unwrap(list);
    }

    /// <summary>RA unwrapped around 0 when the set spans more than 180 degrees.</summary>
    public static IReadOnlyList<(double Ra, double Dec)> Unwrap(IReadOnlyList<(double Ra, double Dec)> positions)
    {
        if (positions.Count == 0 || positions.Max(p => p.Ra) - positions.Min(p => p.Ra) <= 180)
        {
            return positions;
        }
        return positions.Select(p => (p.Ra > 180 ? p.Ra - 360 : p.Ra, p.Dec)).ToArray();
    }

    /// <summary>A histogram of <paramref name="bins"/> x <paramref name="bins"/> over the positions' extent; null when there are none.</summary>
    public static SkyDensity? Density(IReadOnlyList<(double Ra, double Dec)> positions, int bins = 40)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (positions.Count == 0)
        {
            return null;
        }
        double raMin = positions.Min(p => p.Ra), raMax = positions.Max(p => p.Ra);
        double decMin = positions.Min(p => p.Dec), decMax = positions.Max(p => p.Dec);
        // A single position (or a line of them) still gets a visible cell: widen a zero extent to one arcminute.
        if (raMax - raMin < 1e-9)
        {
            (raMin, raMax) = (raMin - 1.0 / 120, raMax + 1.0 / 120);
        }
        if (decMax - decMin < 1e-9)
        {
            (decMin, decMax) = (decMin - 1.0 / 120, decMax + 1.0 / 120);
        }
        var counts = new int[bins, bins];
        foreach (var (ra, dec) in positions)
        {
            int i = Math.Min(bins - 1, (int)((ra - raMin) / (raMax - raMin) * bins));
            int j = Math.Min(bins - 1, (int)((dec - decMin) / (decMax - decMin) * bins));
            counts[i, j]++;
        }
        return new SkyDensity(raMin, raMax, decMin, decMax, counts, positions.Count);
    }

    /// <summary>
    /// Matches each detector-visit's sources (by ccdVisitId, one to one, nearest first, within
    /// <paramref name="radiusArcsec"/>; <see cref="SkyMatcher"/>) to the truth of its band, and returns the matches
    /// with a finite psfFlux and a positive true flux. Truth is cut to each detector-visit's extent first, so the
    /// cost grows with the sources, not with detectors x truth.
    /// </summary>
    public static IReadOnlyList<PhotometryMatch> MatchToTruth(
        CatalogTable sources, IReadOnlyDictionary<string, IReadOnlyList<ReferenceObject>> truthByBand, double radiusArcsec)
    {
        string[] needed = ["sourceId", "ccdVisitId", "band", "coord_ra", "coord_dec", "psfFlux"];
        if (needed.Any(c => !HasColumn(sources, c)))
        {
            return [];
        }
        int id = sources.IndexOf("sourceId"), ccd = sources.IndexOf("ccdVisitId"), band = sources.IndexOf("band");
        int ra = sources.IndexOf("coord_ra"), dec = sources.IndexOf("coord_dec"), flux = sources.IndexOf("psfFlux");
        var matches = new List<PhotometryMatch>();
        foreach (var group in sources.Rows.GroupBy(r => (Ccd: r[ccd], Band: r[band] as string)))
        {
            if (group.Key.Band is not { } b || !truthByBand.TryGetValue(b, out var truth) || truth.Count == 0)
            {
                continue;
            }
            var rows = group.Where(r => r[ra] is double x && double.IsFinite(x) && r[dec] is double y && double.IsFinite(y)).ToList();
            if (rows.Count == 0)
            {
                continue;
            }
            var positions = Unwrap(rows.Select(r => ((double)r[ra]!, (double)r[dec]!)).ToArray());
            double pad = radiusArcsec / 3600.0;
            double decLo = positions.Min(p => p.Dec) - pad, decHi = positions.Max(p => p.Dec) + pad;
            double cosDec = Math.Max(0.01, Math.Cos(Math.Max(Math.Abs(decLo), Math.Abs(decHi)) * Math.PI / 180));
            double raLo = positions.Min(p => p.Ra) - pad / cosDec, raHi = positions.Max(p => p.Ra) + pad / cosDec;
            bool InBox(ReferenceObject t)
            {
                if (t.Dec < decLo || t.Dec > decHi)
                {
                    return false;
                }
                double tRa = t.Ra;
                if (tRa > raHi)
                {
                    tRa -= 360;
                }
                return tRa >= raLo && tRa <= raHi;
            }
            var local = truth.Where(InBox).ToList();
            if (local.Count == 0)
            {
                continue;
            }
            var sky = rows.Select(r => ((double)r[ra]!, (double)r[dec]!)).ToArray();
            foreach (var m in SkyMatcher.Match(sky, local, radiusArcsec))
            {
                var row = rows[m.SourceIndex];
                var t = local[m.ReferenceIndex];
                if (row[flux] is double f && double.IsFinite(f) && t.FluxNJy > 0 && double.IsFinite(t.FluxNJy))
                {
                    matches.Add(new PhotometryMatch(b, row[id] is long sid ? sid : 0, BandInfo.NanojanskyToMag(t.FluxNJy), t.FluxNJy, f));
                }
            }
        }
        return matches;
    }

    /// <summary>The median of finite values; NaN when there are none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }

    public static bool HasColumn(CatalogTable table, string column) => table.Columns.Any(c => c.Name == column);
}
