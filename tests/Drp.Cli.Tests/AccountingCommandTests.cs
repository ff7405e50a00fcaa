using System.Text.Json;
using Drp.Cli.Tests.Report;
using Drp.Storage;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;

namespace Drp.Cli.Tests;

/// <summary><c>drp accounting</c> as an operator runs it, over ledger rows seeded in Azurite.</summary>
public sealed class AccountingCommandTests(ReportAzuriteFixture fixture) : IClassFixture<ReportAzuriteFixture>
{
    private static readonly QuantumProvenance s_step1 = new("step1", "isr+characterizeImage+calibrate+writeSourceTable", "1111222233334444");
    private static readonly QuantumProvenance s_step2 = new("step2", "consolidateSourceTable", "aaaabbbbccccdddd");

    private Dictionary<string, string> Env() => new() { ["Drp__Storage__ConnectionString"] = fixture.Azurite.ConnectionString };

    private async Task<string> SeedAsync()
    {
        string run = "acct-" + Guid.NewGuid().ToString("N")[..8];
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = fixture.Azurite.ConnectionString });
        await storage.EnsureCreatedAsync();
        var ledger = new QuantumLedger(storage.Ledger);
        async Task Put(string key, QuantumState state, double ms, string version, QuantumProvenance p, QuantumUsage u) =>
            await ledger.CompleteAsync(new QuantumRecord(run, key, state, 1, null, null, ms, 0, null, version, p, u));
        await Put("step1|visit=1|detector=0", QuantumState.Succeeded, 2000, "1.0.0+aaa", s_step1, new QuantumUsage(3.5, 400_000_000, 5, 60_000_000));
        await Put("step1|visit=1|detector=1", QuantumState.Succeeded, 3000, "1.0.0+aaa", s_step1, new QuantumUsage(4.25, 500_000_000, 5, 61_000_000));
        await Put("step1|visit=2|detector=0", QuantumState.Failed, 500, "1.0.1+bbb", s_step1, new QuantumUsage(0.5, 450_000_000, 2, 9_000_000));
        await Put("step2|visit=1", QuantumState.Succeeded, 1000, "1.0.1+bbb", s_step2, new QuantumUsage(1, 900_000_000, 3, 2_000_000));
        return run;
    }

    [Fact]
    public async Task Accounting_Json_ExactSumsPerTaskTypeAndTheVersionsSeen()
    {
        string run = await SeedAsync();

        var (exit, stdout, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(Env(), "accounting", "--run", run, "--json");

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var report = JsonSerializer.Deserialize<RunAccountingReport>(stdout, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(
            [new TaskTypeAccounting("step1", s_step1.TaskType, 3, 8.25, 5.5, 500_000_000, 12, 130_000_000),
             new TaskTypeAccounting("step2", s_step2.TaskType, 1, 1, 1, 900_000_000, 3, 2_000_000)],
            report.TaskTypes);
        Assert.Equal(
            [new ProvenanceCount("step1", s_step1.TaskType, "1.0.0+aaa", s_step1.ConfigHash, 2),
             new ProvenanceCount("step1", s_step1.TaskType, "1.0.1+bbb", s_step1.ConfigHash, 1),
             new ProvenanceCount("step2", s_step2.TaskType, "1.0.1+bbb", s_step2.ConfigHash, 1)],
            report.Provenance);
        Assert.Equal(0, report.Unrecorded);
    }

    [Fact]
    public async Task Accounting_Step_TableOfThatStepOnly()
    {
        string run = await SeedAsync();

        var (exit, stdout, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(Env(), "accounting", "--run", run, "--step", "step2");

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        Assert.Contains("consolidateSourceTable", stdout);
        Assert.DoesNotContain("writeSourceTable", stdout);
        Assert.Contains("version 1.0.1+bbb, config aaaabbbbccccdddd: 1 quanta", stdout);
    }

    [Fact]
    public async Task Accounting_RunNotInLedger_Exit3()
    {
        var (exit, _, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(Env(), "accounting", "--run", "never-ran-" + Guid.NewGuid().ToString("N")[..6]);

        Assert.Equal(3, exit);
        Assert.Contains("has no quanta in the ledger", stderr);
    }
}
