using System.Globalization;
using System.Text;
using Drp.Pipeline.Catalogs;

namespace Drp.Storage.Catalogs;

/// <summary>
/// Which columns make the Azure Tables keys of one catalog's serving table: the partition key (one column, or several
/// joined with <see cref="PartitionSeparator"/>) and the row key, chosen for the table's access pattern. The columns are
/// declared in schema/catalogs.yaml (<c>drp:partitionKey</c>, <c>primaryKey</c>); <see cref="Source"/> and
/// <see cref="Object"/> read them from there, and the writer, the demo's checks and readers take them from here. Keys are text: numbers zero-padded (<see cref="KeyText"/>) so string order is numeric.
/// </summary>
/// <param name="Catalog">The catalog's name (<see cref="CatalogTable.Name"/>) these keys are for.</param>
/// <param name="PartitionColumns">Columns whose values, joined, make the partition key.</param>
/// <param name="RowKeyColumn">Column whose value is the row key (unique within a partition).</param>
/// <param name="AccessPattern">Why: the query the partitioning serves.</param>
public sealed record CatalogTableKeys(string Catalog, IReadOnlyList<string> PartitionColumns, string RowKeyColumn, string AccessPattern)
{
    /// <summary>Joins the values of a composite partition key.</summary>
    public const string PartitionSeparator = "-";

    /// <summary>
    /// Source: one detector-visit per partition (the unit one step-1 quantum writes, so a quantum's rows are whole
    /// batches and a retry rewrites exactly its partition); row key sourceId.
    /// </summary>
    public static CatalogTableKeys Source { get; } = FromSchema(SourceSchema.TableName,
        "all sources of one detector-visit (a quantum's output; image-level QA and cut-outs)");

    /// <summary>Object: one patch of one tract per partition (the unit coadd measurement writes, and a cone search's cell); row key objectId.</summary>
    public static CatalogTableKeys Object { get; } = FromSchema("Object",
        "all objects of one patch of a tract (a coadd quantum's output; cone searches by sky cell)");

    /// <summary>The keys schema/catalogs.yaml declares for a table: <c>drp:partitionKey</c> and the primary key as row key.</summary>
    public static CatalogTableKeys FromSchema(string table, string accessPattern)
    {
        var t = CatalogSchema.Default.Table(table);
        return new CatalogTableKeys(t.Name, t.PartitionKey, t.PrimaryKey, accessPattern);
    }

    public static CatalogTableKeys CcdVisit { get; } = FromSchema(CcdVisitSchema.TableName, "every detector of one visit (a visit's image quality and calibration)");

    public static CatalogTableKeys Visit { get; } = FromSchema(VisitSchema.TableName, "every visit in one band");

    /// <summary>Every catalog with a serving table.</summary>
    public static IReadOnlyList<CatalogTableKeys> All { get; } = [Source, Object, CcdVisit, Visit];

    /// <summary>The keys of the catalog named <paramref name="catalog"/>.</summary>
    public static CatalogTableKeys For(string catalog) =>
        All.FirstOrDefault(k => k.Catalog == catalog)
        ?? throw new KeyNotFoundException($"no serving-table keys are declared for catalog {catalog}; declared: {string.Join(", ", All.Select(k => k.Catalog))}");

    /// <summary>
    /// A function from a row of <paramref name="catalog"/> to its partition key (the columns are looked up once:
    /// a catalog without one of them throws here, naming it).
    /// </summary>
    public Func<object?[], string> PartitionKeyReader(CatalogTable catalog)
    {
        var indices = PartitionColumns.Select(catalog.IndexOf).ToArray();
        if (indices.Length == 1)
        {
            int i = indices[0];
            return row => KeyText(row[i]);
        }
        return row => string.Join(PartitionSeparator, indices.Select(i => KeyText(row[i])));
    }

    /// <summary>The partition key of the given partition-column values, in <see cref="PartitionColumns"/> order.</summary>
    public string PartitionKeyOf(params object?[] values)
    {
        if (values.Length != PartitionColumns.Count)
        {
            throw new ArgumentException($"{Catalog}: the partition key has {PartitionColumns.Count} columns ({string.Join(", ", PartitionColumns)}), {values.Length} values given");
        }
        return string.Join(PartitionSeparator, values.Select(KeyText));
    }

    /// <summary>Key text of a value: integers zero-padded (long to 20 digits, int to 10) so that string order is numeric order.</summary>
    public static string KeyText(object? value) => value switch
    {
        long l => l.ToString("D20", CultureInfo.InvariantCulture),
        int i => i.ToString("D10", CultureInfo.InvariantCulture),
        string s => s,
        null => throw new ArgumentException("a key column holds null"),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    /// <summary>
    /// Why <paramref name="key"/> cannot be a PartitionKey or RowKey (over 1 KiB as UTF-16, or holding '/', '\', '#',
    /// '?' or a control character), or null when it can.
    /// </summary>
    public static string? KeyProblem(string key)
    {
        if (key.Length * 2 > 1024)
        {
            return $"key of {key.Length} characters is over the 1 KiB key limit";
        }
        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                return $"key holds the character U+{(int)c:X4}, which Azure Tables keys may not contain";
            }
        }
        return null;
    }

    /// <inheritdoc />
    public override string ToString() =>
        new StringBuilder(Catalog).Append(": PartitionKey = ").Append(string.Join(PartitionSeparator, PartitionColumns))
            .Append(", RowKey = ").Append(RowKeyColumn).ToString();
}
