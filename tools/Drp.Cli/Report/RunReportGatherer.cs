using Drp.Core.Planning;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Activities;

namespace Drp.Cli.Report;

/// <summary>A report could not be made (the run has nothing in storage, the truth file is unreadable); the message says which.</summary>
public sealed class ReportException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Collects a run's outputs from storage for <see cref="RunReportBuilder"/>: the ledger's quanta; for each succeeded
/// step-1 quantum its <c>source_table</c> Parquet and <c>ccd_visit_summary</c> JSON (at their
/// <see cref="DatasetPaths"/>); for each failed or unprocessable one the ledger's error and the sky position of the
/// detector's centre, from its raw's primary header (Registry row, then a header-only read: DETSIZE centre through
/// the TAN WCS); and the QA of the combined Source rows (every column, unique sourceId, ccdVisitId present among the
/// CcdVisit summaries).
/// </summary>
public sealed class RunReportGatherer(StorageClients storage)
{
    /// <summary>Blob reads in flight at once.</summary>
    public int Parallelism { get; init; } = 8;

    public async Task<RunReportInput> GatherAsync(string run, string instrument, CancellationToken cancellationToken = default)
    {
        DatasetPaths.ValidateCollection(run);
        List<QuantumRecord> ledger;
        try
        {
            ledger = await new QuantumLedger(storage.Ledger).ListAsync(run, cancellationToken);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            throw new ReportException($"no ledger table {storage.Options.LedgerTable} in this storage account: no run has been processed here", e);
        }
        if (ledger.Count == 0)
        {
            throw new ReportException($"run {run} has no quanta in the ledger ({storage.Options.LedgerTable}): nothing to report. Is the run name right (drp status --run {run})?");
        }

        var notes = new ConcurrentBag<string>();
        var parts = new ConcurrentDictionary<(long Visit, int Detector), (CatalogTable? Sources, CcdVisitSummary? Summary)>();
        var failures = new ConcurrentBag<ReportFailure>();
        var registry = new RegistryTable(storage.Registry);
        await Parallel.ForEachAsync(ledger, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (q, ct) =>
        {
            // Step 1's quanta are per (visit, detector); the report's maps and tables are drawn from them.
            bool parsed = PlannedQuantum.TryParseKey(q.QuantumKey, out var quantum) && quantum.DataId is { Visit: not null, Detector: not null };
            long visit = parsed ? quantum!.DataId.Visit!.Value : 0;
            int detector = parsed ? quantum!.DataId.Detector!.Value : 0;
            switch (q.State)
            {
                case QuantumState.Succeeded when parsed:
                    var id = new DataId(instrument, visit, detector);
                    var sources = await ReadOrNoteAsync(DatasetType.SourceTable, id, run, notes, async bytes =>
                    {
                        using var ms = new MemoryStream(bytes);
                        return await ParquetCatalogWriter.ReadAsync(ms, SourceSchema.TableName, SourceSchema.Columns, ct);
                    }, ct);
                    var summary = await ReadOrNoteAsync(DatasetType.CcdVisitSummary, id, run, notes,
                        bytes => Task.FromResult(JsonSerializer.Deserialize(bytes, RunReportJson.Default.CcdVisitSummary)), ct);
                    parts[(visit, detector)] = (sources, summary);
                    break;
                case QuantumState.Failed or QuantumState.Unprocessable:
                    (double Ra, double Dec)? centre = parsed ? await DetectorCentreAsync(registry, instrument, visit, detector, notes, ct) : null;
                    failures.Add(new ReportFailure(q.QuantumKey, q.State.ToString(), q.ErrorClass, q.Message,
                        parsed ? visit : null, parsed ? detector : null, centre?.Ra, centre?.Dec));
                    break;
            }
        });

        var table = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        var summaries = new List<CcdVisitSummary>();
        foreach (var (_, (sources, summary)) in parts.OrderBy(p => p.Key.Visit).ThenBy(p => p.Key.Detector))
        {
            if (sources is not null)
            {
                table.Rows.AddRange(sources.Rows);
            }
            if (summary is not null)
            {
                summaries.Add(summary);
            }
        }
        // The checks of the schema (the same the step's gate runs), on what the report shows.
        var parents = new Dictionary<string, IReadOnlySet<object>>
        {
            [$"{CcdVisitSchema.TableName}.ccdVisitId"] = summaries.Select(s => (object)s.CcdVisitId).ToHashSet(),
        };
        var sourceQa = CatalogQa.Check(table, SourceSchema.Table, parents);
        var ccdQa = CatalogQa.Check(CcdVisitSchema.ToTable(summaries), CcdVisitSchema.Table);
        // The gate's stored results add the coverage maps: empty cells where a detector was processed.
        var qaPath = DatasetPaths.For(DatasetType.CatalogQaOf("step1"), new DataId(instrument), run);
        if (await storage.Data.ExistsAsync(qaPath, cancellationToken))
        {
            var doc = JsonSerializer.Deserialize(await storage.Data.ReadAllAsync(qaPath, cancellationToken), RunReportJson.Default.StepQaDocument);
            foreach (var w in doc?.Warnings ?? [])
            {
                notes.Add($"coverage: {w}");
            }
        }
        return new RunReportInput
        {
            Run = run,
            Sources = table,
            CcdVisits = summaries,
            Qa = [sourceQa, ccdQa],
            Failures = failures.OrderBy(f => f.Visit).ThenBy(f => f.Detector).ThenBy(f => f.QuantumKey, StringComparer.Ordinal).ToList(),
            QuantaTotal = ledger.Count,
            Notes = notes.Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>
    /// The simulator's <c>truth.csv</c> (<c>ra, dec, {band}_flux</c> in nJy) per band, read with the reference-catalog
    /// reader. A band the file lacks is a note, not an error; a missing or unreadable file is a <see cref="ReportException"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<ReferenceObject>> LoadTruth(string path, IEnumerable<string> bands, ICollection<string> notes)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReportException($"cannot read the truth catalog {path}: {e.Message}", e);
        }
        var truth = new Dictionary<string, IReadOnlyList<ReferenceObject>>(StringComparer.Ordinal);
        foreach (var band in bands.Distinct().Order(StringComparer.Ordinal))
        {
            try
            {
                truth[band] = ReferenceCatalog.ParseCsv(text, band);
            }
            catch (ReferenceCatalogException e)
            {
                notes.Add($"truth {path}, band {band}: {e.Message}");
            }
        }
        return truth;
    }

    private async Task<T?> ReadOrNoteAsync<T>(DatasetType type, DataId id, string run, ConcurrentBag<string> notes, Func<byte[], Task<T?>> parse, CancellationToken ct)
        where T : class
    {
        try
        {
            return await parse(await storage.Data.ReadAsync(type, id, run, ct));
        }
        catch (DatasetNotFoundException e)
        {
            notes.Add($"visit {id.Visit} detector {id.Detector} succeeded, but its {type.Name} is missing ({e.FileName})");
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidDataException)
        {
            notes.Add($"visit {id.Visit} detector {id.Detector}: {type.Name} is unreadable: {e.Message}");
        }
        return null;
    }

    /// <summary>The sky position of the detector's centre from its raw's primary header; null (with a note) when unknown.</summary>
    private async Task<(double Ra, double Dec)?> DetectorCentreAsync(RegistryTable registry, string instrument, long visit, int detector, ConcurrentBag<string> notes, CancellationToken ct)
    {
        var raw = await registry.GetAsync(instrument, visit, detector, ct);
        if (raw is null)
        {
            notes.Add($"visit {visit} detector {detector} failed and has no {instrument} Registry row: its position is unknown");
            return null;
        }
        try
        {
            var header = await IngestRawActivity.ReadPrimaryHeaderAsync(storage.StoreFor(raw.Container), raw.BlobName, ct);
            var wcs = TanWcs.FromHeader(header);
            if (header.GetString("DETSIZE") is { } detSize && PixelSection.TryParse(detSize, out var ds))
            {
                return wcs.PixelToSky(0.5 * (ds.Width - 1), 0.5 * (ds.Height - 1));
            }
            // No DETSIZE: the WCS reference point (the simulator puts it at the centre).
            return (wcs.CrVal1, wcs.CrVal2);
        }
        catch (Exception e) when (e is FitsFormatException or DatasetNotFoundException)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"visit {visit} detector {detector}: no position from {raw.BlobName}: {e.Message}"));
            return null;
        }
    }
}

/// <summary>The JSON the report reads, generated at compile time (no reflection: a native build of drp reads it too).</summary>
[JsonSerializable(typeof(CcdVisitSummary))]
[JsonSerializable(typeof(StepQaDocument))]
internal sealed partial class RunReportJson : JsonSerializerContext;
