using Drp.Pipeline.Catalogs;

namespace Drp.Pipeline.Tests.Catalogs;

public sealed class CatalogQaTests
{
    private static readonly ColumnDef[] s_columns =
    [
        new("sourceId", ColumnType.Long, null, "id"),
        new("ccdVisitId", ColumnType.Long, null, "detector-visit"),
        new("coord_ra", ColumnType.Double, "deg", "ra"),
        new("coord_dec", ColumnType.Double, "deg", "dec"),
        new("psfFlux", ColumnType.Double, "nJy", "flux"),
        new("psfFluxErr", ColumnType.Double, "nJy", "flux error"),
        new("note", ColumnType.String, null, "optional", Nullable: true),
    ];

    private static CatalogTable Good(int n = 50)
    {
        var t = new CatalogTable("Source", s_columns);
        for (int i = 0; i < n; i++)
        {
            t.Add((long)i, 1000L + i % 3, 61.9 + i * 1e-4, -35.8, 100.0 * i - 500, 3.0, i % 2 == 0 ? null : "x");
        }
        return t;
    }

    [Fact]
    public void Check_CleanTable_Passes()
    {
        var report = CatalogQa.Check(Good(), "sourceId", [new("ccdVisitId", "CcdVisit", new HashSet<object> { 1000L, 1001L, 1002L })]);
        Assert.True(report.Passed, report.Summary);
        Assert.Equal(50, report.Rows);
        Assert.True(report.ChecksRun >= s_columns.Length + 2);
    }

    [Fact]
    public void Check_NaNInjectedIntoAFluxColumn_FailsNamingTableColumnAndCount()
    {
        var t = Good();
        int flux = t.IndexOf("psfFlux");
        t.Rows[7][flux] = double.NaN;
        t.Rows[9][flux] = double.PositiveInfinity;

        var report = CatalogQa.Check(t, "sourceId");

        var f = Assert.Single(report.Findings);
        Assert.Equal(("Source", "psfFlux", "finite", 2L), (f.Table, f.Column, f.Check, f.Count));
        Assert.Contains("Source.psfFlux: 2 of 50 rows are NaN or infinite", report.Summary);
    }

    [Fact]
    public void Check_RangesDuplicatesAndOrphans_AreEachReported()
    {
        var t = Good();
        t.Rows[1][t.IndexOf("coord_dec")] = -91.0;
        t.Rows[2][t.IndexOf("coord_ra")] = 360.0;
        t.Rows[3][t.IndexOf("psfFluxErr")] = 0.0;
        t.Rows[4][t.IndexOf("sourceId")] = 5L;
        t.Rows[6][t.IndexOf("ccdVisitId")] = 999L;

        var report = CatalogQa.Check(t, "sourceId", [new("ccdVisitId", "CcdVisit", new HashSet<object> { 1000L, 1001L, 1002L })]);

        var checks = report.Findings.Select(f => (f.Column, f.Check)).ToHashSet();
        Assert.Equal(new HashSet<(string?, string)>
        {
            ("coord_dec", "range"), ("coord_ra", "range"), ("psfFluxErr", "range"), ("sourceId", "unique"), ("ccdVisitId", "foreign-key"),
        }, checks);
        Assert.Contains("have no row in CcdVisit", report.Summary);
    }

    [Fact]
    public void Check_NullInNonNullableColumn_IsReported()
    {
        var t = Good();
        t.Rows[0][t.IndexOf("psfFlux")] = null; // bypasses Add's check, as a buggy writer could
        var f = Assert.Single(CatalogQa.Check(t).Findings);
        Assert.Equal("not-null", f.Check);
    }
}
