using Drp.Core.Planning;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Drp.Cli.Report;
using Drp.Local;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Workflows;

namespace Drp.Cli.Tests.Report;

/// <summary>One in-memory Azurite for the report's storage tests.</summary>
public sealed class ReportAzuriteFixture : IAsyncLifetime
{
    public AzuriteHost Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();
}

/// <summary>
/// The report's gathering against Azurite, with a run's outputs written by the real writers (ledger, DatasetStore at
/// DatasetPaths, Parquet writer, Registry, a raw FITS header with a WCS), and <c>drp report</c> as a user runs it.
/// </summary>
public sealed class RunReportGathererTests(ReportAzuriteFixture fixture) : IClassFixture<ReportAzuriteFixture>, IDisposable
{
    private const string Instrument = "LSSTCam-sim";
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-report-gather-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task GatherAsync_RunWithOutputsAndFailures_CollectsRowsSummariesFailurePositionsAndNotes()
    {
        var storage = await NewStorageAsync(unique: true);
        var seeded = await SeedRunAsync(storage, "gather-run");

        var input = await new RunReportGatherer(storage).GatherAsync("gather-run", Instrument);

        Assert.Equal(seeded.SourceRows, input.Sources.Rows.Count);
        Assert.Equal(2, input.CcdVisits.Count);
        Assert.Equal(5, input.QuantaTotal);
        Assert.Equal(2, input.Failures.Count);
        var placed = input.Failures.Single(f => f.Visit == 1001 && f.Detector == 0);
        Assert.Equal("Failed", placed.State);
        Assert.Equal("System.IO.IOException", placed.ErrorClass);
        Assert.True(placed.HasPosition);
        Assert.True(TanWcs.AngularSeparationDegrees(placed.Ra!.Value, placed.Dec!.Value, seeded.FailedCentre.Ra, seeded.FailedCentre.Dec) * 3600 < 0.01,
            $"failure placed at {placed.Ra}, {placed.Dec}; the detector's centre is {seeded.FailedCentre}");
        var unplaced = input.Failures.Single(f => f.Visit == 1002);
        Assert.Equal("Unprocessable", unplaced.State);
        Assert.False(unplaced.HasPosition);
        Assert.Contains(input.Notes, n => n.Contains("visit 1001 detector 1 succeeded, but its source_table is missing", StringComparison.Ordinal));
        Assert.Contains(input.Notes, n => n.Contains("visit 1002 detector 0 failed and has no LSSTCam-sim Registry row", StringComparison.Ordinal));
        Assert.Equal(["Source", "CcdVisit"], input.Qa.Select(r => r.Table));
        var qa = input.Qa[0];
        Assert.True(qa.Passed, qa.Summary);
        Assert.Equal(seeded.SourceRows, qa.Rows);
    }

    [Fact]
    public async Task GatherAsync_RunWithNothingInTheLedger_ThrowsReportExceptionNamingTheRun()
    {
        var storage = await NewStorageAsync(unique: true);

        var e = await Assert.ThrowsAsync<ReportException>(() => new RunReportGatherer(storage).GatherAsync("no-such-run", Instrument));

        Assert.Contains("run no-such-run has no quanta in the ledger", e.Message);
    }

    [Fact]
    public async Task DrpReport_SeededRunWithTruth_WritesThePageWithEveryPlotAndSaysWhere()
    {
        var storage = await NewStorageAsync(unique: false);
        var seeded = await SeedRunAsync(storage, "cli-run");
        string truth = Path.Combine(_dir, "truth.csv");
        var csv = new StringBuilder("id,ra,dec,type,r_flux,i_flux\n");
        int id = 0;
        foreach (var t in seeded.TruthR)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{id++},{t.Ra:R},{t.Dec:R},star,{t.FluxNJy:R},{t.FluxNJy * 1.3:R}\n");
        }
        await File.WriteAllTextAsync(truth, csv.ToString());
        string page = Path.Combine(_dir, "out", "report.html");

        var (exit, stdout, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(Env(), "report", "--run", "cli-run", "--page", page, "--truth", truth);

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        Assert.Contains($"wrote {page}", stdout);
        string html = await File.ReadAllTextAsync(page);
        foreach (var plot in RunReportBuilder.PlotIds)
        {
            Assert.Contains($"<svg id=\"{plot}\"", html);
        }
        Assert.Contains($"{seeded.SourceRows:N0} Source rows from 2 detector-visits", html);
    }

    [Fact]
    public async Task DrpReport_RunWithNoOutputs_ExitsThreeWithAClearMessageAndWritesNothing()
    {
        await NewStorageAsync(unique: false);
        string page = Path.Combine(_dir, "none.html");

        var (exit, _, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(Env(), "report", "--run", "never-ran", "--page", page);

        Assert.Equal(3, exit);
        Assert.Contains("drp report: run never-ran has no quanta in the ledger", stderr);
        Assert.False(File.Exists(page));
    }

    private Dictionary<string, string> Env() => new() { ["Drp__Storage__ConnectionString"] = fixture.Azurite.ConnectionString };

    /// <summary>Unique container and table names, or the defaults <c>drp</c> uses (for the command-line tests; runs differ by name).</summary>
    private async Task<StorageClients> NewStorageAsync(bool unique)
    {
        if (unique)
        {
            return (await fixture.Azurite.NewIsolatedStorageAsync()).Storage;
        }
        var clients = new StorageClients(new DrpStorageOptions { ConnectionString = fixture.Azurite.ConnectionString });
        await clients.EnsureCreatedAsync();
        return clients;
    }

    private sealed record SeededRun(int SourceRows, (double Ra, double Dec) FailedCentre, IReadOnlyList<Drp.Pipeline.SingleFrame.ReferenceObject> TruthR);

    /// <summary>
    /// Visit 1000 detectors 0 and 1 succeeded (Source Parquet + CcdVisit summary); visit 1001 detector 0 failed (its
    /// raw registered, with a WCS whose reference pixel is a corner, so only DETSIZE gives the centre); visit 1001
    /// detector 1 succeeded in the ledger with no outputs; visit 1002 detector 0 unprocessable and never registered.
    /// </summary>
    private static async Task<SeededRun> SeedRunAsync(StorageClients storage, string run)
    {
        var sim = SimulatedRun.Make(visits: 1, detectors: 2, truthObjects: 120);
        var ledger = new QuantumLedger(storage.Ledger);
        var sources = sim.Input.Sources;
        int detectorColumn = sources.IndexOf("detector");
        foreach (var summary in sim.Input.CcdVisits)
        {
            var id = new DataId(Instrument, summary.Visit, summary.Detector);
            var part = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
            part.Rows.AddRange(sources.Rows.Where(r => (int)r[detectorColumn]! == summary.Detector));
            using var parquet = new MemoryStream();
            await ParquetCatalogWriter.WriteAsync(parquet, part);
            string producer = $"{run}/{new PlannedQuantum("processFrame", new DataId(Instrument, summary.Visit, summary.Detector, Band: "r")).Key}";
            await storage.Data.WriteAsync(DatasetType.SourceTable, id, run, parquet.ToArray(), producer, "application/vnd.apache.parquet");
            await storage.Data.WriteAsync(DatasetType.CcdVisitSummary, id, run, JsonSerializer.SerializeToUtf8Bytes(summary), producer, "application/json");
            await ledger.CompleteAsync(new QuantumRecord(run, new PlannedQuantum("processFrame", new DataId(Instrument, summary.Visit, summary.Detector, Band: "r")).Key, QuantumState.Succeeded, 1, null, null, 10, part.Rows.Count, null));
        }

        var wcs = new TanWcs(SimulatedRun.Ra0, SimulatedRun.Dec0, 1, 1, -0.2 / 3600, 0, 0, 0.2 / 3600);
        var header = wcs.WriteTo(new FitsHeader()).Set("DETSIZE", "[1:400,1:300]");
        string blob = $"{Instrument}/1001/raw_1001_000.fits";
        using (var fits = new MemoryStream())
        {
            FitsFile.Write(fits, [new FitsImage(4, 4, header: header)]);
            fits.Position = 0;
            await storage.RawContainer.GetBlobClient(blob).UploadAsync(fits, overwrite: true);
        }
        await new RegistryTable(storage.Registry).RegisterAsync(new RawRecord(Instrument, 1001, 0, "i", 30, 60000, storage.Options.RawContainer, blob, null));
        await ledger.CompleteAsync(new QuantumRecord(run, new PlannedQuantum("processFrame", new DataId(Instrument, 1001, 0, Band: "r")).Key, QuantumState.Failed, 3, "System.IO.IOException", "disk on fire", 10, 0, null));
        await ledger.CompleteAsync(new QuantumRecord(run, new PlannedQuantum("processFrame", new DataId(Instrument, 1001, 1, Band: "r")).Key, QuantumState.Succeeded, 1, null, null, 10, 0, null));
        await ledger.CompleteAsync(new QuantumRecord(run, new PlannedQuantum("processFrame", new DataId(Instrument, 1002, 0, Band: "r")).Key, QuantumState.Unprocessable, 1, "Unprocessable", "no reference objects", 10, 0, null));
        return new SeededRun(sources.Rows.Count, wcs.PixelToSky(0.5 * 399, 0.5 * 299), sim.Input.Truth!["r"]);
    }
}
