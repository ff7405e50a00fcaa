using Azure.Data.Tables;
using Drp.Cli;
using Drp.Local;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// What the end-to-end campaign tests share: a simulated survey on an Azurite (calibrations uploaded, raws arriving
/// through the local Event Grid and ingested by a running <c>drp worker</c>), a campaign started through a client-only
/// host on the task hub, and the check that the Source table holds every row once.
/// </summary>
internal static class LocalSurvey
{
    /// <summary>Simulates the survey of <paramref name="settings"/> and uploads its calibrations to the account's default names.</summary>
    public static async Task<(StorageClients Storage, DemoCampaign Campaign)> SimulateAsync(
        AzuriteHost azurite, DemoSettings settings, ITestOutputHelper output, CancellationToken ct)
    {
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = azurite.ConnectionString });
        await storage.EnsureCreatedAsync(ct);
        var campaign = DemoSimulation.Simulate(settings, output.WriteLine);
        await DemoSimulation.UploadCalibrationsAsync(campaign, storage, ct);
        return (storage, campaign);
    }

    /// <summary>Uploads the raws (each BlobCreated event reaches the worker's arrivals listener) and waits until all are registered.</summary>
    public static async Task IngestAsync(StorageClients storage, DemoCampaign campaign, CancellationToken ct)
    {
        var grid = new LocalEventGrid(storage);
        foreach (var raw in campaign.Raws)
        {
            await grid.UploadRawAsync(raw.LocalPath, raw.BlobName, ct);
        }
        var registry = new RegistryTable(storage.Registry);
        await ChildProcess.WaitUntilAsync(async () => (await registry.ListAsync(campaign.Instrument, ct)).Count == campaign.Raws.Count, ct);
    }

    /// <summary>Starts the campaign of <paramref name="input"/> on the task hub; the host (dispose it) carries the client.</summary>
    public static async Task<(IHost Host, DurableTaskClient Client, string InstanceId)> StartCampaignAsync(
        AzuriteHost azurite, string taskHub, CampaignInput input, CancellationToken ct)
    {
        var host = LocalPlatform.BuildClientHost(azurite.ConnectionString, taskHub);
        await host.StartAsync(ct);
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        string id = CampaignOrchestrator.InstanceIdFor(input.Run);
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), input, new StartOrchestrationOptions(id), ct);
        return (host, client, id);
    }

    /// <summary>Every Source row is there once (deterministic keys, upserts), and as many as the ledger says were written.</summary>
    public static async Task AssertSourceRowsOnceAsync(StorageClients storage, long expectedRows, CancellationToken ct)
    {
        long rows = 0;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var e in storage.Sources.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"], cancellationToken: ct))
        {
            rows++;
            Assert.True(ids.Add(e.PartitionKey + "/" + e.RowKey), $"Source row {e.PartitionKey}/{e.RowKey} twice");
        }
        Assert.Equal(expectedRows, rows);
    }
}
