using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Core.Datasets;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Catalogs;

/// <summary>A dataset's bytes as written, with their content type.</summary>
public sealed record EncodedDataset(byte[] Content, string ContentType);

/// <summary>
/// The storage class of every dataset type the tasks exchange: how its bytes become the in-memory value a task's
/// <c>Run</c> takes (FITS images, a catalog, a summary, text) and back. The quantum runner is its only caller, so a task
/// never sees bytes and a dataset type is read and written one way everywhere.
/// </summary>
public static class DatasetFormats
{
    private const string Fits = "application/fits", Parquet = "application/vnd.apache.parquet", Json = "application/json";

    /// <summary>
    /// The value of a dataset's bytes. A raw is opened for ISR to read an amplifier at a time: its reader is returned in
    /// <paramref name="owned"/>, to dispose once the task has run.
    /// </summary>
    public static async Task<object> ReadAsync(DatasetType type, byte[] bytes, List<IDisposable> owned, CancellationToken cancellationToken = default)
    {
        switch (type.Name)
        {
            case "raw":
                var reader = FitsFile.OpenImages(new MemoryStream(bytes, writable: false));
                owned.Add(reader);
                return RawFrame.FromReader(reader);
            case "bias" or "flat" or "calexp":
                using (var ms = new MemoryStream(bytes, writable: false))
                {
                    return FitsFile.Read(ms);
                }
            case "defects":
                return DefectMap.Read(new MemoryStream(bytes, writable: false));
            case "ref_cat":
                return System.Text.Encoding.UTF8.GetString(bytes);
            case "ccd_visit_summary":
                return JsonSerializer.Deserialize(bytes, DatasetJson.Default.CcdVisitSummary) ?? throw new InvalidDataException($"{type.Name}: empty summary");
            default:
                var (table, columns) = CatalogOf(type);
                using (var ms = new MemoryStream(bytes, writable: false))
                {
                    return await ParquetCatalogWriter.ReadAsync(ms, table, columns, cancellationToken);
                }
        }
    }

    /// <summary>The bytes of a task's output; <paramref name="run"/> goes into a Parquet file's metadata.</summary>
    public static async Task<EncodedDataset> WriteAsync(DatasetType type, object value, string run, CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        switch (value)
        {
            case IReadOnlyList<FitsImage> hdus:
                FitsFile.Write(ms, hdus);
                return new(ms.ToArray(), Fits);
            case CcdVisitSummary summary:
                return new(JsonSerializer.SerializeToUtf8Bytes(summary, DatasetJson.Default.CcdVisitSummary), Json);
            case CatalogTable table:
                var (name, _) = CatalogOf(type);
                if (table.Name != name)
                {
                    throw new InvalidOperationException($"{type.Name} holds {name} rows, not {table.Name}");
                }
                await ParquetCatalogWriter.WriteAsync(ms, table, new Dictionary<string, string> { ["drp.run"] = run }, cancellationToken);
                return new(ms.ToArray(), Parquet);
            default:
                throw new NotSupportedException($"no storage class writes a {value.GetType().Name} as {type.Name}");
        }
    }

    /// <summary>The catalog table a Parquet dataset type holds.</summary>
    public static (string Table, IReadOnlyList<ColumnDef> Columns) CatalogOf(DatasetType type) => type.Name switch
    {
        "source_table" or "source_table_visit" => (SourceSchema.TableName, SourceSchema.Columns),
        "visit_summary" or "ccd_visit_table" => (CcdVisitSchema.TableName, CcdVisitSchema.Columns),
        "visit_table" => (VisitSchema.TableName, VisitSchema.Columns),
        _ => throw new NotSupportedException($"dataset type {type.Name} has no storage class yet"),
    };
}

/// <summary>JSON datasets as the pipeline writes them (source-generated; indented, as the summaries always were).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CcdVisitSummary))]
internal sealed partial class DatasetJson : JsonSerializerContext;
