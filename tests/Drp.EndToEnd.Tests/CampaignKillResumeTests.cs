using System.Diagnostics;
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
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// A campaign on the persistent local engine, worked by a real <c>drp worker</c> process that is killed with SIGKILL
/// in the middle of step 1 and replaced by a second one: the campaign finishes (its QA gate included), every quantum
/// ends succeeded, no quantum that had completed before the kill runs again (its ledger row is untouched), and the
/// Source table holds each row once. Uses its own Azurite so the names of the other end-to-end tests don't collide.
/// </summary>
public sealed class CampaignKillResumeTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-kill-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Campaign_DrpWorkerKilledMidStep_SecondWorkerFinishesWithoutRerunningCompletedQuanta()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = timeout.Token;
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        string taskHub = "kill" + Guid.NewGuid().ToString("N")[..8];
        const string run = "killrun";
        var settings = new DemoSettings { OutDir = _dir, Visits = 4, Detectors = 3, DetectorSize = 512, Seed = 11, Run = run, TaskHub = taskHub };
        int n = settings.Visits * settings.Detectors;

        var (storage, campaign) = await LocalSurvey.SimulateAsync(azurite, settings, output, ct);
        using var first = ChildProcess.DrpWorker(output, "worker-1", azurite.ConnectionString, taskHub);
        await LocalSurvey.IngestAsync(storage, campaign, ct);
        var (clientHost, client, id) = await LocalSurvey.StartCampaignAsync(azurite, taskHub, new CampaignInput(run, campaign.Instrument, ["step1"]), ct);
        using var disposeClient = clientHost;

        var ledger = new QuantumLedger(storage.Ledger);
        await ChildProcess.WaitUntilAsync(async () => (await ledger.ListAsync(run, ct)).Count(q => q.State == QuantumState.Succeeded) >= 1, ct);
        first.Kill();
        var before = await LedgerRowsAsync(storage.Ledger, ct);
        int succeededBefore = before.Values.Count(r => r.Record.State == QuantumState.Succeeded);
        output.WriteLine($"killed worker-1 (SIGKILL) with {succeededBefore} of {n} quanta succeeded ({before.Count} ledger rows)");
        Assert.InRange(succeededBefore, 1, n - 1); // the kill really came mid-step

        using var second = ChildProcess.DrpWorker(output, "worker-2", azurite.ConnectionString, taskHub);
        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, ct);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.True(result.Completed, result.Reason);
        var after = await LedgerRowsAsync(storage.Ledger, ct);
        Assert.Equal(n, after.Count);
        Assert.All(after.Values, r => Assert.Equal(QuantumState.Succeeded, r.Record.State));
        foreach (var (key, row) in before.Where(b => b.Value.Record.State == QuantumState.Succeeded))
        {
            // Completed before the kill: not executed again (the ledger row, and so its attempt count, is untouched).
            Assert.Equal(row.ETag, after[key].ETag);
            Assert.Equal(1, after[key].Record.Attempts);
        }
        await LocalSurvey.AssertSourceRowsOnceAsync(storage, after.Values.Sum(r => r.Record.OutputRows), ct);
    }

    private static async Task<Dictionary<string, (QuantumRecord Record, string ETag)>> LedgerRowsAsync(TableClient table, CancellationToken ct)
    {
        var records = await new QuantumLedger(table).ListAsync("killrun", ct);
        var rows = new Dictionary<string, (QuantumRecord, string)>(StringComparer.Ordinal);
        await foreach (var e in table.QueryAsync<TableEntity>(cancellationToken: ct))
        {
            var record = records.Single(r => RegistryTable.SafeKey(r.QuantumKey) == e.RowKey);
            rows[record.QuantumKey] = (record, e.ETag.ToString());
        }
        return rows;
    }

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
