using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Drp.Pipeline.Catalogs;
using Drp.Storage.Catalogs;
using Drp.Storage.Resilience;

namespace Drp.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed partial class TableCatalogWriterTests(AzuriteFixture fixture)
{
    private static readonly ColumnDef[] s_sourceColumns =
    [
        new("sourceId", ColumnType.Long, null, "id"),
        new("ccdVisitId", ColumnType.Long, null, "partition"),
        new("psfFlux", ColumnType.Double, "nJy", "flux"),
        new("note", ColumnType.String, null, "text"),
    ];

    /// <summary>A Source-like catalog: <paramref name="perPartition"/> rows in each of the given ccdVisitIds, sourceIds from <paramref name="firstId"/>.</summary>
    private static CatalogTable Sources(IEnumerable<long> ccdVisitIds, int perPartition, long firstId = 0, string note = "")
    {
        var t = new CatalogTable(SourceSchema.TableName, s_sourceColumns);
        long id = firstId;
        foreach (long ccd in ccdVisitIds)
        {
            for (int i = 0; i < perPartition; i++, id++)
            {
                t.Add(id, ccd, id * 0.5, note);
            }
        }
        return t;
    }

    [Fact]
    public async Task WriteAsync_ManyConcurrentCallers_NeverExceedsTheBoundAndEveryRowLandsOnce()
    {
        var storage = await fixture.NewStorageAsync();
        var probe = new BatchProbe { Delay = TimeSpan.FromMilliseconds(20) }; // each batch lingers, so callers overlap
        var table = ProbedTable(storage, probe);
        var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = 3 });
        // 12 callers (quanta), 3 partitions each, 150 rows per partition: 2 batches per partition, 72 batches in all.
        var catalogs = Enumerable.Range(0, 12).Select(c => Sources([c * 10L, c * 10L + 1, c * 10L + 2], 150, firstId: c * 1000L)).ToList();

        var written = await Task.WhenAll(catalogs.Select(c => Task.Run(() => writer.WriteAsync(table, c, CatalogTableKeys.Source))));

        Assert.All(written, n => Assert.Equal(450, n));
        Assert.Equal(72, probe.Batches.Count);
        Assert.InRange(probe.PeakInFlight, 1, 3);
        Assert.Equal(3, probe.PeakInFlight); // 12 callers waiting: the bound is reached, not just respected by running one at a time
        Assert.InRange(writer.PeakInFlightBatches, 1, 3);
        Assert.Equal(0, writer.InFlightBatches);
        Assert.All(probe.Batches, b => Assert.Single(b.Distinct()));
        Assert.All(probe.Batches, b => Assert.InRange(b.Count, 1, TableBatchPlanner.MaxBatchEntities));
        var rows = await ReadAllAsync(storage.Sources);
        Assert.Equal(12 * 450, rows.Count);
        Assert.Equal(12 * 450, rows.Select(e => (e.PartitionKey, e.RowKey)).Distinct().Count());
        Assert.Equal(36, rows.Select(e => e.PartitionKey).Distinct().Count());
    }

    [Fact]
    public async Task WriteAsync_RewriteAndConcurrentDuplicateWrites_LeaveTheSameRowsOnce()
    {
        var storage = await fixture.NewStorageAsync();
        var writer = new TableCatalogWriter();
        var catalog = Sources([7, 8, 9], 130, note: "first");

        Assert.Equal(390, await writer.WriteAsync(storage.Sources, catalog, CatalogTableKeys.Source));
        var again = Sources([7, 8, 9], 130, note: "second"); // a retry of the same quantum, e.g. after a crash
        var twice = await Task.WhenAll(writer.WriteAsync(storage.Sources, again, CatalogTableKeys.Source), writer.WriteAsync(storage.Sources, again, CatalogTableKeys.Source));

        Assert.Equal([390, 390], twice);
        var rows = await ReadAllAsync(storage.Sources);
        Assert.Equal(390, rows.Count);
        Assert.All(rows, e => Assert.Equal("second", e.GetString("note")));
        var e42 = rows.Single(e => e.GetInt64("sourceId") == 42);
        Assert.Equal(CatalogTableKeys.KeyText(7L), e42.PartitionKey);
        Assert.Equal(CatalogTableKeys.KeyText(42L), e42.RowKey);
        Assert.Equal(21.0, e42.GetDouble("psfFlux"));
        Assert.Equal(3 * 390L, writer.EntitiesWritten); // every write upserted all its rows; the table still holds each once
    }

    [Fact]
    public async Task WriteAsync_FailingBatch_ThrowsToItsCallerAndOtherCallersRowsLand()
    {
        var storage = await fixture.NewStorageAsync();
        string poison = CatalogTableKeys.KeyText(666L);
        var probe = new BatchProbe { RefusePartition = poison, Delay = TimeSpan.FromMilliseconds(5) };
        var table = ProbedTable(storage, probe);
        var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = 2 });
        var failing = Sources([665, 666, 667], 40, firstId: 0);
        var others = Enumerable.Range(1, 4).Select(c => Sources([c * 100L, c * 100L + 1], 120, firstId: c * 10_000L)).ToList();

        var failingWrite = Task.Run(() => writer.WriteAsync(table, failing, CatalogTableKeys.Source));
        var otherWrites = others.Select(c => Task.Run(() => writer.WriteAsync(table, c, CatalogTableKeys.Source))).ToList();

        var error = await Assert.ThrowsAsync<TableBatchWriteException>(() => failingWrite);
        Assert.Equal(poison, error.PartitionKey);
        Assert.Equal(storage.Options.SourceTable, error.Table);
        Assert.Equal(40, error.EntityCount);
        Assert.Contains(storage.Options.SourceTable, error.Message);
        Assert.Equal(400, Assert.IsType<RequestFailedException>(error.InnerException).Status);
        Assert.All(await Task.WhenAll(otherWrites), n => Assert.Equal(240, n));
        Assert.Equal(0, writer.InFlightBatches);
        var rows = await ReadAllAsync(storage.Sources);
        Assert.DoesNotContain(rows, e => e.PartitionKey == poison);
        Assert.Equal(4 * 240, rows.Count(e => e.GetInt64("sourceId") >= 10_000));
    }

    [Fact]
    public async Task WriteAsync_ThrottledAndDroppedRequests_AreRetriedByTheStoragePipelineAndLandOnce()
    {
        var storage = await fixture.NewStorageAsync();
        var faults = AzuriteFixture.Faults(0.3, seed: 11);
        faults.Kinds = FaultKinds.Throttle | FaultKinds.ServerBusy | FaultKinds.DroppedConnection;
        var faulty = AzuriteFixture.Reopen(storage, AzuriteFixture.FastRetries(20), faults: faults);
        var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = 4 });
        var catalogs = Enumerable.Range(0, 6).Select(c => Sources([c * 10L, c * 10L + 1], 120, firstId: c * 1000L)).ToList();

        var written = await Task.WhenAll(catalogs.Select(c => writer.WriteAsync(faulty.Sources, c, CatalogTableKeys.Source)));

        Assert.All(written, n => Assert.Equal(240, n));
        Assert.True(faulty.TableFaults!.InjectedTotal > 0);
        Assert.True(faulty.Metrics.Get("table").Retries > 0);
        var rows = await ReadAllAsync(storage.Sources);
        Assert.Equal(6 * 240, rows.Count);
    }

    [Fact]
    public async Task WriteAsync_ObjectKeys_PartitionByTractAndPatch()
    {
        var storage = await fixture.NewStorageAsync();
        var objects = new CatalogTable("Object",
        [
            new("objectId", ColumnType.Long, null, "id"),
            new("tract", ColumnType.Int, null, "tract"),
            new("patch", ColumnType.Int, null, "patch"),
        ]);
        for (long id = 0; id < 30; id++)
        {
            objects.Add(id, 3828, (int)(id % 3));
        }

        Assert.Equal(30, await new TableCatalogWriter().WriteAsync(storage.Sources, objects, CatalogTableKeys.Object));

        var rows = await ReadAllAsync(storage.Sources);
        Assert.Equal(["0000003828-0000000000", "0000003828-0000000001", "0000003828-0000000002"], rows.Select(e => e.PartitionKey).Distinct().Order());
        Assert.All(rows, e => Assert.Equal(CatalogTableKeys.Object.PartitionKeyOf(e.GetInt32("tract")!.Value, e.GetInt32("patch")!.Value), e.PartitionKey));
    }

    [Fact]
    public async Task WriteAsync_LargeEntities_CutBatchesByPayloadAndLand()
    {
        var storage = await fixture.NewStorageAsync();
        var catalog = Sources([1], 150, note: new string('\u00e9', 30_000)); // up to 180 KB of JSON each (\u00e9 escaped): ~17 per batch

        var batches = TableBatchPlanner.Plan(storage.Options.SourceTable, catalog, CatalogTableKeys.Source);
        Assert.True(batches.Count >= 2);
        Assert.All(batches, b => Assert.True(b.EstimatedPayloadBytes <= TableBatchPlanner.MaxBatchPayloadBytes));
        Assert.All(batches, b => Assert.InRange(b.Entities.Count, 1, 99));

        Assert.Equal(150, await new TableCatalogWriter().WriteAsync(storage.Sources, catalog, CatalogTableKeys.Source));
        Assert.Equal(150, (await ReadAllAsync(storage.Sources)).Count);
    }

    [Fact]
    public void Plan_ManyPartitions_BatchesHoldOnePartitionAtMost100AndEveryRowOnce()
    {
        // Rows of 5 partitions interleaved: 0, 1, 2, 3, 4, 0, 1, ... with 230 rows in each.
        var t = new CatalogTable(SourceSchema.TableName, s_sourceColumns);
        for (long id = 0; id < 1150; id++)
        {
            t.Add(id, id % 5, 1.0, "");
        }

        var batches = TableBatchPlanner.Plan("T", t, CatalogTableKeys.Source);

        Assert.Equal(15, batches.Count); // 230 = 100 + 100 + 30 per partition
        Assert.All(batches, b => Assert.All(b.Entities, e => Assert.Equal(b.PartitionKey, e.PartitionKey)));
        Assert.All(batches, b => Assert.InRange(b.Entities.Count, 1, 100));
        var rowKeys = batches.SelectMany(b => b.Entities.Select(e => e.RowKey)).ToList();
        Assert.Equal(1150, rowKeys.Count);
        Assert.Equal(1150, rowKeys.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 5).Select(p => CatalogTableKeys.KeyText((long)p)), batches.Select(b => b.PartitionKey).Distinct());
    }

    [Fact]
    public void Plan_StringPropertyOver64KiB_ThrowsNamingTableKeyAndColumn()
    {
        var t = Sources([5], 3);
        t.Rows[1][3] = new string('y', 32_769); // 65,538 bytes as UTF-16

        var e = Assert.Throws<InvalidTableEntityException>(() => TableBatchPlanner.Plan("DrpSourceX", t, CatalogTableKeys.Source));

        Assert.Equal("DrpSourceX", e.Table);
        Assert.Equal(CatalogTableKeys.KeyText(5L), e.PartitionKey);
        Assert.Equal(CatalogTableKeys.KeyText(1L), e.RowKey);
        Assert.Equal("note", e.Column);
        Assert.Contains("64 KiB", e.Message);
        Assert.Contains("DrpSourceX", e.Message);
        Assert.Contains("note", e.Message);
    }

    [Fact]
    public void Plan_EntityOver1MiB_ThrowsNamingTableKeyAndLargestColumn()
    {
        var columns = Enumerable.Range(0, 20).Select(i => new ColumnDef($"text{i:D2}", ColumnType.String, null, "text"))
            .Prepend(new ColumnDef("ccdVisitId", ColumnType.Long, null, "partition"))
            .Prepend(new ColumnDef("sourceId", ColumnType.Long, null, "id")).ToArray();
        var t = new CatalogTable(SourceSchema.TableName, columns);
        var row = new object?[columns.Length];
        row[0] = 9L;
        row[1] = 4L;
        for (int i = 2; i < row.Length; i++)
        {
            row[i] = new string('z', i == 13 ? 30_000 : 27_000); // each under 64 KiB, together ~1.1 MB
        }
        t.Add(row);

        var e = Assert.Throws<InvalidTableEntityException>(() => TableBatchPlanner.Plan("DrpSource", t, CatalogTableKeys.Source));

        Assert.Equal(CatalogTableKeys.KeyText(9L), e.RowKey);
        Assert.Equal("text11", e.Column);
        Assert.Contains("1 MiB", e.Message);
    }

    [Fact]
    public void Plan_SameKeyTwice_ThrowsInsteadOfSendingABatchTheServiceRefuses()
    {
        var t = Sources([5], 3);
        t.Rows[2][0] = 0L; // sourceId 0 again

        var e = Assert.Throws<InvalidTableEntityException>(() => TableBatchPlanner.Plan("T", t, CatalogTableKeys.Source));

        Assert.Equal("sourceId", e.Column);
        Assert.Equal(CatalogTableKeys.KeyText(0L), e.RowKey);
    }

    [Fact]
    public void Plan_KeyWithForbiddenCharacter_ThrowsNamingTheKeyColumn()
    {
        var t = new CatalogTable(SourceSchema.TableName, [new("sourceId", ColumnType.String, null, "id"), new("ccdVisitId", ColumnType.Long, null, "p")]);
        t.Add("a/b", 1L);

        var e = Assert.Throws<InvalidTableEntityException>(() => TableBatchPlanner.Plan("T", t, CatalogTableKeys.Source));

        Assert.Equal("sourceId", e.Column);
        Assert.Contains("U+002F", e.Message);
    }

    [Fact]
    public void Plan_CatalogWithoutAPartitionColumn_ThrowsNamingIt()
    {
        var t = new CatalogTable("Object", [new("objectId", ColumnType.Long, null, "id"), new("tract", ColumnType.Int, null, "tract")]);
        t.Add(1L, 3828);

        var e = Assert.Throws<KeyNotFoundException>(() => TableBatchPlanner.Plan("T", t, CatalogTableKeys.Object));

        Assert.Contains("patch", e.Message);
    }

    [Fact]
    public void For_UndeclaredCatalog_ThrowsNamingTheDeclaredOnes()
    {
        Assert.Same(CatalogTableKeys.Source, CatalogTableKeys.For("Source"));
        var e = Assert.Throws<KeyNotFoundException>(() => CatalogTableKeys.For("DiaSource"));
        Assert.Contains("Source, Object", e.Message);
    }

    [Fact]
    public void Plan_KeysOfAnotherCatalog_Throw()
    {
        Assert.Throws<ArgumentException>(() => TableBatchPlanner.Plan("T", Sources([1], 1), CatalogTableKeys.Object));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void Constructor_BoundOutOfRange_ThrowsNamingTheSetting(int bound)
    {
        var e = Assert.Throws<ArgumentException>(() => new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = bound }));
        Assert.Contains("Drp:Storage:Tables", e.Message);
        Assert.Contains(nameof(TableWriterOptions.MaxConcurrentBatches), e.Message);
    }

    private static async Task<List<TableEntity>> ReadAllAsync(TableClient table)
    {
        var all = new List<TableEntity>();
        await foreach (var e in table.QueryAsync<TableEntity>())
        {
            all.Add(e);
        }
        return all;
    }

    /// <summary>The test's Source table through a client with the storage pipeline in its retry slot and <paramref name="probe"/> on every call.</summary>
    private TableClient ProbedTable(StorageClients storage, BatchProbe probe)
    {
        var options = new TableClientOptions { RetryPolicy = storage.Resilience.AsHttpPolicy("table") };
        options.AddPolicy(probe, HttpPipelinePosition.PerCall);
        return new TableServiceClient(fixture.Azurite.ConnectionString, options).GetTableClient(storage.Options.SourceTable);
    }

    /// <summary>
    /// Watches batch requests on the wire: how many are in flight at once, and the partition key of every entity in
    /// each; optionally delays each, or refuses (HTTP 400, without sending) any batch holding a given partition.
    /// </summary>
    private sealed partial class BatchProbe : HttpPipelinePolicy
    {
        private readonly object _gate = new();
        private int _inFlight;
        private int _peak;

        public TimeSpan Delay { get; init; }

        public string? RefusePartition { get; init; }

        public ConcurrentBag<List<string>> Batches { get; } = [];

        public int PeakInFlight => Volatile.Read(ref _peak);

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (!message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
            {
                await ProcessNextAsync(message, pipeline);
                return;
            }
            using var body = new MemoryStream();
            await message.Request.Content!.WriteToAsync(body, message.CancellationToken);
            var keys = PartitionKeys().Matches(Encoding.UTF8.GetString(body.ToArray())).Select(m => m.Groups[1].Value).ToList();
            int now = Interlocked.Increment(ref _inFlight);
            lock (_gate)
            {
                _peak = Math.Max(_peak, now);
            }
            try
            {
                await Task.Delay(Delay, message.CancellationToken);
                if (RefusePartition is not null && keys.Contains(RefusePartition))
                {
                    throw new RequestFailedException(400, "injected: the service refused this batch", "InvalidInput", null);
                }
                await ProcessNextAsync(message, pipeline);
                Batches.Add(keys);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        [GeneratedRegex("\"PartitionKey\":\"([^\"]*)\"")]
        private static partial Regex PartitionKeys();
    }
}
