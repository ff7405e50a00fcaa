using Azure.Data.Tables;
using Drp.Pipeline.Catalogs;

namespace Drp.Storage.Catalogs;

/// <summary>One batch transaction: entities of one partition, at most <see cref="TableBatchPlanner.MaxBatchEntities"/>.</summary>
/// <param name="PartitionKey">The partition every entity is in.</param>
/// <param name="Entities">The entities, upserted (replace) together.</param>
/// <param name="EstimatedPayloadBytes">Estimated request payload (an upper bound of the JSON sent).</param>
public sealed record TableBatch(string PartitionKey, IReadOnlyList<TableEntity> Entities, long EstimatedPayloadBytes);

/// <summary>
/// Turns a catalog into Azure Tables batch transactions: one partition per batch, at most 100 entities, an estimated
/// payload under <see cref="MaxBatchPayloadBytes"/> (the service's limit is 4 MiB), partitions in the order their first
/// row appears, rows in catalog order. Every row is checked against the service's limits first (1 MiB per entity by the
/// service's size formula, 64 KiB per string, 252 properties, key characters and length, no key twice), so bad input
/// fails with <see cref="InvalidTableEntityException"/> before anything is sent.
/// </summary>
public static class TableBatchPlanner
{
    /// <summary>The service's limit on entities per batch transaction.</summary>
    public const int MaxBatchEntities = 100;

    /// <summary>Batches are cut at this estimated payload, a margin under the service's 4 MiB.</summary>
    public const long MaxBatchPayloadBytes = 3L * 1024 * 1024;

    /// <summary>The service's limit on one entity (sum of keys and properties, by its size formula).</summary>
    public const long MaxEntityBytes = 1024 * 1024;

    /// <summary>The service's limit on one string property (UTF-16).</summary>
    public const long MaxPropertyBytes = 64 * 1024;

    /// <summary>The service's limit on properties besides PartitionKey, RowKey and Timestamp.</summary>
    public const int MaxCustomProperties = 252;

    /// <summary>Plans the batches for writing <paramref name="catalog"/> to the table named <paramref name="table"/>.</summary>
    public static IReadOnlyList<TableBatch> Plan(string table, CatalogTable catalog, CatalogTableKeys keys)
    {
        if (catalog.Name != keys.Catalog)
        {
            throw new ArgumentException($"table {table}: keys for catalog {keys.Catalog} given with a {catalog.Name} catalog", nameof(keys));
        }
        int rowKeyIndex = catalog.IndexOf(keys.RowKeyColumn);
        var partitionKeyOf = keys.PartitionKeyReader(catalog);
        var partitions = new Dictionary<string, List<(TableEntity Entity, long Wire)>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var row in catalog.Rows)
        {
            string pk = partitionKeyOf(row);
            string rk = CatalogTableKeys.KeyText(row[rowKeyIndex]);
            var entity = ToEntity(table, catalog, keys, row, pk, rk, out long wire);
            if (!partitions.TryGetValue(pk, out var list))
            {
                partitions[pk] = list = [];
                order.Add(pk);
            }
            list.Add((entity, wire));
        }

        var batches = new List<TableBatch>();
        foreach (var pk in order)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var current = new List<TableEntity>(MaxBatchEntities);
            long bytes = BatchOverheadBytes;
            foreach (var (entity, wire) in partitions[pk])
            {
                if (!seen.Add(entity.RowKey))
                {
                    throw new InvalidTableEntityException(table, pk, entity.RowKey, keys.RowKeyColumn, "the catalog holds this key twice (a batch may name an entity once)");
                }
                if (current.Count == MaxBatchEntities || (current.Count > 0 && bytes + wire > MaxBatchPayloadBytes))
                {
                    batches.Add(new TableBatch(pk, current, bytes));
                    current = new List<TableEntity>(MaxBatchEntities);
                    bytes = BatchOverheadBytes;
                }
                current.Add(entity);
                bytes += wire;
            }
            batches.Add(new TableBatch(pk, current, bytes));
        }
        return batches;
    }

    /// <summary>
    /// A property's share of its entity's size by the service's formula (an entity is 4 + 2 x the key lengths + its
    /// properties): 8 + 2 x name length + the value (string 2 x length + 4, Int64 and Double 8, Int32 4, Boolean 1).
    /// </summary>
    public static long StoredPropertySize(string name, object value) =>
        8 + 2L * name.Length + value switch
        {
            string s => 2L * s.Length + 4,
            int => 4,
            bool => 1,
            _ => 8,
        };

    // Multipart boundaries and headers of the changeset around the entities.
    private const long BatchOverheadBytes = 1024;

    private static TableEntity ToEntity(string table, CatalogTable catalog, CatalogTableKeys keys, object?[] row, string pk, string rk, out long wire)
    {
        if (CatalogTableKeys.KeyProblem(pk) is { } pkProblem)
        {
            throw new InvalidTableEntityException(table, pk, rk, string.Join(CatalogTableKeys.PartitionSeparator, keys.PartitionColumns), pkProblem);
        }
        if (CatalogTableKeys.KeyProblem(rk) is { } rkProblem)
        {
            throw new InvalidTableEntityException(table, pk, rk, keys.RowKeyColumn, rkProblem);
        }
        var entity = new TableEntity(pk, rk);
        long stored = 4 + 2L * pk.Length + 2L * rk.Length;
        // Each changeset part: boundary, headers, the request line with the table and both keys (URL-escaped, so up to
        // 3 bytes a character), and the JSON body with both keys again.
        wire = 300 + table.Length + 3L * (pk.Length + rk.Length) + JsonStringBytes(pk) + JsonStringBytes(rk) + 40;
        long largest = -1;
        string? largestColumn = null;
        for (int i = 0; i < row.Length; i++)
        {
            var v = row[i];
            if (v is null)
            {
                continue; // an absent property is a null in Azure Tables
            }
            var col = catalog.Columns[i];
            object value = v is float f ? (double)f : v;
            long size = StoredPropertySize(col.Name, value);
            if (value is string s && 2L * s.Length > MaxPropertyBytes)
            {
                throw new InvalidTableEntityException(table, pk, rk, col.Name, $"string of {2L * s.Length:N0} bytes (UTF-16) is over the 64 KiB property limit");
            }
            if (size > largest)
            {
                (largest, largestColumn) = (size, col.Name);
            }
            stored += size;
            entity[col.Name] = value;
            // "name":value, plus "name@odata.type":"Edm.Int64" and a quoted value for 64-bit integers (JSON numbers are doubles).
            wire += JsonStringBytes(col.Name) + 2 + value switch
            {
                string text => JsonStringBytes(text),
                long => 22 + JsonStringBytes(col.Name) + 30,
                int => 11,
                double => 26 + JsonStringBytes(col.Name) + 30, // NaN and infinities are strings with an Edm.Double annotation
                bool => 5,
                _ => 64,
            };
        }
        if (entity.Count - 2 > MaxCustomProperties)
        {
            throw new InvalidTableEntityException(table, pk, rk, null, $"{entity.Count - 2} properties, over the limit of {MaxCustomProperties}");
        }
        if (stored > MaxEntityBytes)
        {
            throw new InvalidTableEntityException(table, pk, rk, largestColumn,
                $"entity of {stored:N0} bytes is over the 1 MiB entity limit (its largest column is named)");
        }
        return entity;
    }

    /// <summary>
    /// An upper bound of a JSON string literal's bytes: quotes, one byte per plain ASCII character, six for any other
    /// (System.Text.Json's default encoder writes control, HTML-sensitive and non-ASCII characters as \uXXXX).
    /// </summary>
    private static long JsonStringBytes(string s)
    {
        long bytes = 2;
        foreach (var c in s)
        {
            bytes += c is >= ' ' and <= '~' and not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`') ? 1 : 6;
        }
        return bytes;
    }
}
