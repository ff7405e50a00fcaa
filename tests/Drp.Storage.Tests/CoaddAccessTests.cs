using Drp.Pipeline.Fits;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Storage.Resilience;

namespace Drp.Storage.Tests;

/// <summary>
/// The coadd access pattern (N calexps read as a header plus bands of rows) under injected faults, against Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CoaddAccessTests(AzuriteFixture fixture)
{
    internal const string Run = "run1";
    internal const int Width = 120, Height = 96, BandRows = 8;

    internal static DataId Input(int i) => new("TestCam", 100 + i, i % 3);

    /// <summary>Writes <paramref name="count"/> calexps with known pixels; returns the pixels.</summary>
    internal static async Task<List<float[]>> WriteInputsAsync(StorageClients storage, int count, int width = Width, int height = Height)
    {
        var truth = new List<float[]>();
        var rng = new Random(11);
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[width * height];
            for (int k = 0; k < pixels.Length; k++)
            {
                pixels[k] = (float)(rng.NextDouble() * 1000 - 100);
            }
            using var ms = new MemoryStream();
            FitsFile.Write(ms, [new FitsImage(width, height, FitsBitpix.Float32, pixels: pixels)]);
            await storage.Data.WriteAsync(DatasetType.Calexp, Input(i), Run, ms.ToArray(), producer: $"quantum-{i}", "application/fits");
            truth.Add(pixels);
        }
        return truth;
    }

    internal static async Task<List<float[]>> ReadAllInBandsAsync(StorageClients storage, int count, int bandRows = BandRows)
    {
        var images = new List<float[]>();
        for (int i = 0; i < count; i++)
        {
            images.Add(await FitsRowBandReader.ReadImageAsync(storage.Data, DatasetType.Calexp, Input(i), Run, bandRows));
        }
        return images;
    }

    [Fact]
    public async Task ChunkedReads_WithTwentyPercentFaults_AreIdenticalToFaultFreeReads()
    {
        // Which request draws which fault depends on the blob paths, and each test's containers have a random suffix,
        // so the faults differ run by run. Each GET draws a given kind with probability 0.2 / 5 = 0.04: with 10 inputs
        // (~130 GETs) a run saw no truncated body about once in 200 (CI did); with 30 (~390 GETs) it is ~1e-7.
        const int inputs = 30;
        var storage = await fixture.NewStorageAsync();
        var truth = await WriteInputsAsync(storage, count: inputs);
        var clean = AzuriteFixture.Reopen(storage);
        var faulty = AzuriteFixture.Reopen(storage, faults: AzuriteFixture.Faults(0.2));

        var expected = await ReadAllInBandsAsync(clean, inputs);
        var actual = await ReadAllInBandsAsync(faulty, inputs);

        for (int i = 0; i < inputs; i++)
        {
            Assert.Equal(truth[i], expected[i]);
            Assert.Equal(expected[i], actual[i]);
        }
        var injected = faulty.BlobFaults!.Injected;
        Assert.True(injected.GetValueOrDefault(FaultKinds.TruncatedBody) > 0, "some bodies were truncated");
        Assert.True(injected.GetValueOrDefault(FaultKinds.Throttle) > 0, "some requests were throttled");
        Assert.True(injected.GetValueOrDefault(FaultKinds.ServerBusy) > 0, "some requests got 503");
        Assert.True(injected.GetValueOrDefault(FaultKinds.DroppedConnection) > 0, "some connections were dropped");
        var calexp = faulty.Metrics.Get("calexp");
        // Every injected fault but a slow response costs one retry.
        Assert.Equal(faulty.BlobFaults.InjectedTotal - injected.GetValueOrDefault(FaultKinds.SlowResponse), calexp.Retries);
        Assert.Equal(0, clean.Metrics.Get("calexp").Retries);
    }

    [Fact]
    public async Task ChunkedReads_WithEveryRequestFaulted_FailWithDatasetUnavailableAfterBoundedAttempts()
    {
        var storage = await fixture.NewStorageAsync();
        await WriteInputsAsync(storage, count: 1);
        var faults = AzuriteFixture.Faults(1.0);
        faults.Kinds = FaultKinds.All & ~FaultKinds.SlowResponse; // a slow answer is still an answer
        var faulty = AzuriteFixture.Reopen(storage, AzuriteFixture.FastRetries(maxRetryAttempts: 3), faults: faults);

        var e = await Assert.ThrowsAsync<DatasetUnavailableException>(() => ReadAllInBandsAsync(faulty, 1));

        Assert.Equal("calexp", e.DatasetType);
        Assert.Equal(4, faulty.BlobFaults!.Requests); // 1 attempt + 3 retries, then loud failure
        Assert.Equal(3, faulty.Metrics.Get("calexp").Retries);
    }

    [Fact]
    public async Task FaultInjection_SameSeed_InjectsTheSameFaults()
    {
        var storage = await fixture.NewStorageAsync();
        await WriteInputsAsync(storage, count: 3);
        var a = AzuriteFixture.Reopen(storage, faults: AzuriteFixture.Faults(0.3, seed: 5));
        var b = AzuriteFixture.Reopen(storage, faults: AzuriteFixture.Faults(0.3, seed: 5));
        var c = AzuriteFixture.Reopen(storage, faults: AzuriteFixture.Faults(0.3, seed: 6));

        await ReadAllInBandsAsync(a, 3);
        await ReadAllInBandsAsync(b, 3);
        await ReadAllInBandsAsync(c, 3);

        Assert.Equal(a.BlobFaults!.Injected.OrderBy(kv => kv.Key), b.BlobFaults!.Injected.OrderBy(kv => kv.Key));
        Assert.NotEqual(a.BlobFaults.Injected.OrderBy(kv => kv.Key), c.BlobFaults!.Injected.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task TableCalls_WithFaults_SucceedAndCountRetries()
    {
        var storage = await fixture.NewStorageAsync();
        // Only faults that need a retry (a slow response succeeds), at a rate that makes "none drawn" in 40+ requests
        // improbable (0.75^40 ~ 1e-5) and 9 failed attempts in a row more so (40 x 0.25^9 ~ 1e-4): the draw depends on
        // the random table name, so the test must not rely on luck.
        var faults = AzuriteFixture.Faults(0.25);
        faults.Kinds = FaultKinds.Throttle | FaultKinds.ServerBusy | FaultKinds.DroppedConnection;
        var faulty = AzuriteFixture.Reopen(storage, faults: faults);
        var registry = new RegistryTable(faulty.Registry);

        for (int d = 0; d < 40; d++)
        {
            await registry.RegisterAsync(new RawRecord("TestCam", 1, d, "r", 30, 60000, "raw", $"raw_{d}.fits", "etag"));
        }

        Assert.Equal(40, (await new RegistryTable(storage.Registry).ListAsync("TestCam")).Count);
        Assert.True(faulty.TableFaults!.InjectedTotal > 0);
        Assert.True(faulty.Metrics.Get("table").Retries > 0);
    }
}
