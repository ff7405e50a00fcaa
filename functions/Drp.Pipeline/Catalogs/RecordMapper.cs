using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Catalogs;

/// <summary>
/// Maps records of <typeparamref name="T"/> (catalog names in <see cref="JsonPropertyNameAttribute"/>s) to rows of a
/// schema table. On first use it checks the record against the schema: the same columns in the same order with the
/// same types, so a writer can neither produce a column the schema does not declare nor miss one it declares
/// (<see cref="Check"/> says exactly what differs).
/// </summary>
public sealed class RecordMapper<
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>
{
    private readonly PropertyInfo[] _properties;

    public RecordMapper(TableSchema table)
    {
        Table = table;
        _properties = CatalogProperties();
        var problems = Check(table, _properties);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"{typeof(T).Name} does not match schema table {table.Name}: {string.Join("; ", problems)}");
        }
    }

    public TableSchema Table { get; }

    /// <summary>One table of the given records, in the schema's column order.</summary>
    public CatalogTable ToTable(IEnumerable<T> records)
    {
        var table = Table.NewTable();
        foreach (var r in records)
        {
            var row = new object?[_properties.Length];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = _properties[i].GetValue(r);
            }
            table.Add(row);
        }
        return table;
    }

    /// <summary>The differences between <typeparamref name="T"/>'s catalog properties and <paramref name="table"/>; empty when they agree.</summary>
    public static IReadOnlyList<string> Check(TableSchema table) => Check(table, CatalogProperties());

    private static List<string> Check(TableSchema table, PropertyInfo[] properties)
    {
        var problems = new List<string>();
        var produced = properties.Select(p => CatalogColumns.NameOf(p)).ToList();
        var declared = table.Columns.Select(c => c.Name).ToList();
        var undeclared = produced.Except(declared, StringComparer.Ordinal).ToList();
        var missing = declared.Except(produced, StringComparer.Ordinal).ToList();
        if (undeclared.Count > 0)
        {
            problems.Add($"produces columns the schema does not declare: {string.Join(", ", undeclared)}");
        }
        if (missing.Count > 0)
        {
            problems.Add($"misses declared columns: {string.Join(", ", missing)}");
        }
        if (undeclared.Count == 0 && missing.Count == 0 && !produced.SequenceEqual(declared, StringComparer.Ordinal))
        {
            problems.Add("columns are in a different order than declared");
        }
        foreach (var p in properties)
        {
            string name = CatalogColumns.NameOf(p);
            if (!table.HasColumn(name))
            {
                continue;
            }
            var col = table.Column(name);
            var clr = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            var expected = Nullable.GetUnderlyingType(col.ClrType) ?? col.ClrType;
            if (clr != expected)
            {
                problems.Add($"{name} is {clr.Name} in {typeof(T).Name} but {CatalogSchema.FelisType(col.Type)} in the schema");
            }
            else if (!col.Nullable && (Nullable.GetUnderlyingType(p.PropertyType) is not null))
            {
                problems.Add($"{name} may be null in {typeof(T).Name} but is declared not nullable");
            }
        }
        return problems;
    }

    private static PropertyInfo[] CatalogProperties() => CatalogColumns.Properties<T>();
}
