using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Workflows.Activities;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests;

/// <summary>
/// The step's catalog QA gate on Azurite: Source Parquet files and CcdVisit summaries written where step 1 writes them
/// (by the real writers), checked from the schema; a NaN in a user-facing column fails the gate naming table and column.
/// </summary>
public sealed class CatalogQaActivityTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private const string Instrument = "LSSTCam-sim";
    private const double Ra0 = 62.0, Dec0 = -37.0, Size = 0.2; // detector 0.2 deg on a side

    private static CcdVisitSummary Summary(long visit, int detector, int nSources)
    {
        double ra = Ra0 + detector * Size, c = Math.Cos(Dec0 * Math.PI / 180);
        double w = Size / c;
        return new CcdVisitSummary(visit * 1000 + detector, visit, detector, "r", 31.2, 0.003, 0.05, nSources, 40, 25, 3.5, 4.1, 4.0, 0.01,
            1200, 35, 0.8, 1.7, 0.2, ra, Dec0, ra, Dec0 + Size, ra + w, Dec0 + Size, ra + w, Dec0, 30.0, 60000.0 + visit / 1000.0, null);
    }

    /// <summary>A Source table of <paramref name="n"/> rows spread over the detector's sky area (or its left half).</summary>
    private static CatalogTable Sources(CcdVisitSummary s, int n, bool leftHalfOnly = false)
    {
        var table = SourceSchema.Table.NewTable();
        var rng = new Random((int)s.CcdVisitId);
        for (int i = 0; i < n; i++)
        {
            var row = new object?[table.Columns.Count];
            for (int c = 0; c < row.Length; c++)
            {
                row[c] = table.Columns[c].Type switch
                {
                    ColumnType.Long => 0L,
                    ColumnType.Int => 0,
                    ColumnType.Boolean => false,
                    ColumnType.String => "r",
                    _ => 1.0,
                };
            }
            double u = rng.NextDouble() * (leftHalfOnly ? 0.5 : 1.0), v = rng.NextDouble();
            row[table.IndexOf("sourceId")] = (s.CcdVisitId << 24) | (long)i;
            row[table.IndexOf("ccdVisitId")] = s.CcdVisitId;
            row[table.IndexOf("visit")] = s.Visit;
            row[table.IndexOf("detector")] = s.Detector;
            row[table.IndexOf("coord_ra")] = s.Llcra + u * (s.Lrcra - s.Llcra);
            row[table.IndexOf("coord_dec")] = s.Llcdec + v * Size;
            row[table.IndexOf("psfFlux")] = double.NaN; // allowed: its flag is set
            row[table.IndexOf("psfFlux_flag")] = true;
            table.Add(row);
        }
        return table;
    }

    private static async Task WriteAsync(StorageClients storage, string run, CcdVisitSummary s, CatalogTable sources)
    {
        var id = new DataId(Instrument, s.Visit, s.Detector);
        using var ms = new MemoryStream();
        await ParquetCatalogWriter.WriteAsync(ms, sources);
        await storage.Data.WriteAsync(DatasetType.SourceTable, id, run, ms.ToArray(), "test", "application/vnd.apache.parquet");
        await storage.Data.WriteAsync(DatasetType.CcdVisitSummary, id, run, JsonSerializer.SerializeToUtf8Bytes(s), "test", "application/json");
    }

    [Fact]
    public async Task Execute_CleanStep1Catalogs_PassesAndStoresResultsWithCoverage()
    {
        var (storage, run) = await fixture.NewRunStorageAsync();
        foreach (int d in new[] { 0, 1 })
        {
            var s = Summary(7, d, 300);
            await WriteAsync(storage, run, s, Sources(s, 300));
        }

        var result = await new CatalogQaActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, NullLogger<CatalogQaActivity>.Instance).ExecuteAsync(new StepQaInput(run, Instrument, "step1"));

        Assert.True(result.Passed, result.Summary);
        Assert.Equal(0, result.CoverageWarnings);
        Assert.Equal([("Source", 600L), ("CcdVisit", 2L)], result.Tables.Select(t => (t.Table, t.Rows)));
        var doc = JsonSerializer.Deserialize<StepQaDocument>(await storage.Data.ReadAllAsync(result.ResultsPath!))!;
        Assert.True(doc.Passed);
        Assert.Equal(2, doc.Coverage.Count);
        Assert.All(doc.Coverage, c => Assert.Equal(300, c.Counts.Sum()));
        Assert.Equal(600, doc.Reports[0].Missing.Single(m => m.Column == "psfFlux").Missing);
    }

    [Fact]
    public async Task Execute_NaNInAUserFacingColumn_FailsNamingTableColumnAndCount()
    {
        var (storage, run) = await fixture.NewRunStorageAsync();
        var s0 = Summary(7, 0, 200);
        var s1 = Summary(7, 1, 200);
        await WriteAsync(storage, run, s0, Sources(s0, 200));
        var bad = Sources(s1, 200);
        bad.Rows[17][bad.IndexOf("coord_dec")] = double.NaN;
        bad.Rows[18][bad.IndexOf("kronFlux")] = double.NaN; // NaN without kronFlux_flag
        await WriteAsync(storage, run, s1, bad);

        var result = await new CatalogQaActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, NullLogger<CatalogQaActivity>.Instance).ExecuteAsync(new StepQaInput(run, Instrument, "step1"));

        Assert.False(result.Passed);
        Assert.Contains("Source.coord_dec: 1 of 400 rows are NaN or infinite", result.Summary);
        Assert.Contains("Source.kronFlux: 1 of 400 rows are NaN or null without kronFlux_flag set", result.Summary);
    }

    [Fact]
    public async Task Execute_LostRowsAndAHole_FailOnTheCountAndWarnOnCoverage()
    {
        var (storage, run) = await fixture.NewRunStorageAsync();
        var s0 = Summary(8, 0, 250);
        await WriteAsync(storage, run, s0, Sources(s0, 240)); // 10 rows lost on the way
        var s1 = Summary(8, 1, 250);
        await WriteAsync(storage, run, s1, Sources(s1, 250, leftHalfOnly: true)); // right half silently empty

        var result = await new CatalogQaActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, NullLogger<CatalogQaActivity>.Instance).ExecuteAsync(new StepQaInput(run, Instrument, "step1"));

        Assert.False(result.Passed);
        Assert.Contains("differ for ccdVisitId 8000: 240 Source rows, CcdVisit.nSources 250", result.Summary);
        Assert.Equal(1, result.CoverageWarnings);
        var doc = JsonSerializer.Deserialize<StepQaDocument>(await storage.Data.ReadAllAsync(result.ResultsPath!))!;
        var hole = doc.Coverage.Single(c => c.CcdVisitId == 8001);
        Assert.Equal(8, hole.EmptyCells); // the right two columns of the 4 x 4 map
        Assert.Contains("ccdVisitId 8001: 8 of 16 coverage cells hold no source", Assert.Single(doc.Warnings));
    }

    [Fact]
    public async Task Execute_StepWithoutCatalogTables_PassesSayingSo()
    {
        var (storage, run) = await fixture.NewRunStorageAsync();

        var result = await new CatalogQaActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, NullLogger<CatalogQaActivity>.Instance).ExecuteAsync(new StepQaInput(run, Instrument, "step3"));

        Assert.True(result.Passed);
        Assert.Contains("no catalog tables produced by this step", result.Summary);
    }
}
