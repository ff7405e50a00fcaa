using Drp.Storage.Caching;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;

namespace Drp.Storage.Tests;

/// <summary>The read-through disk cache against Azurite: one GET per object, budget, verification, crash safety.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DatasetCacheTests(AzuriteFixture fixture) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "drp-cache-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private DatasetCacheOptions Cache(long maxBytes = 64L << 20) => new() { Root = _root, MaxBytes = maxBytes };

    [Fact]
    public async Task ChunkedReads_WithCache_MakeOneGetPerObject_WithoutIt_OnePerChunk()
    {
        const int inputs = 4;
        var storage = await fixture.NewStorageAsync();
        var truth = await CoaddAccessTests.WriteInputsAsync(storage, inputs);
        var cached = AzuriteFixture.Reopen(storage, cache: Cache());
        var uncached = AzuriteFixture.Reopen(storage);

        var viaCache = await CoaddAccessTests.ReadAllInBandsAsync(cached, inputs);
        var direct = await CoaddAccessTests.ReadAllInBandsAsync(uncached, inputs);

        int chunks = (CoaddAccessTests.Height + CoaddAccessTests.BandRows - 1) / CoaddAccessTests.BandRows;
        Assert.Equal(truth, viaCache);
        Assert.Equal(truth, direct);
        var c = cached.Metrics.Get("calexp");
        Assert.Equal(inputs, c.Gets);
        Assert.Equal(inputs, c.CacheMisses);
        Assert.Equal(inputs * chunks, c.CacheHits); // header read was the miss; every band a hit
        Assert.Equal(inputs * (chunks + 1), uncached.Metrics.Get("calexp").Gets);
    }

    [Fact]
    public async Task ConcurrentReaders_OfOneObject_ShareOneGet()
    {
        var storage = await fixture.NewStorageAsync();
        var truth = await CoaddAccessTests.WriteInputsAsync(storage, 1);
        var cached = AzuriteFixture.Reopen(storage, cache: Cache());

        var reads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            FitsRowBandReader.ReadImageAsync(cached.Data, DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run, 8))));

        Assert.All(reads, r => Assert.Equal(truth[0], r));
        Assert.Equal(1, cached.Metrics.Get("calexp").Gets);
    }

    [Fact]
    public async Task ConcurrentWorkload_LargerThanBudget_NeverExceedsBudget()
    {
        const int inputs = 12;
        var storage = await fixture.NewStorageAsync();
        var truth = await CoaddAccessTests.WriteInputsAsync(storage, inputs);
        long objectBytes = (await storage.DataContainer.GetBlobClient(DatasetPaths.For(DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run)).GetPropertiesAsync()).Value.ContentLength;
        long budget = objectBytes * 3 + objectBytes / 2; // room for 3 of the 12 inputs
        var cached = AzuriteFixture.Reopen(storage, cache: Cache(budget));
        long observedMax = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long onDisk = new DirectoryInfo(_root).EnumerateFiles().Sum(f => { try { return f.Length; } catch (FileNotFoundException) { return 0; } });
                observedMax = Math.Max(observedMax, onDisk);
                await Task.Delay(1);
            }
        });

        var rng = new Random(3);
        var order = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, 40).Select(_ => rng.Next(inputs)).ToArray()).ToArray();
        await Task.WhenAll(order.Select(reader => Task.Run(async () =>
        {
            foreach (int i in reader)
            {
                var image = await FitsRowBandReader.ReadImageAsync(cached.Data, DatasetType.Calexp, CoaddAccessTests.Input(i), CoaddAccessTests.Run, 32);
                Assert.Equal(truth[i], image);
            }
        })));
        stop.Cancel();
        await sampler;

        Assert.True(cached.Cache!.Evictions > 0, "the workload must be larger than the budget");
        Assert.True(cached.Cache.HighWaterBytes <= budget, $"accounted high water {cached.Cache.HighWaterBytes} > budget {budget}");
        Assert.True(observedMax <= budget, $"folder held {observedMax} bytes > budget {budget}");
        Assert.True(observedMax > 0);
    }

    [Fact]
    public async Task CorruptEntry_IsDetectedOnHit_AndFetchedAgain()
    {
        var storage = await fixture.NewStorageAsync();
        var truth = await CoaddAccessTests.WriteInputsAsync(storage, 1);
        var first = AzuriteFixture.Reopen(storage, cache: Cache());
        await first.Data.ReadAsync(DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run);
        var entry = Assert.Single(Directory.GetFiles(_root, "*.entry"));
        var bytes = await File.ReadAllBytesAsync(entry);
        bytes[^100] ^= 0xFF; // same length, other content
        await File.WriteAllBytesAsync(entry, bytes);

        var restarted = AzuriteFixture.Reopen(storage, cache: Cache());
        var image = await FitsRowBandReader.ReadImageAsync(restarted.Data, DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run, 16);

        Assert.Equal(truth[0], image);
        Assert.Equal(1, restarted.Cache!.CorruptEntries);
        Assert.Equal(1, restarted.Metrics.Get("calexp").Gets);
    }

    [Fact]
    public async Task CrashMidWrite_LeavesNothingThatIsServed()
    {
        var storage = await fixture.NewStorageAsync();
        var truth = await CoaddAccessTests.WriteInputsAsync(storage, 1);
        var first = AzuriteFixture.Reopen(storage, cache: Cache());
        await first.Data.ReadAsync(DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run);
        var entry = Assert.Single(Directory.GetFiles(_root, "*.entry"));
        // A crash while writing leaves a temporary file; one cut short under the entry's name stands for a torn rename.
        var full = await File.ReadAllBytesAsync(entry);
        await File.WriteAllBytesAsync(Path.ChangeExtension(entry, ".1234.tmp"), full[..(full.Length / 2)]);
        await File.WriteAllBytesAsync(entry, full[..(full.Length / 2)]);

        var restarted = AzuriteFixture.Reopen(storage, cache: Cache());
        var bytes = await restarted.Data.ReadAsync(DatasetType.Calexp, CoaddAccessTests.Input(0), CoaddAccessTests.Run);

        Assert.Empty(Directory.GetFiles(_root, "*.tmp"));
        Assert.Equal(full[32..], bytes);
        Assert.Equal(1, restarted.Metrics.Get("calexp").Gets);
        Assert.Equal(0, restarted.Metrics.Get("calexp").CacheHits);
        _ = truth;
    }

    [Fact]
    public async Task UncachedType_IsAlwaysReadFromTheService()
    {
        var storage = await fixture.NewStorageAsync();
        var cached = AzuriteFixture.Reopen(storage, cache: Cache());
        await cached.Data.WriteAsync(DatasetType.SourceTable, CoaddAccessTests.Input(0), "r", new byte[] { 1, 2, 3 }, "q");

        await cached.Data.ReadAsync(DatasetType.SourceTable, CoaddAccessTests.Input(0), "r");
        await cached.Data.ReadAsync(DatasetType.SourceTable, CoaddAccessTests.Input(0), "r");

        Assert.Equal(2, cached.Metrics.Get("source_table").Gets);
        Assert.Empty(Directory.GetFiles(_root));
    }
}
