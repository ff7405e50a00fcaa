using Drp.Pipeline.Catalogs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>Where the visit's Source table was written and how many rows it holds.</summary>
public sealed record ConsolidateVisitResult(string Path, long Rows);

/// <summary>
/// Joins the per-detector Source tables of a visit into the visit's table (DP0.2's consolidateSourceTable,
/// <c>sourceTable_visit</c>): the Parquet file downstream database ingest reads. Idempotent: rewrites the same file.
/// </summary>
public sealed class ConsolidateVisitSourcesActivity(StorageClients storage, ILogger<ConsolidateVisitSourcesActivity> logger)
    : TaskActivity<ConsolidateVisitInput, ConsolidateVisitResult>
{
    public override Task<ConsolidateVisitResult> RunAsync(TaskActivityContext context, ConsolidateVisitInput input) => ExecuteAsync(input);

    public async Task<ConsolidateVisitResult> ExecuteAsync(ConsolidateVisitInput input, CancellationToken cancellationToken = default)
    {
        var store = storage.Data;
        var visitTable = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        foreach (int detector in input.Detectors)
        {
            var bytes = await store.ReadAsync(DatasetType.SourceTable, new DataId(input.Instrument, input.Visit, detector), input.Run, cancellationToken);
            using var ms = new MemoryStream(bytes);
            var part = await ParquetCatalogWriter.ReadAsync(ms, SourceSchema.TableName, SourceSchema.Columns, cancellationToken);
            visitTable.Rows.AddRange(part.Rows);
        }
        using var output = new MemoryStream();
        await ParquetCatalogWriter.WriteAsync(output, visitTable, new Dictionary<string, string>
        {
            ["drp.run"] = input.Run,
            ["drp.visit"] = input.Visit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, cancellationToken);
        var outPath = await store.WriteAsync(DatasetType.SourceTableVisit, new DataId(input.Instrument, input.Visit), input.Run, output.ToArray(),
            producer: $"{input.Run}/consolidate/visit={input.Visit}", "application/vnd.apache.parquet", cancellationToken);
        logger.LogInformation("Consolidated {Rows} Source rows of visit {Visit} from {Detectors} detectors into {Path}",
            visitTable.Rows.Count, input.Visit, input.Detectors.Count, outPath);
        return new ConsolidateVisitResult(outPath, visitTable.Rows.Count);
    }
}
