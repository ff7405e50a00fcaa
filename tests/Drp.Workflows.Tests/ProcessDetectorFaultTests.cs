using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Storage.Resilience;
using Drp.Core.Planning;
using Drp.Execution;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests;

/// <summary>
/// DM-33786's lesson end to end at the quantum: when every blob read fails, the quantum runner fails loudly with the
/// typed error after bounded attempts, records the quantum as failed, and writes no product — nothing downstream can
/// take it for a success.
/// </summary>
public sealed class ProcessDetectorFaultTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Execute_EveryBlobReadFaulted_ThrowsDatasetUnavailableRecordsFailedAndWritesNothing()
    {
        var (clean, run) = await fixture.NewRunStorageAsync();
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
        var runner = new QuantumRunner(faulted, new TableCatalogWriter(), ExecutionServices.DefaultRegistry, NullLogger<QuantumRunner>.Instance);
        var quantum = new PlannedQuantum("processFrame", new DataId("LSSTCam-sim", 1, 0, Band: "r"));

        await Assert.ThrowsAsync<DatasetUnavailableException>(() => runner.RunAsync(new QuantumRequest(run, "LSSTCam-sim", "calib", "step1", quantum)));

        var record = await new QuantumLedger(clean.Ledger).GetAsync(run, quantum.Key);
        Assert.NotNull(record);
        Assert.Equal(QuantumState.Failed, record.State);
        Assert.Contains(nameof(DatasetUnavailableException), record.ErrorClass);
        Assert.Equal(0, record.OutputRows);
        var written = new List<string>();
        await foreach (var blob in clean.DataContainer.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, run, CancellationToken.None))
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
