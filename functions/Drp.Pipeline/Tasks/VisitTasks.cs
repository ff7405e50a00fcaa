using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Drp.Core.Datasets;
using Drp.Core.Tasks;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tasks;

/// <summary>A task with no settings: its config is <see cref="NoConfig"/>, and its YAML entry has no <c>config:</c> block.</summary>
public abstract class UnconfiguredTask : PipelineTask<NoConfig>
{
    public sealed override JsonTypeInfo<NoConfig> Config => TaskConfigJson.Default.NoConfig;
}

/// <summary>Step 2's consolidateSourceTable: a visit's per-detector Source tables as one (DP0.2 sourceTable_visit), by detector.</summary>
public sealed class ConsolidateSourceTableTask : UnconfiguredTask
{
    public override string Name => "consolidateSourceTable";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("inputCatalogs", DatasetType.SourceTable)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("outputCatalog", DatasetType.SourceTableVisit)];

    public override TaskResult Run(DataId dataId, TaskInputs inputs, NoConfig config)
    {
        var parts = inputs.All("inputCatalogs");
        if (parts.Count == 0)
        {
            return new TaskResult.Unprocessable($"visit {dataId.Visit}: no detector has a Source table");
        }
        var table = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        foreach (var part in parts.OrderBy(p => p.DataId.Detector))
        {
            table.Rows.AddRange(((CatalogTable)part.Value).Rows);
        }
        return Produced(("outputCatalog", dataId, table));
    }
}

/// <summary>Step 2's consolidateVisitSummary: the CcdVisit rows of a visit's detectors as one table (DP0.2 visitSummary).</summary>
public sealed class ConsolidateVisitSummaryTask : UnconfiguredTask
{
    public override string Name => "consolidateVisitSummary";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("summaries", DatasetType.CcdVisitSummary)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("visitSummary", DatasetType.VisitSummary)];

    public override TaskResult Run(DataId dataId, TaskInputs inputs, NoConfig config)
    {
        var summaries = inputs.All("summaries").Select(s => (CcdVisitSummary)s.Value).OrderBy(s => s.Detector).ToList();
        return summaries.Count == 0
            ? new TaskResult.Unprocessable($"visit {dataId.Visit}: no detector has a CcdVisit summary")
            : Produced(("visitSummary", dataId, CcdVisitSchema.ToTable(summaries)));
    }
}

/// <summary>Step 7's makeCcdVisitTable: every visit summary's rows, by ccdVisitId (DP0.2 ccdVisitTable).</summary>
public sealed class MakeCcdVisitTableTask : UnconfiguredTask
{
    public override string Name => "makeCcdVisitTable";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("visitSummaries", DatasetType.VisitSummary)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("table", DatasetType.CcdVisitTable)];

    public override TaskResult Run(DataId dataId, TaskInputs inputs, NoConfig config)
    {
        var table = new CatalogTable(CcdVisitSchema.TableName, CcdVisitSchema.Columns);
        int id = table.IndexOf("ccdVisitId");
        table.Rows.AddRange(inputs.All("visitSummaries").SelectMany(s => ((CatalogTable)s.Value).Rows).OrderBy(r => (long)r[id]!));
        return table.Rows.Count == 0
            ? new TaskResult.Unprocessable($"{dataId.Instrument}: no visit has a summary")
            : Produced(("table", dataId, table));
    }
}

/// <summary>
/// Step 7's makeVisitTable: one row per visit from its detectors' CcdVisit rows (DP0.2 visitTable): exposure time and
/// midpoint, airmass, the centre as the mean direction of the detectors' corners, and how many detectors were processed.
/// </summary>
public sealed class MakeVisitTableTask : UnconfiguredTask
{
    public override string Name => "makeVisitTable";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("visitSummaries", DatasetType.VisitSummary)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("table", DatasetType.VisitTable)];

    public override TaskResult Run(DataId dataId, TaskInputs inputs, NoConfig config)
    {
        var visits = inputs.All("visitSummaries").OrderBy(s => s.DataId.Visit).Select(s => VisitOf(s.DataId.Visit!.Value, (CatalogTable)s.Value)).ToList();
        return visits.Count == 0
            ? new TaskResult.Unprocessable($"{dataId.Instrument}: no visit has a summary")
            : Produced(("table", dataId, VisitSchema.ToTable(visits)));
    }

    /// <summary>A visit's row from its CcdVisit rows.</summary>
    public static VisitRecord VisitOf(long visit, CatalogTable ccdVisits)
    {
        double Get(object?[] row, string column) => (double)row[ccdVisits.IndexOf(column)]!;
        var rows = ccdVisits.Rows;
        double x = 0, y = 0, z = 0;
        foreach (var row in rows)
        {
            foreach (var corner in new[] { "ll", "ul", "ur", "lr" })
            {
                double ra = Get(row, corner + "cra") * Math.PI / 180, dec = Get(row, corner + "cdec") * Math.PI / 180;
                x += Math.Cos(dec) * Math.Cos(ra);
                y += Math.Cos(dec) * Math.Sin(ra);
                z += Math.Sin(dec);
            }
        }
        double centreRa = (Math.Atan2(y, x) * 180 / Math.PI + 360) % 360;
        double centreDec = Math.Atan2(z, Math.Sqrt(x * x + y * y)) * 180 / Math.PI;
        var first = rows[0];
        var airmass = rows.Select(r => (double?)r[ccdVisits.IndexOf("airmass")]).Where(a => a is not null).ToList();
        return new VisitRecord(visit, (string)first[ccdVisits.IndexOf("band")]!, Get(first, "expTime"), Get(first, "expMidptMJD"),
            airmass.Count > 0 ? airmass.Average() : null, centreRa, centreDec, rows.Count);
    }
}

/// <summary>A row of the Visit table.</summary>
public sealed record VisitRecord(
    [property: JsonPropertyName("visit")] long Visit,
    [property: JsonPropertyName("band")] string Band,
    [property: JsonPropertyName("expTime")] double ExpTime,
    [property: JsonPropertyName("expMidptMJD")] double ExpMidptMjd,
    [property: JsonPropertyName("airmass")] double? Airmass,
    [property: JsonPropertyName("ra")] double Ra,
    [property: JsonPropertyName("decl")] double Decl,
    [property: JsonPropertyName("nDetectors")] int DetectorCount);
