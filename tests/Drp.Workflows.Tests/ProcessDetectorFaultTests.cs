using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Storage.Resilience;
using Drp.Workflows.Activities;
using Drp.Workflows.Tests.Planning;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests;

/// <summary>
/// DM-33786's lesson end to end at the quantum: when every blob read fails, the step-1 activity fails loudly with the
/// typed error after bounded attempts, records the quantum as failed, and writes no product — nothing downstream can
/// take it for a success.
/// </summary>
public sealed class ProcessDetectorFaultTests(PlanningAzuriteFixture fixture) : IClassFixture<PlanningAzuriteFixture>
{
    [Fact]
    public async Task Execute_EveryBlobReadFaulted_ThrowsDatasetUnavailableRecordsFailedAndWritesNothing()
    {
        var (clean, run) = await fixture.NewStorageAsync();
        var options = clean.Options;
        await clean.RawContainer.UploadBlobAsync("raw_1_000.fits", BinaryData.FromBytes(new byte[2880 * 4]));
        await new RegistryTable(clean.Registry).RegisterAsync(
            new RawRecord("LSSTCam-sim", 1, 0, "r", 30, 60000, options.RawContainer, "raw_1_000.fits", null));
        var faulted = new StorageClients(options,
            new StorageResilienceOptions { MaxRetryAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
            faults: new FaultInjectionOptions
            {
                // Every request gets a fault; a slow response is not a failure, so it is left out of the draw.
                Rate = 1.0, Kinds = FaultKinds.All & ~FaultKinds.SlowResponse, ApplyToTables = false, RetryAfter = TimeSpan.FromMilliseconds(5), SlowResponseDelay = TimeSpan.FromMilliseconds(5),
            });
        var activity = new ProcessDetectorActivity(faulted, new TableCatalogWriter(), NullLogger<ProcessDetectorActivity>.Instance);
        var quantum = new DetectorQuantum(run, "LSSTCam-sim", "calib", 1, 0, "r");

        await Assert.ThrowsAsync<DatasetUnavailableException>(() => activity.ExecuteAsync(quantum));

        var record = await new QuantumLedger(clean.Ledger).GetAsync(quantum.Run, quantum.Key);
        Assert.NotNull(record);
        Assert.Equal(QuantumState.Failed, record.State);
        Assert.Contains(nameof(DatasetUnavailableException), record.ErrorClass);
        Assert.Equal(0, record.OutputRows);
        var written = new List<string>();
        await foreach (var blob in clean.DataContainer.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, quantum.Run, CancellationToken.None))
        {
            written.Add(blob.Name);
        }
        Assert.Empty(written);
        await foreach (var _ in clean.Sources.QueryAsync<Azure.Data.Tables.TableEntity>())
        {
            Assert.Fail("a Source row was written for a failed quantum");
        }
    }
}
