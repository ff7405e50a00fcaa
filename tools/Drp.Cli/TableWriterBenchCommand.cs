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
/// (as step-1 quanta call it). Every scenario writes its own new table through the same storage pipeline, in rounds
/// whose order is reversed every other round; prints entities per second, the ratio to (a), the peak of batches in
/// flight and the rows that landed.
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
        var rounds = new Option<int>("--rounds") { Description = "Times each scenario runs (order reversed every other round).", DefaultValueFactory = _ => 2 };
        var cmd = new Command("tables", "Entities per second into Azure Tables (Azurite): a plain upsert loop against the batched writer stage.") { rows, partitions, concurrency, rounds };
        cmd.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(rows), p = parse.GetValue(partitions), c = parse.GetValue(concurrency), r = parse.GetValue(rounds);
            if (n < 1 || p < 1 || p > n || c is < 1 or > 256 || r < 1)
            {
                Console.Error.WriteLine("drp bench tables: need --rows >= 1, 1 <= --partitions <= --rows, 1 <= --concurrency <= 256, --rounds >= 1");
                return 2;
            }
            await RunAsync(n, p, c, r, ct);
            return 0;
        });
        return cmd;
    }

    private static async Task RunAsync(int rowCount, int partitionCount, int concurrency, int rounds, CancellationToken ct)
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

        var scenarios = new (string Name, Func<TableClient, Task<(int Requests, int Peak)>> Run)[]
        {
            ("(a) plain loop: UpsertEntityAsync per row", async table =>
            {
                foreach (var e in entities)
                {
                    await table.UpsertEntityAsync(e, TableUpdateMode.Replace, ct);
                }
                return (entities.Count, 1);
            }),
            ("(b) writer, 1 batch in flight", async table =>
            {
                var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = 1 });
                await writer.WriteAsync(table, all, keys, ct);
                return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
            }),
            ($"(c) writer, {concurrency} in flight, 1 caller", async table =>
            {
                var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = concurrency });
                await writer.WriteAsync(table, all, keys, ct);
                return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
            }),
            ($"(d) writer, {concurrency} in flight, {partitionCount} callers", async table =>
            {
                var writer = new TableCatalogWriter(new TableWriterOptions { MaxConcurrentBatches = concurrency });
                await Task.WhenAll(catalogs.Select(c => Task.Run(() => writer.WriteAsync(table, c, keys, ct), ct)));
                return ((int)writer.BatchesWritten, writer.PeakInFlightBatches);
            }),
        };

        Console.WriteLine($"{rowCount} Source rows ({SourceSchema.Columns.Count} columns) in {partitionCount} partitions (ccdVisitId); "
            + $"writer bound {concurrency}; {rounds} rounds, scenario order reversed every other round; Azurite in memory; {Environment.ProcessorCount} cores");
        var seconds = scenarios.Select(_ => new List<double>()).ToArray();
        var requests = new int[scenarios.Length];
        var peaks = new int[scenarios.Length];
        var landed = Enumerable.Repeat(long.MaxValue, scenarios.Length).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            // Reversing the order every other round cancels a drift of the shared emulator (it slows as it ages).
            var order = Enumerable.Range(0, scenarios.Length);
            foreach (int s in round % 2 == 0 ? order : order.Reverse())
            {
                var table = await NewTableAsync(storage, "abcd"[s..(s + 1)], ct);
                var sw = Stopwatch.StartNew();
                (requests[s], int peak) = await scenarios[s].Run(table);
                sw.Stop();
                seconds[s].Add(sw.Elapsed.TotalSeconds);
                peaks[s] = Math.Max(peaks[s], peak);
                long count = 0;
                await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: ct))
                {
                    count++;
                }
                landed[s] = Math.Min(landed[s], count);
                await table.DeleteAsync(ct);
                Console.WriteLine($"  round {round + 1}: {scenarios[s].Name} {sw.Elapsed.TotalSeconds:F2} s");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"scenario",-44} {"requests",9} {"mean s",7} {"min s",7} {"max s",7} {"entities/s",11} {"vs (a)",7} {"peak",5} {"rows landed",12}");
        double baseline = rowCount / seconds[0].Average();
        for (int s = 0; s < scenarios.Length; s++)
        {
            double rate = rowCount / seconds[s].Average();
            Console.WriteLine($"{scenarios[s].Name,-44} {requests[s],9} {seconds[s].Average(),7:F2} {seconds[s].Min(),7:F2} {seconds[s].Max(),7:F2} {rate,11:F0} {rate / baseline,6:F1}x {peaks[s],5} {landed[s],12}");
        }
        Console.WriteLine();
        Console.WriteLine("requests: HTTP requests before retries (a: one per row; writer: one per batch of <= 100). peak: most requests in flight at once.");
        Console.WriteLine("entities/s: rows / mean seconds. rows landed: the fewest counted in the table after any round.");
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
