using Drp.Cli;
using Drp.Core.Datasets;
using Drp.Local;
using Drp.Pipeline.Catalogs;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask.Client;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// Arrivals that process themselves, with real processes on Azurite and the persistent engine: a <c>drp worker</c>
/// configured with an arrival run receives a visit's raws through the local Event Grid and, with no campaign started,
/// runs each detector's step 1 and then the visit's step 2 once it has been quiet. A duplicated event runs nothing
/// twice; a detector arriving late re-runs the visit's step 2 over every detector; a campaign started afterwards over
/// the same run skips everything the arrivals did.
/// </summary>
public sealed class ArrivalsEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-arrivals-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Worker_ArrivalRunConfigured_RawsRunSteps1And2ThemselvesDuplicateRunsNothingLateDetectorRerunsStep2()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var ct = timeout.Token;
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        string taskHub = "arr" + Guid.NewGuid().ToString("N")[..8];
        const string run = "arrivals";
        var settings = new DemoSettings { OutDir = _dir, Visits = 1, Detectors = 3, DetectorSize = 512, Seed = 21, Run = run, TaskHub = taskHub };
        var (storage, campaign) = await LocalSurvey.SimulateAsync(azurite, settings, output, ct);
        // The instrument's detector count is not given: the visit closes after 4 s without a new arrival.
        using var worker = ChildProcess.DrpWorker(output, "worker", azurite.ConnectionString, taskHub, new Dictionary<string, string>
        {
            ["Drp__Processing__ArrivalRun"] = run,
            ["Drp__Processing__VisitQuietTime"] = "00:00:04",
        });
        var grid = new LocalEventGrid(storage);
        var ledger = new QuantumLedger(storage.Ledger);
        var raws = campaign.Raws.OrderBy(r => r.Detector).ToList();
        var visitId = new DataId(campaign.Instrument, raws[0].Visit);

        // Two detectors arrive, one of them twice.
        await grid.UploadRawAsync(raws[0].LocalPath, raws[0].BlobName, ct);
        await grid.UploadRawAsync(raws[1].LocalPath, raws[1].BlobName, ct);
        var blob = storage.RawContainer.GetBlobClient(raws[0].BlobName);
        var props = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        await grid.PublishAsync(storage.Options.RawContainer, raws[0].BlobName, blob.Uri, props.ETag.ToString(), props.ContentLength, Guid.NewGuid().ToString(), ct);

        List<QuantumRecord> rows = [];
        async Task<bool> Step2Attempts(int attempts)
        {
            rows = await ledger.ListAsync(run, ct);
            var step2 = rows.Where(r => r.Provenance?.Step == "step2").ToList();
            return step2.Count == 2 && step2.All(r => r.State != QuantumState.Running && r.Attempts == attempts);
        }
        await ChildProcess.WaitUntilAsync(() => Step2Attempts(1), ct);

        var step1 = rows.Where(r => r.Provenance?.Step == "step1").ToList();
        Assert.Equal(2, step1.Count);
        Assert.All(step1, r => Assert.Equal(1, r.Attempts)); // the duplicated event ran nothing again
        Assert.All(rows, r => Assert.Contains(r.State, new[] { QuantumState.Succeeded, QuantumState.Unprocessable }));
        Assert.Equal(Rows(step1), await VisitSourceRowsAsync(storage, visitId, ct));

        // The third detector arrives late: its step 1 runs, and the visit's step 2 runs again over all three.
        await grid.UploadRawAsync(raws[2].LocalPath, raws[2].BlobName, ct);
        await ChildProcess.WaitUntilAsync(() => Step2Attempts(2), ct);

        step1 = rows.Where(r => r.Provenance?.Step == "step1").ToList();
        Assert.Equal(3, step1.Count);
        Assert.All(step1, r => Assert.Equal(1, r.Attempts));
        Assert.Equal(Rows(step1), await VisitSourceRowsAsync(storage, visitId, ct));
        var summary = (CatalogTable)await DatasetFormats.ReadAsync(DatasetType.VisitSummary, await storage.Data.ReadAsync(DatasetType.VisitSummary, visitId, run, ct), [], ct);
        Assert.Equal(step1.Count(r => r.State == QuantumState.Succeeded), summary.Rows.Count);

        // No campaign ran any of it; one started now over the same run skips every quantum the arrivals ran.
        var (clientHost, client, id) = await LocalSurvey.StartCampaignAsync(azurite, taskHub, new CampaignInput(run, campaign.Instrument, ["step1", "step2"]), ct);
        using var disposeClient = clientHost;
        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, ct);
        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.True(result.Completed, result.Reason);
        Assert.Equal([3L, 2L], result.Steps.Select(s => s.Counts.Skipped));
        Assert.All(await ledger.ListAsync(run, ct), r => Assert.Equal(r.Provenance?.Step == "step2" ? 2 : 1, r.Attempts));
    }

    private static long Rows(IEnumerable<QuantumRecord> step1) => step1.Sum(r => r.OutputRows);

    private static async Task<long> VisitSourceRowsAsync(Drp.Storage.StorageClients storage, DataId visit, CancellationToken ct) =>
        ((CatalogTable)await DatasetFormats.ReadAsync(DatasetType.SourceTableVisit,
            await storage.Data.ReadAsync(DatasetType.SourceTableVisit, visit, "arrivals", ct), [], ct)).Rows.Count;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
