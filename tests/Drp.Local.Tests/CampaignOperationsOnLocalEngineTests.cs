using System.Net;
using System.Net.Http.Json;
using Drp.Storage;
using Drp.Workflows;
using Drp.Workflows.Operations;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Drp.Local.Tests;

/// <summary>
/// <see cref="CampaignOperations"/> on the persistent local engine that <c>drp</c> uses (Azure Storage backend on
/// Azurite, the real orchestrators and activities): what the in-process test host cannot show, e.g. that listing a
/// campaign's sub-orchestrations by id prefix and purging them work on this backend.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CampaignOperationsOnLocalEngineTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task CampaignWithNoRaws_StopsAtItsGate_ThenPurgeRemovesItAndItsStep()
    {
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = azurite.ConnectionString });
        await storage.EnsureCreatedAsync();
        using var host = LocalPlatform.BuildHost(azurite.ConnectionString, EngineHost.UniqueTaskHub("campaignops"));
        await host.StartAsync();
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        var ops = new CampaignOperations(client, storage);
        string suffix = Guid.NewGuid().ToString("N")[..8];
        string run = "ops" + suffix;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        // An instrument with no raws in the Registry: step 1 plans nothing and its gate stops the campaign.
        var started = await ops.StartAsync(new CampaignInput(run, "NoSuchCam" + suffix, []), timeout.Token);
        var again = await ops.StartAsync(new CampaignInput(run, "NoSuchCam" + suffix, []), timeout.Token);
        var done = await client.WaitForInstanceCompletionAsync(started.InstanceId, getInputsAndOutputs: true, timeout.Token);
        var status = await ops.GetStatusAsync(run, timeout.Token);
        await Assert.ThrowsAsync<CampaignStateException>(() => ops.ApproveAsync(run, approved: true, cancellationToken: timeout.Token));
        int purged = await ops.PurgeAsync(run, timeout.Token);

        Assert.True(started.Created);
        Assert.False(again.Created);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(CampaignProgress.Stopped, status!.Progress!.Phase);
        Assert.Contains("no quanta ran", status.Progress.Reason);
        Assert.Equal(2, purged); // the campaign and its step (no chunks were planned)
        Assert.Null(await client.GetInstanceAsync(CampaignOrchestrator.InstanceIdFor(run), timeout.Token));
        Assert.Null(await client.GetInstanceAsync(CampaignOperations.StepInstanceIdFor(run, "step1"), timeout.Token));
        await host.StopAsync();
    }

    [Fact]
    public async Task OperatorApi_ServedLocally_StartsOnceReportsStatusAndMapsErrorsTo400_404_409()
    {
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = azurite.ConnectionString });
        await storage.EnsureCreatedAsync();
        using var host = LocalPlatform.BuildHost(azurite.ConnectionString, EngineHost.UniqueTaskHub("campaignapi"));
        await host.StartAsync();
        await using var api = await LocalOperatorApi.StartAsync(host.Services, port: 0);
        using var http = new HttpClient { BaseAddress = new Uri(api.Urls.Single()) };
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        string suffix = Guid.NewGuid().ToString("N")[..8];
        string run = "api" + suffix;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var badBody = await http.PostAsync($"/api/campaigns/{run}", new StringContent("{not json"), timeout.Token);
        var noInstrument = await http.PostAsJsonAsync($"/api/campaigns/{run}", new { steps = new[] { "step1" } }, timeout.Token);
        var unknown = await http.GetAsync($"/api/campaigns/{run}", timeout.Token);
        var first = await http.PostAsJsonAsync($"/api/campaigns/{run}", new { instrument = "NoSuchCam" + suffix }, timeout.Token);
        var second = await http.PostAsJsonAsync($"/api/campaigns/{run}", new { instrument = "NoSuchCam" + suffix }, timeout.Token);
        await client.WaitForInstanceCompletionAsync(CampaignOrchestrator.InstanceIdFor(run), timeout.Token);
        var status = await http.GetAsync($"/api/campaigns/{run}", timeout.Token);
        var approve = await http.PostAsync($"/api/campaigns/{run}/approve", null, timeout.Token);
        var terminate = await http.PostAsJsonAsync($"/api/campaigns/{run}/terminate", new { reason = "late" }, timeout.Token);
        var purge = await http.DeleteAsync($"/api/campaigns/{run}", timeout.Token);
        var purgeAgain = await http.DeleteAsync($"/api/campaigns/{run}", timeout.Token);

        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noInstrument.StatusCode);
        Assert.Contains("instrument is required", await noInstrument.Content.ReadAsStringAsync(timeout.Token));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.EndsWith($"/api/campaigns/{run}", first.Headers.Location!.ToString());
        var body = await status.Content.ReadFromJsonAsync<CampaignStatus>(CampaignApi.Json, timeout.Token);
        Assert.Equal(CampaignProgress.Stopped, body!.Progress!.Phase);
        Assert.Equal("Completed", body.RuntimeStatus);
        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        Assert.Contains("not waiting for approval", await approve.Content.ReadAsStringAsync(timeout.Token));
        Assert.Equal(HttpStatusCode.Conflict, terminate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, purgeAgain.StatusCode);
        await api.StopAsync();
        await host.StopAsync();
    }
}
