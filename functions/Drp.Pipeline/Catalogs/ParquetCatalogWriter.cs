using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Parquet;
using Parquet.Schema;

namespace Drp.Pipeline.Catalogs;

/// <summary>
/// Writes a catalog as Parquet for downstream database ingest: one typed column per declared column, with the unit
/// and description in each column's metadata and the whole column list as JSON in the file metadata.
/// </summary>
public static class ParquetCatalogWriter
{
    public const string SchemaMetadataKey = "drp.schema";

    public static async Task WriteAsync(Stream stream, CatalogTable catalog, IReadOnlyDictionary<string, string>? fileMetadata = null, CancellationToken cancellationToken = default)
    {
        var fields = catalog.Columns.Select(ToField).ToArray();
        var schema = new ParquetSchema(fields);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: cancellationToken);
        var meta = new Dictionary<string, string>
        {
            ["drp.table"] = catalog.Name,
            [SchemaMetadataKey] = SchemaJson(catalog.Columns),
        };
        if (fileMetadata is not null)
        {
            foreach (var (k, v) in fileMetadata)
            {
                meta[k] = v;
            }
        }
        writer.CustomMetadata = meta;
        using var rg = writer.CreateRowGroup();
        for (int i = 0; i < fields.Length; i++)
        {
            var col = catalog.Columns[i];
            var colMeta = new Dictionary<string, string> { ["description"] = col.Description };
            if (col.Unit is not null)
            {
                colMeta["unit"] = col.Unit;
            }
            await WriteColumnAsync(rg, fields[i], col, catalog.Rows, i, colMeta, cancellationToken);
        }
    }

    private static Field ToField(ColumnDef c) => (c.Type, c.Nullable) switch
    {
        (ColumnType.Long, false) => new DataField<long>(c.Name),
        (ColumnType.Long, true) => new DataField<long?>(c.Name),
        (ColumnType.Int, false) => new DataField<int>(c.Name),
        (ColumnType.Int, true) => new DataField<int?>(c.Name),
        (ColumnType.Double, false) => new DataField<double>(c.Name),
        (ColumnType.Double, true) => new DataField<double?>(c.Name),
        (ColumnType.Float, false) => new DataField<float>(c.Name),
        (ColumnType.Float, true) => new DataField<float?>(c.Name),
        (ColumnType.Boolean, false) => new DataField<bool>(c.Name),
        (ColumnType.Boolean, true) => new DataField<bool?>(c.Name),
        _ => new DataField<string>(c.Name),
    };

    private static Task WriteColumnAsync(ParquetRowGroupWriter rg, Field field, ColumnDef col, List<object?[]> rows, int i, Dictionary<string, string> meta, CancellationToken ct)
    {
        var f = (DataField)field;
        return (col.Type, col.Nullable) switch
        {
            (ColumnType.Long, false) => rg.WriteAsync<long>(f, rows.Select(r => (long)r[i]!).ToArray(), null, meta, ct),
            (ColumnType.Long, true) => rg.WriteAsync<long>(f, rows.Select(r => (long?)r[i]).ToArray(), null, meta, ct),
            (ColumnType.Int, false) => rg.WriteAsync<int>(f, rows.Select(r => (int)r[i]!).ToArray(), null, meta, ct),
            (ColumnType.Int, true) => rg.WriteAsync<int>(f, rows.Select(r => (int?)r[i]).ToArray(), null, meta, ct),
            (ColumnType.Double, false) => rg.WriteAsync<double>(f, rows.Select(r => (double)r[i]!).ToArray(), null, meta, ct),
            (ColumnType.Double, true) => rg.WriteAsync<double>(f, rows.Select(r => (double?)r[i]).ToArray(), null, meta, ct),
            (ColumnType.Float, false) => rg.WriteAsync<float>(f, rows.Select(r => (float)r[i]!).ToArray(), null, meta, ct),
            (ColumnType.Float, true) => rg.WriteAsync<float>(f, rows.Select(r => (float?)r[i]).ToArray(), null, meta, ct),
            (ColumnType.Boolean, false) => rg.WriteAsync<bool>(f, rows.Select(r => (bool)r[i]!).ToArray(), null, meta, ct),
            (ColumnType.Boolean, true) => rg.WriteAsync<bool>(f, rows.Select(r => (bool?)r[i]).ToArray(), null, meta, ct),
            _ => WriteStringsAsync(rg, f, rows, i),
        };
    }

    private static Task WriteStringsAsync(ParquetRowGroupWriter rg, DataField f, List<object?[]> rows, int i) =>
        rg.WriteAsync(f, rows.Select(r => (string?)r[i]!).ToArray());

    /// <summary>Reads a Parquet catalog back into rows of the declared columns (for merging and tests).</summary>
    public static async Task<CatalogTable> ReadAsync(Stream stream, string name, IReadOnlyList<ColumnDef> columns, CancellationToken cancellationToken = default)
    {
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        var table = new CatalogTable(name, columns);
        var fields = reader.Schema.DataFields;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            var data = new Array[columns.Count];
            for (int c = 0; c < columns.Count; c++)
            {
                var field = fields.FirstOrDefault(f => f.Name == columns[c].Name)
                    ?? throw new InvalidDataException($"parquet file lacks column {columns[c].Name}");
                data[c] = await ReadColumnAsync(rg, field, columns[c], n, cancellationToken);
            }
            for (int r = 0; r < n; r++)
            {
                var row = new object?[columns.Count];
                for (int c = 0; c < columns.Count; c++)
                {
                    row[c] = data[c].GetValue(r);
                }
                table.Add(row);
            }
        }
        return table;
    }

    private static async Task<Array> ReadColumnAsync(ParquetRowGroupReader rg, DataField f, ColumnDef col, int n, CancellationToken ct)
    {
        switch (col.Type, col.Nullable)
        {
            case (ColumnType.Long, false): { var a = new long[n]; await rg.ReadAsync<long>(f, a, null, ct); return a; }
            case (ColumnType.Long, true): { var a = new long?[n]; await rg.ReadAsync<long>(f, a, null, ct); return a; }
            case (ColumnType.Int, false): { var a = new int[n]; await rg.ReadAsync<int>(f, a, null, ct); return a; }
            case (ColumnType.Int, true): { var a = new int?[n]; await rg.ReadAsync<int>(f, a, null, ct); return a; }
            case (ColumnType.Double, false): { var a = new double[n]; await rg.ReadAsync<double>(f, a, null, ct); return a; }
            case (ColumnType.Double, true): { var a = new double?[n]; await rg.ReadAsync<double>(f, a, null, ct); return a; }
            case (ColumnType.Float, false): { var a = new float[n]; await rg.ReadAsync<float>(f, a, null, ct); return a; }
            case (ColumnType.Float, true): { var a = new float?[n]; await rg.ReadAsync<float>(f, a, null, ct); return a; }
            case (ColumnType.Boolean, false): { var a = new bool[n]; await rg.ReadAsync<bool>(f, a, null, ct); return a; }
            case (ColumnType.Boolean, true): { var a = new bool?[n]; await rg.ReadAsync<bool>(f, a, null, ct); return a; }
            default: { var a = new string?[n]; await rg.ReadAsync(f, a.AsMemory(), null, ct); return a; }
        }
    }

    /// <summary>
    /// The column list as JSON, [{"Name", "Type", "Unit", "Description", "Nullable"}, ...], written field by field (the
    /// same text the serializer gives, with no reflection, so a native-AOT build writes it too).
    /// </summary>
    internal static string SchemaJson(IEnumerable<ColumnDef> columns)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var c in columns)
            {
                json.WriteStartObject();
                json.WriteString("Name", c.Name);
                json.WriteString("Type", c.Type.ToString());
                json.WriteString("Unit", c.Unit);
                json.WriteString("Description", c.Description);
                json.WriteBoolean("Nullable", c.Nullable);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
