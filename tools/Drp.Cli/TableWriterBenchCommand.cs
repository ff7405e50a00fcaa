using System.CommandLine;
using System.Diagnostics;
using Azure.Data.Tables;
using Drp.Local;
using Drp.Pipeline.Catalogs;
using Drp.Storage;
using Drp.Storage.Catalogs;

namespace Drp.Cli;

/// <summary>
/// <c>drp bench tables</c>: Source rows (the real Source columns, synthetic values) written to Azure Tables on one
/// in-memory Azurite, side by side in one run: (a) a plain loop of single-entity upserts, (b) the writer stage with one
/// batch in flight, (c) the writer stage at its configured bound, (d) the same with one caller per partition at once
/// (as step-1 quanta call it). Every scenario writes its own new table through the same storage pipeline; prints
/// entities per second, the ratio to (a), the peak of batches in flight and the rows that landed.
/// </summary>
internal static class TableWriterBenchCommand
{
    public static Command Create()
    {
        var rows = new Option<int>("--rows") { Description = "Source rows to write per scenario.", DefaultValueFactory = _ => 20_000 };
        var partitions = new Option<int>("--partitions") { Description = "Detector-visits (partitions) the rows are spread over.", DefaultValueFactory = _ => 200 };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Batches in flight for (c) and (d) (default: Drp:Storage:Tables:MaxConcurrentBatches' default).",
            DefaultValueFactory = _ => new TableWriterOptions().MaxConcurrentBatches,
        };
        var cmd = new Command("tables", "Entities per second into Azure Tables (Azurite): a plain upsert loop against the batched writer stage.") { rows, partitions, concurrency };
        cmd.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(rows), p = parse.GetValue(partitions), c = parse.GetValue(concurrency);
            if (n < 1 || p < 1 || p > n || c is < 1 or > 256)
            {
                Console.Error.WriteLine("drp bench tables: need --rows >= 1, 1 <= --partitions <= --rows, 1 <= --concurrency <= 256");
                return 2;
            }
            await RunAsync(n, p, c, ct);
            return 0;
        });
        return cmd;
    }

    private static async Task RunAsync(int rowCount, int partitionCount, int concurrency, CancellationToken ct)
    {
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = azurite.ConnectionString });
        var keys = CatalogTableKeys.Source;
        var catalogs = SyntheticSources(rowCount, partitionCount);
        var all = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        all.Rows.AddRange(catalogs.SelectMany(c => c.Rows));
        var entities = TableBatchPlanner.Plan("bench", all, keys).SelectMany(b => b.Entities).ToList();

        // Warm-up (connections, JIT) on a table of its own, not timed.
        var warm = await NewTableAsync(storage, "warm", ct);
        await new TableCatalogWriter().WriteAsync(warm, catalogs[0], keys, ct);
        foreach (var e in entities.Take(20))
        {
            await warm.UpsertEntityAsync(e, TableUpdateMode.Replace, ct);
        }
        await warm.DeleteAsync(ct);

        Console.WriteLine($"{rowCount} Source rows ({SourceSchema.Columns.Count} columns) in {partitionCount} partitions (ccdVisitId); "
            + $"writer bound {concurrency}; Azurite in memory; {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-44} {"requests",9} {"seconds",8} {"entities/s",11} {"vs (a)",7} {"peak",5} {"rows landed",12}");
        double? baseline = null;

        async Task Report(string name, Func<TableClient, Task<(int Requests, int Peak)>> scenario)
        {
            var table = await NewTableAsync(storage, name[1..2], ct);
            var sw = Stopwatch.StartNew();
            var (requests, peak) = await scenario(table);
            sw.Stop();
            long landed = 0;
            await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: ct))
            {
                landed++;
            }
            await table.DeleteAsync(ct);
            double rate = rowCount / sw.Elapsed.TotalSeconds;
            baseline ??= rate;
            Console.WriteLine($"{name,-44} {requests,9} {sw.Elapsed.TotalSeconds,8:F2} {rate,11:F0} {rate / baseline.Value,6:F1}x {peak,5} {landed,12}");
        }

        await Report("(a) plain loop: UpsertEntityAsync per row", async table =>
        {
            foreach (var e in entities)
            {
                await table.UpsertEntityAsync(e, TableUpdateMode.Replace, ct);
            }
            return (entities.Count, 1);
        });
        await Report("(b) writer, 1 batch in flight", async table =>
        {
            var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = 1 });
            await writer.WriteAsync(table, all, keys, ct);
            return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
        });
        await Report($"(c) writer, {concurrency} in flight, 1 caller", async table =>
        {
            var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = concurrency });
            await writer.WriteAsync(table, all, keys, ct);
            return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
        });
        await Report($"(d) writer, {concurrency} in flight, {partitionCount} callers", async table =>
        {
            var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = concurrency });
            await Task.WhenAll(catalogs.Select(c => Task.Run(() => writer.WriteAsync(table, c, keys, ct), ct)));
            return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
        });
        Console.WriteLine();
        Console.WriteLine("requests: HTTP requests before retries (a: one per row; writer: one per batch of <= 100). peak: most requests in flight at once.");
    }

    private static async Task<TableClient> NewTableAsync(StorageClients storage, string tag, CancellationToken ct)
    {
        var table = storage.Tables.GetTableClient("bench" + tag + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync(ct);
        return table;
    }

    /// <summary>One Source catalog per partition (a detector-visit, as one quantum writes it), rows spread evenly; values by column type.</summary>
    private static List<CatalogTable> SyntheticSources(int rowCount, int partitionCount)
    {
        var columns = SourceSchema.Columns;
        var rng = new Random(1);
        var catalogs = new List<CatalogTable>(partitionCount);
        long id = 0;
        for (int p = 0; p < partitionCount; p++)
        {
            var t = new CatalogTable(SourceSchema.TableName, columns);
            long ccdVisitId = 1_000_000L + p;
            int inPartition = rowCount / partitionCount + (p < rowCount % partitionCount ? 1 : 0);
            for (int k = 0; k < inPartition; k++, id++)
            {
                var row = new object?[columns.Count];
                for (int c = 0; c < row.Length; c++)
                {
                    row[c] = columns[c].Name switch
                    {
                        "sourceId" => (ccdVisitId << 24) | (long)k,
                        "ccdVisitId" => ccdVisitId,
                        _ => columns[c].Type switch
                        {
                            ColumnType.Long => id,
                            ColumnType.Int => k,
                            ColumnType.Double => rng.NextDouble() * 1000,
                            ColumnType.Float => (float)rng.NextDouble(),
                            ColumnType.Boolean => (id & 1) == 0,
                            _ => "r",
                        },
                    };
                }
                t.Add(row);
            }
            catalogs.Add(t);
        }
        return catalogs;
    }
}
