namespace Drp.Pipeline.Catalogs;

/// <summary>The storage type of a catalog column (the Felis datatypes this project uses).</summary>
public enum ColumnType
{
    Long,
    Int,
    Double,
    Float,
    Boolean,
    String,
}

/// <summary>One catalog column: name as the users see it (DP0.2 names), type, unit and meaning.</summary>
public sealed record ColumnDef(string Name, ColumnType Type, string? Unit, string Description, bool Nullable = false)
{
    /// <summary>The IVOA Unified Content Descriptor (e.g. <c>pos.eq.ra</c>, <c>stat.error;phot.flux</c>); QA derives ranges from it.</summary>
    public string? Ucd { get; init; }

    /// <summary>For a nullable floating-point column: the boolean column that must be true wherever this one is null or NaN.</summary>
    public string? NanFlag { get; init; }

    /// <summary>The CLR type of a value of this column (nullable value types where <see cref="Nullable"/>).</summary>
    public Type ClrType => (Type, Nullable) switch
    {
        (ColumnType.Long, false) => typeof(long),
        (ColumnType.Long, true) => typeof(long?),
        (ColumnType.Int, false) => typeof(int),
        (ColumnType.Int, true) => typeof(int?),
        (ColumnType.Double, false) => typeof(double),
        (ColumnType.Double, true) => typeof(double?),
        (ColumnType.Float, false) => typeof(float),
        (ColumnType.Float, true) => typeof(float?),
        (ColumnType.Boolean, false) => typeof(bool),
        (ColumnType.Boolean, true) => typeof(bool?),
        _ => typeof(string),
    };
}

/// <summary>
/// A catalog in column-agnostic form: its name, columns and rows (one value per column, in column order).
/// Writers (Azure Tables, Parquet) take this, so a table's columns are declared in exactly one place.
/// </summary>
public sealed class CatalogTable
{
    public CatalogTable(string name, IReadOnlyList<ColumnDef> columns)
    {
        Name = name;
        Columns = columns;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in columns)
        {
            if (!seen.Add(c.Name))
            {
                throw new ArgumentException($"table {name} declares column {c.Name} twice", nameof(columns));
            }
        }
    }

    public string Name { get; }

    public IReadOnlyList<ColumnDef> Columns { get; }

    public List<object?[]> Rows { get; } = [];

    public int IndexOf(string column)
    {
        for (int i = 0; i < Columns.Count; i++)
        {
            if (Columns[i].Name == column)
            {
                return i;
            }
        }
        throw new KeyNotFoundException($"table {Name} has no column {column}");
    }

    /// <summary>Adds a row after checking its arity and every value's type against the column declaration.</summary>
    public void Add(params object?[] values)
    {
        if (values.Length != Columns.Count)
        {
            throw new ArgumentException($"table {Name}: row has {values.Length} values, {Columns.Count} columns declared");
        }
        for (int i = 0; i < values.Length; i++)
        {
            var col = Columns[i];
            var v = values[i];
            if (v is null)
            {
                if (!col.Nullable && col.Type != ColumnType.String)
                {
                    throw new ArgumentException($"table {Name}: column {col.Name} is not nullable");
                }
                continue;
            }
            var expected = System.Nullable.GetUnderlyingType(col.ClrType) ?? col.ClrType;
            if (v.GetType() != expected)
            {
                throw new ArgumentException($"table {Name}: column {col.Name} expects {expected.Name}, got {v.GetType().Name}");
            }
        }
        Rows.Add(values);
    }
}
