using Azure.Data.Tables;
using Drp.Cli;
using Drp.Pipeline.Catalogs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// The first end-to-end run against real Azurite: N raws in (each upload delivering its BlobCreated event, one event
/// delivered twice) -> N registered -> each raw's step 1 and each visit's step 2 run by the arrivals themselves ->
/// a campaign of steps 1, 2 and 7 that skips what the arrivals did: exactly N detector quanta processed once each,
/// each visit consolidated, the CcdVisit and Visit tables -> Source rows in the Azure Table and in Parquet, none twice.
/// Then the same run again: every quantum skipped, nothing written twice.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DemoEndToEndTests(AzuriteFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly string _outDir = Path.Combine(Path.GetTempPath(), "drp-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Demo_DuplicatedEventAndRerun_EachDetectorProcessedOnceAndRowsNeverTwice()
    {
        const int visits = 2, detectors = 2, n = visits * detectors;
        var settings = new DemoSettings
        {
            OutDir = _outDir,
            Visits = visits,
            Detectors = detectors,
            DetectorSize = 512,
            Seed = 7,
            Run = "e2e",
            TaskHub = "e2e" + Guid.NewGuid().ToString("N")[..8],
            ConnectionString = fixture.Azurite.ConnectionString,
            DuplicateEvents = 1,
            Timeout = TimeSpan.FromMinutes(5),
        };
        var console = new StringWriter();

        var first = await new DemoRunner(settings, console).RunAsync();
        output.WriteLine(console.ToString());

        Assert.Equal(n, first.Raws.Uploaded);
        Assert.Equal(n, first.Raws.Registered);
        Assert.Equal(0, first.Raws.Rejected);
        Assert.Equal(1, first.Raws.DuplicateEvents);
        // The campaign: n step-1 quanta (one per detector), two step-2 quanta per visit, two step-7 quanta.
        int quanta = n + 2 * visits + 2;
        Assert.Equal((quanta, quanta, 0), (first.Quanta.Total, first.Quanta.Succeeded, first.Quanta.Failed));
        Assert.Equal([("step1", n), ("step2", 2 * visits), ("step7", 2)], first.Steps.Select(kv => (kv.Key, kv.Value.Succeeded)));
        // The raws processed themselves through steps 1 and 2 as they arrived: the campaign found them done.
        Assert.Equal([("step1", n), ("step2", 2 * visits), ("step7", 0)], first.Steps.Select(kv => (kv.Key, kv.Value.Skipped)));

        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = fixture.Azurite.ConnectionString });
        var registry = await new RegistryTable(storage.Registry).ListAsync(first.Instrument);
        Assert.Equal(n, registry.Count);
        Assert.Equal(n, registry.Select(r => (r.Visit, r.Detector)).Distinct().Count());

        var ledger = await new QuantumLedger(storage.Ledger).ListAsync(settings.Run);
        Assert.Equal(quanta, ledger.Count);
        Assert.All(ledger, q => Assert.Equal(QuantumState.Succeeded, q.State));
        Assert.All(ledger, q => Assert.Equal(1, q.Attempts));

        // Provenance and accounting: every row says which software and config ran it and what it used.
        var tasks = Drp.Execution.ExecutionServices.DefaultRegistry;
        var step1 = ledger.Where(q => q.Provenance?.Step == "step1").ToList();
        Assert.Equal(n, step1.Count);
        Assert.All(ledger, q => Assert.Equal(SoftwareVersion.Current.Label, q.SoftwareVersion));
        Assert.All(ledger, q => Assert.Equal(tasks.Bind(q.Provenance!.Step, q.Provenance.TaskType).ConfigHash, q.Provenance.ConfigHash));
        Assert.All(step1, q => Assert.Equal("processFrame", q.Provenance!.TaskType));
        Assert.All(ledger, q => Assert.True(q.Usage is { CpuSeconds: >= 0, PeakWorkingSetBytes: > 0, Gets: > 0, BytesRead: > 0 }, $"{q.QuantumKey}: {q.Usage}"));
        Assert.Equal([new VersionCount(SoftwareVersion.Current.Label, quanta)], first.SoftwareVersions);
        var compute = first.Accounting!.TaskTypes.Single(t => t.TaskType == "processFrame");
        Assert.Equal((n, step1.Sum(q => q.Usage!.Gets), step1.Sum(q => q.Usage!.BytesRead)), (compute.Quanta, compute.Gets, compute.BytesRead));

        var source = first.Tables[SourceSchema.TableName];
        Assert.True(source.ParquetRows > 10 * n, $"expected many sources, got {source.ParquetRows}");
        Assert.Equal(source.ParquetRows, source.AzureTableRows);
        Assert.Equal(0, source.DuplicateIds);
        Assert.Equal(source.ParquetRows, source.DistinctIds);
        long tableRowsBefore = await CountEntitiesAsync(storage.Sources);
        Assert.Equal(source.AzureTableRows, tableRowsBefore);

        // Parquet rows per detector add up to the ledger's rows per step-1 quantum.
        Assert.Equal(step1.Sum(q => q.OutputRows), source.ParquetRows);

        // Step 7: the CcdVisit and Visit tables, in Parquet and in their serving tables, one row per detector-visit and visit.
        Assert.Equal(new TableCounts(n, n, n, 0), first.Tables["CcdVisit"]);
        Assert.Equal(new TableCounts(visits, visits, visits, 0), first.Tables["Visit"]);
        Assert.All(first.StepQa, qa => Assert.True(qa.Passed, qa.Summary));
        Assert.Contains("2 Visit rows", first.StepQa.Single(q => q.Step == "step7").Summary);
        Assert.True(File.Exists(Path.Combine(_outDir, "summary.json")));
        Assert.Equal(visits, first.Outputs.CatalogFiles.Count);
        foreach (var file in first.Outputs.CatalogFiles)
        {
            await using var f = File.OpenRead(file);
            var t = await ParquetCatalogWriter.ReadAsync(f, SourceSchema.TableName, SourceSchema.Columns);
            Assert.NotEmpty(t.Rows);
        }

        // The step's catalog QA ran on the real outputs and passed: every column from the schema, rows vs nSources.
        Assert.NotNull(first.CatalogQa);
        Assert.True(first.CatalogQa.Passed, first.CatalogQa.Summary);
        Assert.Equal(source.ParquetRows, first.CatalogQa.Tables.Single(t => t.Table == SourceSchema.TableName).Rows);
        Assert.Equal(n, first.CatalogQa.Tables.Single(t => t.Table == CcdVisitSchema.TableName).Rows);

        // Downstream ingest: DuckDB (an independent Parquet reader) loads the files with the declared types, and its
        // row count matches the entities counted in the Azure Table.
        var (duckRows, duckTypes) = DuckDbCheck.Load(first.Outputs.CatalogFiles);
        Assert.Equal(tableRowsBefore, duckRows);
        foreach (var c in SourceSchema.Columns)
        {
            Assert.True(duckTypes.TryGetValue(c.Name, out var duckType), $"DuckDB sees no column {c.Name}");
            Assert.Equal(DuckDbCheck.ExpectedType(c.Type), duckType);
        }
        Assert.Equal(SourceSchema.Columns.Count, duckTypes.Count);
        // ... and the schema travels with the data: DuckDB reads each column's unit and description from the file.
        var meta = DuckDbCheck.Metadata(first.Outputs.CatalogFiles[0]);
        Assert.Equal(SourceSchema.TableName, meta["drp.table"]);
        using (var declared = System.Text.Json.JsonDocument.Parse(meta[ParquetCatalogWriter.SchemaMetadataKey]))
        {
            var psf = declared.RootElement.EnumerateArray().Single(c => c.GetProperty("Name").GetString() == "psfFlux");
            Assert.Equal("nJy", psf.GetProperty("Unit").GetString());
            Assert.Equal(SourceSchema.Table.Column("psfFlux").Description, psf.GetProperty("Description").GetString());
            Assert.Equal(SourceSchema.Columns.Count, declared.RootElement.GetArrayLength());
        }

        // The same run again (a rescue of a finished run): every quantum is skipped, no row is written twice.
        var second = await new DemoRunner(settings with { DuplicateEvents = 0 }, console).RunAsync();
        Assert.Equal(quanta, second.Quanta.Skipped);
        Assert.Equal([new VersionCount(SoftwareVersion.Current.Label, quanta)], second.SoftwareVersions); // the version that ran them
        Assert.Equal(quanta, second.Quanta.Succeeded);
        Assert.Equal(n, second.Raws.Registered);
        Assert.Equal(tableRowsBefore, await CountEntitiesAsync(storage.Sources));
        var ledgerAfter = await new QuantumLedger(storage.Ledger).ListAsync(settings.Run);
        Assert.All(ledgerAfter, q => Assert.Equal(1, q.Attempts));
    }

    private static async Task<long> CountEntitiesAsync(TableClient table)
    {
        long n = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            n++;
        }
        return n;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_outDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
