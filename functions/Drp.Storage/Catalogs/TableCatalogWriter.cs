using System.Globalization;
using Azure.Data.Tables;
using Drp.Pipeline.Catalogs;

namespace Drp.Storage.Catalogs;

/// <summary>
/// Writes catalog rows into an Azure Table for serving: partition key from one column, row key from another, in
/// batch transactions (at most 100 entities, under 4 MB, one partition each) of idempotent upserts, so a retry
/// rewrites the same entities and never duplicates a row.
/// </summary>
public sealed class TableCatalogWriter(TableClient table)
{
    /// <summary>The service's limit on entities per batch transaction.</summary>
    public const int MaxBatchEntities = 100;

    /// <summary>Stay well under the 4 MiB batch payload limit (estimated from the entity sizes).</summary>
    public const int MaxBatchBytes = 3 * 1024 * 1024;

    public TableClient Table { get; } = table;

    /// <summary>Upserts every row; returns the number of entities written.</summary>
    public async Task<int> UpsertAsync(CatalogTable catalog, string partitionColumn, string rowKeyColumn, CancellationToken cancellationToken = default)
    {
        int pk = catalog.IndexOf(partitionColumn);
        int rk = catalog.IndexOf(rowKeyColumn);
        int written = 0;
        foreach (var partition in catalog.Rows.GroupBy(r => KeyText(r[pk])))
        {
            var batch = new List<TableTransactionAction>(MaxBatchEntities);
            long batchBytes = 0;
            foreach (var row in partition)
            {
                var entity = ToEntity(catalog, row, partition.Key, KeyText(row[rk]), out long size);
                if (batch.Count == MaxBatchEntities || batchBytes + size > MaxBatchBytes)
                {
                    written += await SubmitAsync(batch, cancellationToken);
                    batch.Clear();
                    batchBytes = 0;
                }
                batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
                batchBytes += size;
            }
            written += await SubmitAsync(batch, cancellationToken);
        }
        return written;
    }

    /// <summary>Keys are zero-padded so that string order is numeric order.</summary>
    public static string KeyText(object? value) => value switch
    {
        long l => l.ToString("D20", CultureInfo.InvariantCulture),
        int i => i.ToString("D10", CultureInfo.InvariantCulture),
        string s => s,
        null => throw new ArgumentException("a key column holds null"),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private async Task<int> SubmitAsync(List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }
        await Table.SubmitTransactionAsync(batch, cancellationToken);
        return batch.Count;
    }

    private static TableEntity ToEntity(CatalogTable catalog, object?[] row, string partitionKey, string rowKey, out long size)
    {
        var entity = new TableEntity(partitionKey, rowKey);
        size = 64 + partitionKey.Length * 2 + rowKey.Length * 2;
        for (int i = 0; i < row.Length; i++)
        {
            var v = row[i];
            if (v is null)
            {
                continue; // absent property = null in Azure Tables
            }
            var col = catalog.Columns[i];
            entity[col.Name] = v is float f ? (double)f : v;
            size += col.Name.Length * 2 + (v is string s ? s.Length * 2 + 4 : 8) + 16;
        }
        return entity;
    }
}
