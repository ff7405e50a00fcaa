using System.Globalization;
using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Core.Tasks;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>The catalog QA of one step of a run.</summary>
public sealed record StepQaInput(string Run, string Instrument, string Step);

/// <summary>One table's outcome: rows, checks run, failed checks.</summary>
public sealed record TableQaSummary(string Table, long Rows, int Checks, int Findings);

/// <summary>
/// What the gate needs: pass or fail, the operator's sentence (naming table, column and count when it fails), where
/// the full results are stored, and the coverage warnings (empty map cells where inputs exist).
/// </summary>
public sealed record StepQaResult(string Step, bool Passed, string Summary, string? ResultsPath, IReadOnlyList<TableQaSummary> Tables, int CoverageWarnings);

/// <summary>The stored results of a step's catalog QA (JSON, dataset <c>catalog_qa_{step}</c> in the run's collection).</summary>
public sealed record StepQaDocument(
    string Run, string Step, bool Passed, string Summary, IReadOnlyList<QaReport> Reports, IReadOnlyList<QaFinding> TableFindings,
    IReadOnlyList<DetectorCoverage> Coverage, IReadOnlyList<string> Warnings);

/// <summary>
/// The catalog QA gate of a step: every column of every user-facing table the step produced, checked from the schema
/// (<see cref="CatalogQa"/>), plus table checks across them (every Source.ccdVisitId in CcdVisit; each detector's
/// Source rows equal to its CcdVisit nSources, so a lost write is caught) and a coverage map per detector (empty cells
/// where the detector was processed are warnings, stored and shown by <c>drp report</c>). Files are checked one at a
/// time and the reports merged, so memory stays that of one detector's table. The results are stored per step; a
/// failing check fails the step's gate with a message naming the table, the column and the count.
/// Steps whose tables are not produced yet (coadd, forced photometry) pass with "no catalog tables": said, not hidden.
/// </summary>
public sealed class CatalogQaActivity(StorageClients storage, TaskRegistry tasks, ILogger<CatalogQaActivity> logger) : TaskActivity<StepQaInput, StepQaResult>
{
    /// <summary>The coverage map's cells per side on each detector.</summary>
    public const int CoverageGrid = 4;

    public override Task<StepQaResult> RunAsync(TaskActivityContext context, StepQaInput input) => ExecuteAsync(input);

    public async Task<StepQaResult> ExecuteAsync(StepQaInput input, CancellationToken ct = default)
    {
        var step = tasks.Pipeline.Step(input.Step);
        var outputs = step.Tasks.SelectMany(t => t.Outputs).Select(o => o.DatasetType.Name).ToHashSet(StringComparer.Ordinal);
        if (outputs.Contains(DatasetType.CcdVisitTable.Name) && outputs.Contains(DatasetType.VisitTable.Name))
        {
            return await VisitTablesAsync(input, ct);
        }
        if (!outputs.Contains(DatasetType.SourceTable.Name) || !outputs.Contains(DatasetType.CcdVisitSummary.Name))
        {
            return new StepQaResult(input.Step, true, $"{input.Step}: no catalog tables produced by this step", null, [], 0);
        }

        var data = storage.Data;
        var summaries = new List<CcdVisitSummary>();
        foreach (var path in await data.ListAsync(DatasetType.CcdVisitSummary, input.Run, ct))
        {
            var bytes = await data.ReadAllAsync(path, DatasetType.CcdVisitSummary.Name, ct);
            summaries.Add((CcdVisitSummary)await DatasetFormats.ReadAsync(DatasetType.CcdVisitSummary, bytes, [], ct));
        }
        var ccd = CcdVisitSchema.ToTable(summaries);
        var ccdReport = CatalogQa.Check(ccd, CcdVisitSchema.Table);
        var byCcd = summaries.ToDictionary(s => s.CcdVisitId);
        var parents = new Dictionary<string, IReadOnlySet<object>>
        {
            [$"{CcdVisitSchema.TableName}.ccdVisitId"] = summaries.Select(s => (object)s.CcdVisitId).ToHashSet(),
        };

        var parts = new List<QaReport>();
        var coverage = new List<DetectorCoverage>();
        var rowsPerCcd = new Dictionary<long, long>();
        var seenIds = new HashSet<long>();
        long duplicateIds = 0;
        foreach (var path in await data.ListAsync(DatasetType.SourceTable, input.Run, ct))
        {
            var bytes = await data.ReadAllAsync(path, DatasetType.SourceTable.Name, ct);
            CatalogTable table;
            using (var ms = new MemoryStream(bytes, writable: false))
            {
                table = await ParquetCatalogWriter.ReadAsync(ms, SourceSchema.TableName, SourceSchema.Columns, ct);
            }
            parts.Add(CatalogQa.Check(table, SourceSchema.Table, parents));
            int idCol = table.IndexOf("sourceId"), ccdCol = table.IndexOf("ccdVisitId"), raCol = table.IndexOf("coord_ra"), decCol = table.IndexOf("coord_dec");
            foreach (var row in table.Rows)
            {
                if (!seenIds.Add((long)row[idCol]!))
                {
                    duplicateIds++;
                }
            }
            foreach (var group in table.Rows.GroupBy(r => (long)r[ccdCol]!))
            {
                rowsPerCcd[group.Key] = rowsPerCcd.GetValueOrDefault(group.Key) + group.Count();
                if (byCcd.TryGetValue(group.Key, out var s))
                {
                    var corners = new DetectorCorners(s.Llcra, s.Llcdec, s.Lrcra, s.Lrcdec, s.Urcra, s.Urcdec, s.Ulcra, s.Ulcdec);
                    var positions = group.Where(r => r[raCol] is double ra && double.IsFinite(ra) && r[decCol] is double dec && double.IsFinite(dec))
                        .Select(r => ((double)r[raCol]!, (double)r[decCol]!));
                    coverage.Add(CoverageMap.ForDetector(group.Key, corners, positions, CoverageGrid));
                }
            }
        }
        var sourceReport = CatalogQa.Merge(SourceSchema.TableName, parts);

        var tableFindings = new List<QaFinding>();
        if (duplicateIds > 0)
        {
            tableFindings.Add(CatalogQa.Finding(SourceSchema.TableName, "sourceId", "unique", duplicateIds, sourceReport.Rows, "repeat a sourceId of another detector's table"));
        }
        long mismatched = 0;
        foreach (var s in summaries)
        {
            long rows = rowsPerCcd.GetValueOrDefault(s.CcdVisitId);
            if (rows != s.SourceCount)
            {
                mismatched++;
                tableFindings.Add(CatalogQa.Finding(SourceSchema.TableName, "ccdVisitId", "row-count", Math.Abs(rows - s.SourceCount), s.SourceCount,
                    string.Create(CultureInfo.InvariantCulture, $"differ for ccdVisitId {s.CcdVisitId}: {rows:N0} Source rows, CcdVisit.nSources {s.SourceCount:N0}")));
            }
            if (s.SourceCount > 0 && !rowsPerCcd.ContainsKey(s.CcdVisitId))
            {
                coverage.Add(new DetectorCoverage(s.CcdVisitId, CoverageGrid, 0, new int[CoverageGrid * CoverageGrid]));
            }
        }
        var warnings = coverage.Where(c => c.EmptyCells > 0)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"ccdVisitId {c.CcdVisitId}: {c.EmptyCells} of {c.Grid * c.Grid} coverage cells hold no source ({c.Sources:N0} sources)"))
            .ToList();

        var reports = new List<QaReport> { sourceReport, ccdReport };
        var failures = reports.SelectMany(r => r.Findings).Concat(tableFindings).ToList();
        bool passed = failures.Count == 0 && summaries.Count > 0;
        string summary = summaries.Count == 0
            ? $"{input.Step}: no CcdVisit rows in run {input.Run}: nothing to check"
            : passed
                ? string.Create(CultureInfo.InvariantCulture, $"{input.Step}: catalog QA passed: {sourceReport.Rows:N0} Source rows ({sourceReport.ChecksRun} checks per file), {ccd.Rows.Count:N0} CcdVisit rows; {warnings.Count} coverage warnings")
                : $"{input.Step}: catalog QA failed: {string.Join("; ", failures.Select(f => f.Message))}";
        return await StoreAsync(new StepQaDocument(input.Run, input.Step, passed, summary, reports, tableFindings, coverage, warnings), input, ct);
    }

    /// <summary>
    /// Step 7's tables: every column of CcdVisit and Visit from the schema, then across them: ids unique, every CcdVisit
    /// row's visit in Visit and every Visit with its CcdVisit rows, and each Visit's nDetectors equal to them.
    /// </summary>
    private async Task<StepQaResult> VisitTablesAsync(StepQaInput input, CancellationToken ct)
    {
        var id = new DataId(input.Instrument);
        async Task<CatalogTable> Read(DatasetType type) =>
            (CatalogTable)await DatasetFormats.ReadAsync(type, await storage.Data.ReadAsync(type, id, input.Run, ct), [], ct);
        var ccd = await Read(DatasetType.CcdVisitTable);
        var visits = await Read(DatasetType.VisitTable);
        int visitCol = visits.IndexOf("visit"), nCol = visits.IndexOf("nDetectors"), ccdVisitCol = ccd.IndexOf("visitId"), ccdIdCol = ccd.IndexOf("ccdVisitId");
        var visitIds = visits.Rows.Select(r => (object)(long)r[visitCol]!).ToHashSet();
        var reports = new List<QaReport>
        {
            CatalogQa.Check(ccd, CcdVisitSchema.Table, new Dictionary<string, IReadOnlySet<object>> { [$"{VisitSchema.TableName}.visit"] = visitIds }),
            CatalogQa.Check(visits, VisitSchema.Table),
        };
        var findings = new List<QaFinding>();
        long Repeats(CatalogTable t, int col) => t.Rows.Count - t.Rows.Select(r => r[col]).Distinct().Count();
        if (Repeats(ccd, ccdIdCol) is > 0 and var dupCcd)
        {
            findings.Add(CatalogQa.Finding(CcdVisitSchema.TableName, "ccdVisitId", "unique", dupCcd, ccd.Rows.Count, "repeat a ccdVisitId"));
        }
        if (Repeats(visits, visitCol) is > 0 and var dupVisit)
        {
            findings.Add(CatalogQa.Finding(VisitSchema.TableName, "visit", "unique", dupVisit, visits.Rows.Count, "repeat a visit"));
        }
        var perVisit = ccd.Rows.GroupBy(r => (long)r[ccdVisitCol]!).ToDictionary(g => g.Key, g => g.Count());
        foreach (var row in visits.Rows)
        {
            long visit = (long)row[visitCol]!;
            int rows = perVisit.GetValueOrDefault(visit);
            if (rows != (int)row[nCol]!)
            {
                findings.Add(CatalogQa.Finding(VisitSchema.TableName, "nDetectors", "row-count", Math.Abs(rows - (int)row[nCol]!), visits.Rows.Count,
                    string.Create(CultureInfo.InvariantCulture, $"differ for visit {visit}: nDetectors {row[nCol]}, {rows} CcdVisit rows")));
            }
        }
        var failures = reports.SelectMany(r => r.Findings).Concat(findings).ToList();
        bool passed = failures.Count == 0 && visits.Rows.Count > 0;
        string summary = passed
            ? string.Create(CultureInfo.InvariantCulture, $"{input.Step}: catalog QA passed: {ccd.Rows.Count:N0} CcdVisit rows, {visits.Rows.Count:N0} Visit rows ({reports[0].ChecksRun + reports[1].ChecksRun} checks)")
            : visits.Rows.Count == 0 ? $"{input.Step}: no Visit rows in run {input.Run}" : $"{input.Step}: catalog QA failed: {string.Join("; ", failures.Select(f => f.Message))}";
        return await StoreAsync(new StepQaDocument(input.Run, input.Step, passed, summary, reports, findings, [], []), input, ct);
    }

    private async Task<StepQaResult> StoreAsync(StepQaDocument doc, StepQaInput input, CancellationToken ct)
    {
        string resultsPath = await storage.Data.WriteAsync(DatasetType.CatalogQaOf(input.Step), new DataId(input.Instrument), input.Run,
            JsonSerializer.SerializeToUtf8Bytes(doc, new JsonSerializerOptions { WriteIndented = true }),
            producer: $"{input.Run}/qa/{input.Step}", "application/json", ct);
        logger.LogInformation("{Summary} (results in {Path})", doc.Summary, resultsPath);
        return new StepQaResult(input.Step, doc.Passed, doc.Summary, resultsPath,
            doc.Reports.Select(r => new TableQaSummary(r.Table, r.Rows, r.ChecksRun, r.Findings.Count)).ToList(), doc.Warnings.Count);
    }
}
