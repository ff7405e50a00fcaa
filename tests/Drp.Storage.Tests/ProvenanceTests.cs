using System.Security.Cryptography;
using System.Text;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;

namespace Drp.Storage.Tests;

/// <summary>Config hashes, software version labels, per-quantum usage scopes and the accounting report.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProvenanceTests(AzuriteFixture fixture)
{
    private static readonly QuantumProvenance s_isr = new("step1", "isr", "0123456789abcdef");

    [Fact]
    public void ConfigHash_KeysInAnyOrder_SameHashAsSha256OfSortedLines()
    {
        var a = new Dictionary<string, string> { ["doFlat"] = "true", ["background.binSize"] = "128" };
        var b = new Dictionary<string, string> { ["background.binSize"] = "128", ["doFlat"] = "true" };
        string expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("background.binSize=128\ndoFlat=true\n")))[..16];

        Assert.Equal(expected, ConfigHash.Of(a));
        Assert.Equal(expected, ConfigHash.Of(b));
    }

    [Fact]
    public void ConfigHash_OneValueChanged_DifferentHash()
    {
        var a = new Dictionary<string, string> { ["doFlat"] = "true" };
        var b = new Dictionary<string, string> { ["doFlat"] = "false" };

        Assert.NotEqual(ConfigHash.Of(a), ConfigHash.Of(b));
    }

    [Fact]
    public void ConfigHash_KeyWithEquals_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ConfigHash.Of(new Dictionary<string, string> { ["a=b"] = "c" }));
        Assert.Contains("a=b", e.Message);
    }

    [Fact]
    public void SoftwareVersion_ParseLabel_RoundTripsAndRefusesLabelsWithoutCommit()
    {
        var v = new SoftwareVersion("1.2.3", "abc123");

        Assert.Equal("1.2.3+abc123", v.Label);
        Assert.Equal(v, SoftwareVersion.Parse(v.Label));
        Assert.Throws<FormatException>(() => SoftwareVersion.Parse("1.2.3"));
    }

    [Fact]
    public async Task QuantumScope_TwoConcurrentQuanta_EachCountsOnlyItsOwnGetsAndBytes()
    {
        var storage = await fixture.NewStorageAsync();
        var store = new DatasetStore(storage.DataContainer);
        await store.WriteAsync("small.bin", new byte[1000]);
        await store.WriteAsync("large.bin", new byte[70_000]);
        var bothStarted = new TaskCompletionSource();
        int started = 0;

        async Task<QuantumUsage> RunAsync(string path, int reads)
        {
            using var scope = QuantumScope.Begin(s_isr);
            if (Interlocked.Increment(ref started) == 2)
            {
                bothStarted.SetResult();
            }
            await bothStarted.Task; // both scopes open at once: the counters must not mix
            for (int i = 0; i < reads; i++)
            {
                await store.ReadAllAsync(path, "calexp");
                await store.ReadRangeAsync(path, 10, 100, "calexp");
            }
            return scope.Usage();
        }

        var usages = await Task.WhenAll(RunAsync("small.bin", 3), RunAsync("large.bin", 2));
        await store.ReadAllAsync("small.bin"); // outside any quantum: counted by the store only

        Assert.Equal((6L, 3 * 1000L + 3 * 100), (usages[0].Gets, usages[0].BytesRead));
        Assert.Equal((4L, 2 * 70_000L + 2 * 100), (usages[1].Gets, usages[1].BytesRead));
        Assert.Equal(11, store.Metrics.Get("calexp").Gets + store.Metrics.Get(DatasetStore.Untyped).Gets);
        Assert.Null(QuantumScope.Current);
    }

    [Fact]
    public async Task Write_InsideAndOutsideAQuantum_MetadataHasVersionAndOnlyInsideConfigHash()
    {
        var storage = await fixture.NewStorageAsync();
        var store = new DatasetStore(storage.DataContainer);
        var id = new DataId("LSSTCam", 5, 1);

        await store.WriteAsync("calib/upload.bin", new byte[10]);
        using (QuantumScope.Begin(s_isr))
        {
            await store.WriteAsync(DatasetType.Calexp, id, "run", new byte[10], "run/q");
        }

        var outside = (await storage.DataContainer.GetBlobClient("calib/upload.bin").GetPropertiesAsync()).Value.Metadata;
        var inside = (await storage.DataContainer.GetBlobClient(DatasetPaths.For(DatasetType.Calexp, id, "run")).GetPropertiesAsync()).Value.Metadata;
        Assert.Equal(SoftwareVersion.Current.Label, outside[DatasetStore.SoftwareVersionMetadataKey]);
        Assert.False(outside.ContainsKey(DatasetStore.ConfigHashMetadataKey));
        Assert.Equal(SoftwareVersion.Current.Label, inside[DatasetStore.SoftwareVersionMetadataKey]);
        Assert.Equal(s_isr.ConfigHash, inside[DatasetStore.ConfigHashMetadataKey]);
        Assert.Equal(s_isr.TaskType, inside[DatasetStore.TaskTypeMetadataKey]);
    }

    [Fact]
    public async Task Ledger_ProvenanceAndUsage_RoundTrip()
    {
        var storage = await fixture.NewStorageAsync();
        var ledger = new QuantumLedger(storage.Ledger);
        var usage = new QuantumUsage(1.25, 3_000_000_000, 7, 123_456_789_012);

        await ledger.CompleteAsync(new QuantumRecord("run", "q1", QuantumState.Succeeded, 1, null, null, 2500, 10, null, "1.0.0+abc", s_isr, usage));
        await ledger.CompleteAsync(new QuantumRecord("run", "q0", QuantumState.Succeeded, 1, null, null, 2500, 10, null));

        var q1 = await ledger.GetAsync("run", "q1");
        var q0 = await ledger.GetAsync("run", "q0");
        Assert.Equal(("1.0.0+abc", s_isr, usage), (q1!.SoftwareVersion, q1.Provenance, q1.Usage));
        Assert.Equal((null, null, null), (q0!.SoftwareVersion, q0.Provenance, (QuantumUsage?)q0.Usage));
    }

    [Fact]
    public void RunAccounting_SeededRows_ExactSumsPerTaskTypeAndVersions()
    {
        var calibrate = new QuantumProvenance("step1", "calibrate", "fedcba9876543210");
        var coadd = new QuantumProvenance("step3", "assembleCoadd", "00000000000000aa");
        QuantumRecord Row(string key, QuantumState state, double ms, string version, QuantumProvenance p, double cpu, long peak, long gets, long bytes) =>
            new("run", key, state, 1, null, null, ms, 0, null, version, p, new QuantumUsage(cpu, peak, gets, bytes));
        var rows = new List<QuantumRecord>
        {
            Row("a", QuantumState.Succeeded, 1500, "1.0.0+aaa", calibrate, 1.5, 100, 5, 1000),
            Row("b", QuantumState.Failed, 250, "1.0.0+aaa", calibrate, 0.25, 300, 2, 20),
            Row("c", QuantumState.Unprocessable, 500, "1.0.1+bbb", calibrate, 0.5, 200, 5, 1000),
            Row("d", QuantumState.Succeeded, 4000, "1.0.1+bbb", coadd, 8, 5000, 40, 1 << 30),
            new("run", "e", QuantumState.Succeeded, 1, null, null, 10, 0, null), // written before accounting
            new("run", "f", QuantumState.Running, 1, null, null, 0, 0, null),
        };

        var all = RunAccountingReport.From("run", rows);
        var step1 = RunAccountingReport.From("run", rows, "step1");

        Assert.Equal(
            [new TaskTypeAccounting("step1", "calibrate", 3, 2.25, 2.25, 300, 12, 2020),
             new TaskTypeAccounting("step3", "assembleCoadd", 1, 8, 4, 5000, 40, 1 << 30)],
            all.TaskTypes);
        Assert.Equal(
            [new ProvenanceCount("step1", "calibrate", "1.0.0+aaa", "fedcba9876543210", 2),
             new ProvenanceCount("step1", "calibrate", "1.0.1+bbb", "fedcba9876543210", 1),
             new ProvenanceCount("step3", "assembleCoadd", "1.0.1+bbb", "00000000000000aa", 1)],
            all.Provenance);
        Assert.Equal(1, all.Unrecorded);
        Assert.Equal(["calibrate"], step1.TaskTypes.Select(t => t.TaskType));
    }

    [Fact]
    public void VersionCount_Merge_AddsCountsOfTheSameVersionInVersionOrder()
    {
        var merged = VersionCount.Merge([new("b", 2), new("a", 1), new("b", 3)]);

        Assert.Equal([new VersionCount("a", 1), new VersionCount("b", 5)], merged);
        Assert.Equal([new VersionCount("x", 2)], VersionCount.Count(["x", null, "x"]));
    }
}
