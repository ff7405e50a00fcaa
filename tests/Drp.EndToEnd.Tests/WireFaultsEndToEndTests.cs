using Drp.Cli;
using Drp.Local.Faults;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// <c>drp demo</c> with every storage call (uploads, events, the workers' data, the Registry, ledger and catalog
/// tables, the queues and the task hub) going through the wire fault proxy at 30 %: for each of three seeds it ends
/// with the catalogs of a clean run, byte for byte, and its summary shows the faults its clients absorbed.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WireFaultsEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _outDir = Path.Combine(Path.GetTempPath(), "drp-e2e-wire-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Demo_BehindThirtyPercentWireFaults_EndsWithTheCleanRunsCatalogs_ForThreeSeeds()
    {
        // Each demo on its own Azurite under the same run name (the Parquet files record the run). The faulty runs
        // mostly wait (stalls, Retry-After, redeliveries), so the three seeds run side by side.
        var clean = await WireFaultTrial.RunAsync("clean", _outDir, 0, 0);
        output.WriteLine(clean.Describe());
        Assert.Equal(0, clean.Summary.Quanta.Failed);
        Assert.NotEmpty(clean.Catalogs);

        var trials = await Task.WhenAll(new[] { 1, 2, 3 }.Select(seed => WireFaultTrial.RunAsync($"seed{seed}", _outDir, 0.3, seed)));

        foreach (var faulty in trials)
        {
            output.WriteLine(faulty.Describe());
            var (s, c) = (faulty.Summary, clean.Summary);
            Assert.Equal((c.Quanta.Total, c.Quanta.Succeeded, 0), (s.Quanta.Total, s.Quanta.Succeeded, s.Quanta.Failed));
            Assert.Equal(c.Tables, s.Tables);
            Assert.Equal(clean.Catalogs.Keys.Order(), faulty.Catalogs.Keys.Order());
            Assert.True(faulty.SameCatalogsAs(clean), $"{faulty.Name}: the Parquet catalogs differ from the clean run's");
            // The proxy injected every kind; each of the demo's clients saw faults and retried them.
            Assert.All(Enum.GetValues<WireFaultKinds>().Where(k => k is not WireFaultKinds.None and not WireFaultKinds.All),
                k => Assert.True(faulty.Counters!.Faults.GetValueOrDefault(k) > 0, $"{faulty.Name}: no {k} injected"));
            Assert.All(s.Resilience, kv => Assert.True(kv.Value.Retries > 0, $"{faulty.Name}: {kv.Key} retried nothing"));
            Assert.Contains("\"faultsSeen\"", await File.ReadAllTextAsync(Path.Combine(s.Outputs.OutDir, "summary.json")));
        }
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
