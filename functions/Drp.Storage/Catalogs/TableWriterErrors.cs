namespace Drp.Storage.Catalogs;

/// <summary>
/// A catalog row that cannot be an Azure Tables entity: over the 1 MiB entity or 64 KiB property limit, too many
/// properties, a key Azure Tables refuses, or a (PartitionKey, RowKey) given twice. Bad input: nothing of the write
/// was sent, and a retry cannot help.
/// </summary>
public sealed class InvalidTableEntityException(string table, string partitionKey, string rowKey, string? column, string problem)
    : ArgumentException($"table {table}, entity (PartitionKey '{Shorten(partitionKey)}', RowKey '{Shorten(rowKey)}')"
        + (column is null ? "" : $", column {column}") + $": {problem}")
{
    public string Table { get; } = table;

    public string PartitionKey { get; } = partitionKey;

    public string RowKey { get; } = rowKey;

    /// <summary>The column at fault (for an entity over the size limit, its largest column), or null.</summary>
    public string? Column { get; } = column;

    public string Problem { get; } = problem;

    private static string Shorten(string key) => key.Length <= 80 ? key : key[..80] + "...";
}

/// <summary>
/// A batch transaction that failed after the storage pipeline's retries: names the table, partition and rows it
/// held (and, when the service said, the row it refused); the service's error is the inner exception. Only the
/// caller whose rows the batch held sees it; a batch is atomic, so none of its rows were written.
/// </summary>
public sealed class TableBatchWriteException(string table, TableBatch batch, int? failedIndex, Exception inner)
    : Exception($"table {table}, partition '{batch.PartitionKey}': batch of {batch.Entities.Count} entities (RowKey '{batch.Entities[0].RowKey}' to '{batch.Entities[^1].RowKey}') failed"
        + (failedIndex is int i && i >= 0 && i < batch.Entities.Count ? $" at RowKey '{batch.Entities[i].RowKey}'" : "")
        + $": {inner.Message}", inner)
{
    public string Table { get; } = table;

    public string PartitionKey { get; } = batch.PartitionKey;

    public int EntityCount { get; } = batch.Entities.Count;
}
