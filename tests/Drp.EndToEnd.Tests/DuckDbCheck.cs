using System.Globalization;
using DuckDB.NET.Data;
using Drp.Pipeline.Catalogs;

namespace Drp.EndToEnd.Tests;

/// <summary>Loads Parquet files into an in-memory DuckDB (DuckDB.NET, the native library in the package) as an ingest would.</summary>
internal static class DuckDbCheck
{
    /// <summary>Rows loaded and each column's DuckDB type, after <c>CREATE TABLE ... AS SELECT * FROM read_parquet([...])</c>.</summary>
    public static (long Rows, Dictionary<string, string> Types) Load(IReadOnlyList<string> files)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        string list = string.Join(", ", files.Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'"));
        using (var create = connection.CreateCommand())
        {
            create.CommandText = $"CREATE TABLE source AS SELECT * FROM read_parquet([{list}])";
            create.ExecuteNonQuery();
        }
        long rows;
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM source";
            rows = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var describe = connection.CreateCommand())
        {
            describe.CommandText = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'source'";
            using var reader = describe.ExecuteReader();
            while (reader.Read())
            {
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }
        return (rows, types);
    }

    /// <summary>The file-level key/value metadata DuckDB reads from one Parquet file (<c>parquet_kv_metadata</c>).</summary>
    public static Dictionary<string, string> Metadata(string file)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{file.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = query.ExecuteReader();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            metadata[reader.GetString(0)] = reader.GetString(1);
        }
        return metadata;
    }

    /// <summary>The DuckDB type a declared column must load as.</summary>
    public static string ExpectedType(ColumnType type) => type switch
    {
        ColumnType.Long => "BIGINT",
        ColumnType.Int => "INTEGER",
        ColumnType.Double => "DOUBLE",
        ColumnType.Float => "FLOAT",
        ColumnType.Boolean => "BOOLEAN",
        _ => "VARCHAR",
    };
}
