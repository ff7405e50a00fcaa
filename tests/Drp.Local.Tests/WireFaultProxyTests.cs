using System.Diagnostics;
using System.Net.Sockets;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Drp.Local.Faults;
using Drp.Storage;
using Drp.Storage.Datasets;
using Drp.Storage.Resilience;
using Drp.TestSupport;

namespace Drp.Local.Tests;

/// <summary>
/// The fault proxy fails requests the way the network and a busy service do, deterministically for a seed; and every
/// client <see cref="StorageClients"/> builds (Blob, Queue, Table and the dataset store) comes through it whole.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WireFaultProxyTests(AzuriteFixture fixture)
{
    /// <summary>Short enough for tests: a stall (2 s) outlasts the attempt timeout (1 s).</summary>
    private static StorageResilienceOptions Resilience(TimeSpan? total = null) => new()
    {
        MaxRetryAttempts = 50,
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(100),
        AttemptTimeout = TimeSpan.FromSeconds(1),
        TotalTimeout = total ?? TimeSpan.FromSeconds(60),
    };

    private WireFaultNetwork Proxy(double rate, WireFaultKinds kinds = WireFaultKinds.All, int seed = 1) =>
        WireFaultNetwork.Start(fixture.Azurite, new WireFaultOptions { Rate = rate, Kinds = kinds, Seed = seed, StallTime = TimeSpan.FromSeconds(2) });

    /// <summary>The isolated names of a new test storage, reached through <paramref name="connectionString"/>.</summary>
    private async Task<(StorageClients Direct, StorageClients Proxied)> StorageAsync(string connectionString, StorageResilienceOptions? resilience = null)
    {
        var direct = await fixture.NewStorageAsync();
        var options = direct.Options;
        var proxied = new StorageClients(new DrpStorageOptions
        {
            ConnectionString = connectionString,
            RawContainer = options.RawContainer,
            DataContainer = options.DataContainer,
            ArrivalsQueue = options.ArrivalsQueue,
            RegistryTable = options.RegistryTable,
            LedgerTable = options.LedgerTable,
            SourceTable = options.SourceTable,
            CcdVisitTable = options.CcdVisitTable,
            VisitTable = options.VisitTable,
        }, resilience ?? Resilience());
        return (direct, proxied);
    }

    [Fact]
    public void Decide_IsAPureFunctionOfSeedRequestAndOrdinal_AndHitsTheRate()
    {
        var options = new WireFaultOptions { Rate = 0.3, Seed = 4 };
        var first = Enumerable.Range(0, 4000).Select(i => WireFaultProxy.Decide(options, $"blob GET /a/{i % 50}", i / 50)).ToList();
        var again = Enumerable.Range(0, 4000).Select(i => WireFaultProxy.Decide(options, $"blob GET /a/{i % 50}", i / 50)).ToList();
        var other = Enumerable.Range(0, 4000).Select(i => WireFaultProxy.Decide(new WireFaultOptions { Rate = 0.3, Seed = 5 }, $"blob GET /a/{i % 50}", i / 50)).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        double rate = first.Count(k => k != WireFaultKinds.None) / 4000.0;
        Assert.InRange(rate, 0.27, 0.33);
        // Every kind is chosen, about equally (1/8 of the faults each).
        var byKind = first.Where(k => k != WireFaultKinds.None).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(8, byKind.Count);
        Assert.All(byKind.Values, n => Assert.InRange(n, 100, 200));
    }

    [Theory]
    [InlineData(WireFaultKinds.ServerBusy, 503, "ServerBusy")]
    [InlineData(WireFaultKinds.OperationTimedOut, 500, "OperationTimedOut")]
    [InlineData(WireFaultKinds.TooManyRequests, 429, "TooManyRequests")]
    public async Task StatusFaults_AnswerWithTheServiceErrorBody_AndNeverReachTheService(WireFaultKinds kind, int status, string code)
    {
        await using var proxy = Proxy(1, kind);
        var (direct, _) = await StorageAsync(proxy.ConnectionString);
        var noRetry = new BlobClientOptions();
        noRetry.Retry.MaxRetries = 0;
        var blob = new BlobServiceClient(proxy.ConnectionString, noRetry).GetBlobContainerClient(direct.Options.DataContainer).GetBlobClient("x");

        var e = await Assert.ThrowsAsync<RequestFailedException>(() => blob.UploadAsync(BinaryData.FromString("x")));

        Assert.Equal((status, code), (e.Status, e.ErrorCode));
        if (kind == WireFaultKinds.TooManyRequests)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), StorageErrors.RetryAfter(e));
        }
        Assert.False((await direct.DataContainer.GetBlobClient("x").ExistsAsync()).Value);
        Assert.Equal(1, proxy.Counters.Faults[kind]);
    }

    [Theory]
    [InlineData(WireFaultKinds.ResetBeforeResponse)]
    [InlineData(WireFaultKinds.ResetMidBody)]
    [InlineData(WireFaultKinds.TruncatedBody)]
    public async Task LostResponses_FailTheClient_AfterTheServiceDidTheWork(WireFaultKinds kind)
    {
        await using var proxy = Proxy(1, kind);
        var (direct, _) = await StorageAsync(proxy.ConnectionString);
        var noRetry = new BlobClientOptions();
        noRetry.Retry.MaxRetries = 0;
        var blob = new BlobServiceClient(proxy.ConnectionString, noRetry).GetBlobContainerClient(direct.Options.DataContainer).GetBlobClient("x");

        var e = await Assert.ThrowsAnyAsync<Exception>(() => blob.UploadAsync(BinaryData.FromString("payload")));

        Assert.True(StorageErrors.IsTransient(e), $"{e.GetType().Name}: {e.Message}");
        Assert.Equal("payload", (await direct.DataContainer.GetBlobClient("x").DownloadContentAsync()).Value.Content.ToString());
    }

    [Fact]
    public async Task CutShortBodies_OfSuccessAndError_FailTheRead()
    {
        await using var proxy = Proxy(0, WireFaultKinds.TruncatedBody);
        var (direct, _) = await StorageAsync(proxy.ConnectionString);
        await direct.DataContainer.GetBlobClient("x").UploadAsync(BinaryData.FromBytes(new byte[100_000]));
        var noRetry = new BlobClientOptions();
        noRetry.Retry.MaxRetries = 0;
        var blob = new BlobServiceClient(proxy.ConnectionString, noRetry).GetBlobContainerClient(direct.Options.DataContainer).GetBlobClient("x");

        proxy.Options.Rate = 1;
        var success = await Assert.ThrowsAnyAsync<Exception>(() => blob.DownloadContentAsync());
        proxy.Options.Kinds = WireFaultKinds.TruncatedErrorBody;
        var error = await Assert.ThrowsAnyAsync<Exception>(() => blob.DownloadContentAsync());

        Assert.True(StorageErrors.IsTransient(success), $"{success.GetType().Name}: {success.Message}");
        Assert.True(StorageErrors.IsTransient(error), $"{error.GetType().Name}: {error.Message}");
        // The SDK's download stream resumes a cut-short body by itself a few times, even with retries off.
        Assert.True(proxy.Counters.Faults[WireFaultKinds.TruncatedBody] >= 1);
        Assert.True(proxy.Counters.Faults[WireFaultKinds.TruncatedErrorBody] >= 1);
    }

    [Fact]
    public async Task Stall_OutlastsTheAttemptTimeout_AndTheNextAttemptSucceeds()
    {
        await using var proxy = Proxy(0, WireFaultKinds.Stall);
        var (direct, proxied) = await StorageAsync(proxy.ConnectionString);
        await direct.Registry.UpsertEntityAsync(new TableEntity("p", "r") { ["V"] = 1 });

        proxy.Options.Rate = 0.5;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 12; i++)
        {
            var row = (await proxied.Registry.GetEntityAsync<TableEntity>("p", "r")).Value;
            Assert.Equal(1, row.GetInt32("V"));
        }

        Assert.True(proxy.Counters.Faults.GetValueOrDefault(WireFaultKinds.Stall) > 0);
        Assert.True(proxied.Metrics.FaultsSeen().ContainsKey("attempt timed out"), string.Join(", ", proxied.Metrics.FaultsSeen().Keys));
        // Each stall costs one attempt timeout (1 s), not the proxy's 2 s stall nor the SDK's 100 s default.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.9 * proxy.Counters.Faults[WireFaultKinds.Stall] + 5), $"{watch.Elapsed}");
    }

    [Fact]
    public async Task EveryClient_ThroughThirtyPercentOfEveryKind_GetsEveryCallThroughWhole()
    {
        await using var proxy = Proxy(0.3, seed: 3);
        var (direct, proxied) = await StorageAsync(proxy.ConnectionString);
        var payloads = Enumerable.Range(0, 30).Select(i => Enumerable.Range(0, 20_000 + i).Select(j => (byte)(i * 7 + j)).ToArray()).ToList();

        for (int i = 0; i < payloads.Count; i++)
        {
            // The uploader's path (demo, LocalEventGrid) and the dataset store's.
            await proxied.RawContainer.GetBlobClient($"raw/{i}").UploadAsync(BinaryData.FromBytes(payloads[i]), overwrite: true);
            await proxied.Data.WriteAsync($"data/{i}", payloads[i]);
            await proxied.Registry.UpsertEntityAsync(new TableEntity("p", $"r{i:D3}") { ["I"] = i });
            await proxied.ArrivalsQueue.SendMessageAsync($"m{i}");
        }
        for (int i = 0; i < payloads.Count; i++)
        {
            Assert.Equal(payloads[i], (await proxied.RawContainer.GetBlobClient($"raw/{i}").DownloadContentAsync()).Value.Content.ToArray());
            Assert.Equal(payloads[i], (await proxied.Data.ReadAllAsync($"data/{i}")));
        }
        var rows = new List<int>();
        await foreach (var e in proxied.Registry.QueryAsync<TableEntity>(filter: "PartitionKey eq 'p'"))
        {
            rows.Add(e.GetInt32("I")!.Value);
        }
        var received = new HashSet<string>();
        for (int round = 0; round < 200 && received.Count < payloads.Count; round++)
        {
            foreach (var m in (await proxied.ArrivalsQueue.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(2))).Value)
            {
                received.Add(m.Body.ToString());
                await proxied.ArrivalsQueue.DeleteReceivedAsync(m.MessageId, m.PopReceipt);
            }
        }

        Assert.Equal(Enumerable.Range(0, payloads.Count), rows.Order());
        // At least once: a send whose response was lost is sent again, so a message may arrive twice, never not at all.
        Assert.Equal(Enumerable.Range(0, payloads.Count).Select(i => $"m{i}").ToHashSet(), received);
        Assert.All(Enum.GetValues<WireFaultKinds>().Where(k => k is not WireFaultKinds.None and not WireFaultKinds.All),
            k => Assert.True(proxy.Counters.Faults.GetValueOrDefault(k) > 0, $"no {k} injected"));
        Assert.True(proxied.Metrics.FaultsSeen().Values.Sum() > 0);
    }

    [Fact]
    public async Task EveryRequestFailing_EndsWithinTheTotalTimeout_WithATypedError()
    {
        await using var proxy = Proxy(1, WireFaultKinds.All & ~WireFaultKinds.Stall);
        var (_, proxied) = await StorageAsync(proxy.ConnectionString, Resilience(total: TimeSpan.FromSeconds(3)));
        var watch = Stopwatch.StartNew();

        var store = await Assert.ThrowsAsync<DatasetUnavailableException>(() => proxied.Data.ReadAllAsync("data/none"));
        var table = await Assert.ThrowsAnyAsync<Exception>(() => proxied.Registry.UpsertEntityAsync(new TableEntity("p", "r")));
        var queue = await Assert.ThrowsAnyAsync<Exception>(() => proxied.ArrivalsQueue.SendMessageAsync("m"));

        // Each call ends at its total timeout (3 s) plus at most one attempt (1 s).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3 * 4.5), $"{watch.Elapsed}");
        Assert.All(new[] { table, queue }, e => Assert.True(e is StorageUnavailableException or RequestFailedException { Status: 429 or 500 or 503 },
            $"{e.GetType().Name}: {e.Message}"));
        Assert.Matches(@"gave up after \d+ attempts in \d+\.\d s; the last failed with ", store.Message);
    }
}
