using Drp.Cli;
using Drp.Local;
using Drp.Pipeline.Catalogs;
using Drp.Storage.Catalogs;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// <c>drp demo --inject-faults 0.2</c> against real Azurite ends with the same Source rows as a fault-free demo, and
/// its summary shows the faults and the retries that absorbed them.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DemoFaultInjectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _outDir = Path.Combine(Path.GetTempPath(), "drp-e2e-faults-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Demo_WithTwentyPercentFaults_EndsWithTheSameCatalogRowsAsWithout()
    {
        // Its own Azurite: the demo uses the default container and table names, which the other demo test counts.
        await using var azurite = await AzuriteHost.StartAsync();
        DemoSettings Settings(string name, double faults) => new()
        {
            OutDir = Path.Combine(_outDir, name),
            Visits = 2,
            Detectors = 2,
            DetectorSize = 512,
            Seed = 11,
            Run = name + Guid.NewGuid().ToString("N")[..6],
            TaskHub = name + Guid.NewGuid().ToString("N")[..8],
            ConnectionString = azurite.ConnectionString,
            Timeout = TimeSpan.FromMinutes(5),
            InjectFaults = faults,
            FaultSeed = 5,
        };
        var console = new StringWriter();

        var clean = await new DemoRunner(Settings("clean", 0), console).RunAsync();
        var faulty = await new DemoRunner(Settings("faulty", 0.2), console).RunAsync();
        output.WriteLine(console.ToString());

        Assert.Equal(0, clean.Quanta.Failed);
        Assert.Equal(0, faulty.Quanta.Failed);
        Assert.Equal(clean.Quanta.Succeeded, faulty.Quanta.Succeeded);
        var cleanRows = await RowsAsync(clean);
        var faultyRows = await RowsAsync(faulty);
        Assert.NotEmpty(cleanRows);
        Assert.Equal(cleanRows, faultyRows);

        var access = faulty.DatasetAccess!;
        Assert.True(access.InjectedFaults.Values.Sum() > 0);
        Assert.True(access.ByDatasetType.Values.Sum(m => m.Retries) > 0, "summary.json shows the retries");
        Assert.Equal(0, clean.DatasetAccess!.ByDatasetType.Values.Sum(m => m.Retries));
        Assert.Contains("\"retries\"", await File.ReadAllTextAsync(Path.Combine(faulty.Outputs.OutDir, "summary.json")));
    }

    /// <summary>Every Source row of the run's Parquet catalogs as text, sorted.</summary>
    private static async Task<List<string>> RowsAsync(DemoSummary summary)
    {
        var rows = new List<string>();
        foreach (var file in summary.Outputs.CatalogFiles)
        {
            await using var f = File.OpenRead(file);
            var t = await ParquetCatalogWriter.ReadAsync(f, SourceSchema.TableName, SourceSchema.Columns);
            rows.AddRange(t.Rows.Select(r => string.Join("|", r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)))));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
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
