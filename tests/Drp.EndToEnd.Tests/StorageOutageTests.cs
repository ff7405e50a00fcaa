using Drp.Cli;
using Drp.Local;
using Drp.Storage;
using Drp.Storage.Registry;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// The storage goes away for 40 s in the middle of step 1 (a persistent Azurite stopped, then started again on the
/// same data and ports) and the demo waits it out: every quantum ends with exactly one terminal outcome, none failed,
/// and the catalogs hold every row of a clean run once. Uses its own Azurites.
/// </summary>
public sealed class StorageOutageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-outage-" + Guid.NewGuid().ToString("N")[..8]);

    private DemoSettings Settings(string name, string connectionString) => new()
    {
        OutDir = Path.Combine(_dir, name),
        Visits = 2,
        Detectors = 3,
        DetectorSize = 512,
        Seed = 13,
        Run = "outage",
        TaskHub = "outage",
        ConnectionString = connectionString,
        Timeout = TimeSpan.FromMinutes(6),
    };

    [Fact]
    public async Task Demo_StorageDownFortySecondsMidStep1_WaitsAndEndsWithEveryQuantumOnceAndEveryRow()
    {
        var console = new StringWriter();
        DemoSummary clean;
        await using (var fresh = await AzuriteHost.StartAsync())
        {
            clean = await new DemoRunner(Settings("clean", fresh.ConnectionString), console).RunAsync();
        }

        var dataDir = Path.Combine(_dir, "azurite");
        var azurite = await AzuriteHost.StartAsync(AzuriteOptions.Persistent(dataDir));
        var (blob, queue, table) = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
        string connection = azurite.ConnectionString;
        var demo = Task.Run(() => new DemoRunner(Settings("outage", connection), console).RunAsync());
        try
        {
            // Step 1 is under way once the arrivals have started a detector's quantum.
            var ledger = new QuantumLedger(new StorageClients(new DrpStorageOptions { ConnectionString = connection }).Ledger);
            while ((await ledger.ListAsync("outage")).Count == 0)
            {
                Assert.False(demo.IsCompleted, "the demo ended before step 1 started");
                await Task.Delay(100);
            }
            var started = (await ledger.ListAsync("outage")).Select(q => $"{q.QuantumKey} {q.State}").ToList();
            // SIGTERM: Azurite saves its database, as a service restart would.
            await azurite.DisposeAsync();
            output.WriteLine($"storage stopped with {string.Join(", ", started)}");
            await Task.Delay(TimeSpan.FromSeconds(40));
            Assert.False(demo.IsCompleted, "the demo ended while the storage was down");
            azurite = await AzuriteHost.StartAsync(new AzuriteOptions { DataDirectory = dataDir, BlobPort = blob, QueuePort = queue, TablePort = table });
            output.WriteLine("storage started again");

            var summary = await demo;
            output.WriteLine(console.ToString());

            Assert.Equal((clean.Quanta.Total, clean.Quanta.Succeeded, 0), (summary.Quanta.Total, summary.Quanta.Succeeded, summary.Quanta.Failed));
            var records = await new QuantumLedger(new StorageClients(new DrpStorageOptions { ConnectionString = azurite.ConnectionString }).Ledger).ListAsync("outage");
            Assert.Equal(summary.Quanta.Total, records.Count);
            Assert.All(records, q => Assert.Equal(QuantumState.Succeeded, q.State));
            // Every Source, CcdVisit and Visit row of the clean run, each once.
            Assert.Equal(clean.Tables, summary.Tables);
            Assert.All(summary.Tables.Values, t => Assert.Equal(0, t.DuplicateIds));
        }
        finally
        {
            await azurite.DisposeAsync();
        }
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
