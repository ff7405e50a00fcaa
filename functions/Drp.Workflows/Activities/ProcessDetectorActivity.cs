using System.Diagnostics;
using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Core.Provenance;
using Drp.Storage.Registry;
using Drp.Core.Planning;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>
/// One step-1 quantum (visit, detector): reads the raw and its calibrations, runs <see cref="ProcessFrameTask"/>,
/// writes calexp, Source table (Parquet and the serving Azure Table) and CcdVisit summary to deterministic paths, and
/// records the outcome in the ledger. A quantum the ledger has as succeeded in this run is skipped; an unprocessable
/// input (e.g. no reference objects) is an outcome, not an exception; any other failure is recorded and rethrown so
/// the orchestration's retry policy applies. Each attempt runs in a <see cref="QuantumScope"/>: its ledger row records
/// the software version, the step's config hash and the usage (CPU, wall, peak memory, GETs, bytes read), and its outputs
/// carry the version and config hash in their blob metadata.
/// </summary>
public sealed class ProcessDetectorActivity(StorageClients storage, TableCatalogWriter tableWriter, ILogger<ProcessDetectorActivity> logger)
    : TaskActivity<DetectorQuantum, QuantumResult>
{
    private static readonly Lazy<QuantumProvenance> s_provenance = new(() => PipelineDefinitionLoader.LoadDefault().Step("step1").UnitProvenance());

    /// <summary>The step-1 unit's provenance: tasks isr..writeSourceTable and their config hash, from the pipeline.</summary>
    public static QuantumProvenance Provenance => s_provenance.Value;

    public override Task<QuantumResult> RunAsync(TaskActivityContext context, DetectorQuantum input) => ExecuteAsync(input);

    public async Task<QuantumResult> ExecuteAsync(DetectorQuantum q, CancellationToken cancellationToken = default)
    {
        var ledger = new QuantumLedger(storage.Ledger);
        var previous = await ledger.GetAsync(q.Run, q.Key, cancellationToken);
        if (previous is { State: QuantumState.Succeeded or QuantumState.Unprocessable })
        {
            logger.LogInformation("Quantum {Quantum} of run {Run} already {State}: skipped", q.Key, q.Run, previous.State);
            return new QuantumResult(q.Visit, q.Detector, previous.State, previous.Attempts, previous.OutputRows, previous.ErrorClass, previous.Message, Skipped: true, previous.ElapsedMs,
                previous.SoftwareVersion);
        }
        int attempt = await ledger.StartAttemptAsync(q.Run, q.Key, cancellationToken);
        string version = SoftwareVersion.Current.Label;
        using var scope = QuantumScope.Begin(Provenance);
        var clock = Stopwatch.StartNew();
        try
        {
            var (state, rows, reason, outputs) = await RunQuantumAsync(q, cancellationToken);
            var record = new QuantumRecord(q.Run, q.Key, state, attempt, state == QuantumState.Unprocessable ? "Unprocessable" : null, reason,
                clock.Elapsed.TotalMilliseconds, rows, outputs, version, scope.Provenance, scope.Usage());
            await ledger.CompleteAsync(record, cancellationToken);
            logger.LogInformation("Quantum {Quantum} {State} in {ElapsedMs:F0} ms: {Rows} sources {Reason}", q.Key, state, clock.Elapsed.TotalMilliseconds, rows, reason ?? "");
            return new QuantumResult(q.Visit, q.Detector, state, attempt, rows, record.ErrorClass, reason, Skipped: false, clock.Elapsed.TotalMilliseconds, version);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await ledger.CompleteAsync(new QuantumRecord(q.Run, q.Key, QuantumState.Failed, attempt, e.GetType().FullName, e.Message,
                clock.Elapsed.TotalMilliseconds, 0, null, version, scope.Provenance, scope.Usage()), CancellationToken.None);
            logger.LogError(e, "Quantum {Quantum} failed on attempt {Attempt}", q.Key, attempt);
            throw;
        }
    }

    private async Task<(QuantumState State, long Rows, string? Reason, string? Outputs)> RunQuantumAsync(DetectorQuantum q, CancellationToken ct)
    {
        var data = storage.Data;
        var raw = await new RegistryTable(storage.Registry).GetAsync(q.Instrument, q.Visit, q.Detector, ct)
            ?? throw new DatasetNotFoundException($"registry: {q.Instrument} visit {q.Visit} detector {q.Detector}");
        var rawStore = storage.StoreFor(raw.Container);

        // The raw's amplifiers are decoded one at a time as ISR reaches them, not all at once.
        using var rawFile = FitsFile.OpenImages(new MemoryStream(await rawStore.ReadAllAsync(raw.BlobName, "raw", ct), writable: false));
        var calibId = new DataId(q.Instrument, Detector: q.Detector);
        var bias = ReadFits(await data.ReadAsync(DatasetType.Bias, calibId, q.CalibCollection, ct));
        var flat = ReadFits(await data.ReadAsync(DatasetType.Flat, calibId with { Band = q.Band }, q.CalibCollection, ct));
        var defects = await data.ExistsAsync(DatasetType.Defects, calibId, q.CalibCollection, ct)
            ? DefectMap.Read(new MemoryStream(await data.ReadAsync(DatasetType.Defects, calibId, q.CalibCollection, ct), writable: false)) : null;
        var refcatText = System.Text.Encoding.UTF8.GetString(await data.ReadAsync(DatasetType.RefCat, new DataId(q.Instrument), q.CalibCollection, ct));

        var result = ProcessFrameTask.Run(new ProcessFrameInputs(
            RawFrame.FromReader(rawFile), ProcessFrameTask.SingleImage(bias, "bias"), ProcessFrameTask.SingleImage(flat, "flat"), defects,
            ReferenceCatalog.ParseCsv(refcatText, q.Band), q.Visit, q.Detector, q.Band));
        if (result.Unprocessable is { } reason)
        {
            return (QuantumState.Unprocessable, 0, reason, null);
        }

        var id = new DataId(q.Instrument, q.Visit, q.Detector);
        // Outputs are write-once: only this quantum (a retry of it) may overwrite them.
        string producer = $"{q.Run}/{q.Key}";
        string calexpPath, sourcePath;
        using (var calexp = new MemoryStream())
        {
            FitsFile.Write(calexp, result.Calexp!);
            calexpPath = await data.WriteAsync(DatasetType.Calexp, id, q.Run, calexp.ToArray(), producer, "application/fits", ct);
        }
        using (var parquet = new MemoryStream())
        {
            await ParquetCatalogWriter.WriteAsync(parquet, result.Sources!, new Dictionary<string, string> { ["drp.run"] = q.Run }, ct);
            sourcePath = await data.WriteAsync(DatasetType.SourceTable, id, q.Run, parquet.ToArray(), producer, "application/vnd.apache.parquet", ct);
        }
        int written = await tableWriter.WriteAsync(storage.Sources, result.Sources!, CatalogTableKeys.Source, ct);
        var summaryPath = await data.WriteAsync(DatasetType.CcdVisitSummary, id, q.Run,
            JsonSerializer.SerializeToUtf8Bytes(result.Summary, new JsonSerializerOptions { WriteIndented = true }), producer, "application/json", ct);
        return (QuantumState.Succeeded, written, null, JsonSerializer.Serialize(new[] { calexpPath, sourcePath, summaryPath }));
    }

    private static IReadOnlyList<FitsImage> ReadFits(byte[] bytes)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return FitsFile.Read(ms);
    }
}
