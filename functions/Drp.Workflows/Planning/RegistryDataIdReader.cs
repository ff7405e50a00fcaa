using System.Runtime.CompilerServices;
using Azure.Data.Tables;
using Drp.Core.Datasets;
using Drp.Storage.Registry;
using Drp.Core.Planning;

namespace Drp.Workflows.Planning;

/// <summary>
/// The planner's input from the Registry table: the ingested raws of an instrument, streamed page by page in
/// (visit, detector) order (the table's row-key order), projected onto the query's dimensions.
/// It answers for the dimensions the Registry records (instrument, visit, detector; band implied by the visit). It
/// takes the step's inputs to exist for every ingested raw: the ledger, not the Registry, says which upstream quanta
/// succeeded. Sky-map dimensions (tract, patch) need the visit-to-patch overlaps the Registry does not record yet.
/// </summary>
public sealed class RegistryDataIdReader(TableClient registry) : IDataIdReader
{
    private static readonly string[] s_columns = ["Visit", "Detector", "Band"];

    /// <inheritdoc />
    public async IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var unsupported = query.Dimensions.Where(d => d is not ("instrument" or "visit" or "detector" or "band")).ToList();
        if (unsupported.Count > 0 || (query.Dimensions.Contains("detector") && !query.Dimensions.Contains("visit")))
        {
            throw new NotSupportedException(
                $"the Registry cannot answer for dimensions [{string.Join(", ", query.Dimensions)}]: it records (instrument, visit, detector) of ingested raws, not sky-map overlaps");
        }
        bool visit = query.Dimensions.Contains("visit");
        bool detector = query.Dimensions.Contains("detector");
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {RegistryTable.PartitionFor(query.Instrument)}");
        DataId? last = null;
        await foreach (var e in registry.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: s_columns, cancellationToken: cancellationToken))
        {
            var id = new DataId(
                query.Instrument,
                visit ? e.GetInt64("Visit") : null,
                detector ? e.GetInt32("Detector") : null,
                Band: visit || query.Dimensions.Contains("band") ? e.GetString("Band") : null);
            // Rows come in (visit, detector) order, so a coarser projection repeats only consecutively.
            if (id != last)
            {
                last = id;
                yield return id;
            }
        }
    }
}
