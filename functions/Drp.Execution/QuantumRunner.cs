using System.Diagnostics;
using Azure.Data.Tables;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Core.Provenance;
using Drp.Core.Tasks;
using Drp.Pipeline.Catalogs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Drp.Execution;

/// <summary>
/// The one way a quantum runs, in a Functions activity, the local host and a container job alike: it skips a quantum
/// the ledger has as done; reads every input by its connection through the dataset store (raws through the Registry,
/// pipeline inputs from the calibration collection, the rest from the run); runs the task's pure <c>Run</c> with its
/// bound config; writes the declared outputs to their deterministic paths and catalog rows to their serving tables;
/// and records the outcome with the software version and the hash of the config that ran. A failure is recorded and
/// rethrown, so the caller's retry rules apply; an unprocessable input is an outcome, not an exception.
/// </summary>
public sealed class QuantumRunner(StorageClients storage, TableCatalogWriter tableWriter, TaskRegistry tasks, ILogger<QuantumRunner> logger)
{
    /// <summary>The registry of task classes and the pipeline they run in.</summary>
    public TaskRegistry Tasks { get; } = tasks;

    /// <summary>Runs the quantum (or skips it) and returns its outcome.</summary>
    public async Task<QuantumResult> RunAsync(QuantumRequest request, CancellationToken cancellationToken = default)
    {
        var q = request.Quantum;
        var bound = Tasks.Bind(request.Step, q.Task);
        var ledger = new QuantumLedger(storage.Ledger);
        string key = q.Key;
        var previous = await ledger.GetAsync(request.Run, key, cancellationToken);
        if (previous is { State: QuantumState.Succeeded or QuantumState.Unprocessable } && !request.Rerun)
        {
            logger.LogInformation("Quantum {Quantum} of run {Run} already {State}: skipped", key, request.Run, previous.State);
            return new QuantumResult(q.Task, q.DataId, previous.State, previous.Attempts, previous.OutputRows, previous.ErrorClass, previous.Message, Skipped: true,
                previous.ElapsedMs, previous.SoftwareVersion);
        }
        int attempt = await ledger.StartAttemptAsync(request.Run, key, cancellationToken);
        string version = SoftwareVersion.Current.Label;
        using var scope = QuantumScope.Begin(new QuantumProvenance(request.Step, bound.Unit.Name, bound.ConfigHash));
        var clock = Stopwatch.StartNew();
        try
        {
            var (state, rows, reason, outputs) = await ExecuteAsync(request, bound, cancellationToken);
            var record = new QuantumRecord(request.Run, key, state, attempt, state == QuantumState.Unprocessable ? "Unprocessable" : null, reason,
                clock.Elapsed.TotalMilliseconds, rows, outputs, version, scope.Provenance, scope.Usage());
            await ledger.CompleteAsync(record, cancellationToken);
            logger.LogInformation("Quantum {Quantum} {State} in {ElapsedMs:F0} ms: {Rows} rows {Reason}", key, state, clock.Elapsed.TotalMilliseconds, rows, reason ?? "");
            return new QuantumResult(q.Task, q.DataId, state, attempt, rows, record.ErrorClass, reason, Skipped: false, clock.Elapsed.TotalMilliseconds, version);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await ledger.CompleteAsync(new QuantumRecord(request.Run, key, QuantumState.Failed, attempt, e.GetType().FullName, e.Message,
                clock.Elapsed.TotalMilliseconds, 0, null, version, scope.Provenance, scope.Usage()), CancellationToken.None);
            logger.LogError(e, "Quantum {Quantum} failed on attempt {Attempt}", key, attempt);
            throw;
        }
    }

    private async Task<(QuantumState State, long Rows, string? Reason, string? Outputs)> ExecuteAsync(QuantumRequest request, BoundTask bound, CancellationToken ct)
    {
        var owned = new List<IDisposable>();
        try
        {
            var (inputs, missing) = await ReadInputsAsync(request, bound.Task, owned, ct);
            var result = bound.Task.Run(request.Quantum.DataId, inputs, bound.Config);
            if (result is TaskResult.Unprocessable u)
            {
                return (QuantumState.Unprocessable, 0, u.Reason, null);
            }
            var succeeded = (TaskResult.Succeeded)result;
            var (rows, paths) = await WriteOutputsAsync(request, bound.Task, succeeded, ct);
            string? note = string.Join("; ", new[] { missing, succeeded.Note }.Where(n => !string.IsNullOrEmpty(n)));
            return (QuantumState.Succeeded, rows, note.Length > 0 ? note : null, System.Text.Json.JsonSerializer.Serialize(paths));
        }
        finally
        {
            foreach (var d in owned)
            {
                d.Dispose();
            }
        }
    }

    /// <summary>
    /// Every input of the task: one dataset when its type's dimensions are within the quantum's, else every one the
    /// Registry implies under the quantum's data id (a visit's detectors, an instrument's visits). Of those, a dataset
    /// an upstream quantum did not produce is left out and named in the returned note; a missing single input fails.
    /// </summary>
    private async Task<(TaskInputs Inputs, string? Missing)> ReadInputsAsync(QuantumRequest request, IPipelineTask task, List<IDisposable> owned, CancellationToken ct)
    {
        var byConnection = new Dictionary<string, IReadOnlyList<TaskDataset>>(StringComparer.Ordinal);
        var missing = new List<string>();
        var pipelineInputs = Tasks.Pipeline.Inputs.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var c in task.Inputs)
        {
            var type = c.DatasetType;
            var id = request.Quantum.DataId;
            bool single = type.Dimensions.All(d => HasDimension(id, d));
            var ids = single ? [Exact(id, type)] : await ImpliedIdsAsync(request, type, ct);
            var list = new List<TaskDataset>(ids.Count);
            foreach (var inputId in ids)
            {
                byte[] bytes;
                if (type.Name == DatasetType.Raw.Name)
                {
                    var raw = await new RegistryTable(storage.Registry).GetAsync(inputId.Instrument, inputId.Visit!.Value, inputId.Detector!.Value, ct)
                        ?? throw new DatasetNotFoundException($"registry: {inputId}");
                    bytes = await storage.StoreFor(raw.Container).ReadAllAsync(raw.BlobName, type.Name, ct);
                }
                else
                {
                    string collection = pipelineInputs.Contains(type.Name) ? request.CalibCollection : request.Run;
                    if ((c.Optional || !single) && !await storage.Data.ExistsAsync(type, inputId, collection, ct))
                    {
                        if (!single)
                        {
                            missing.Add($"{type.Name} {inputId}");
                        }
                        continue;
                    }
                    bytes = await storage.Data.ReadAsync(type, inputId, collection, ct);
                }
                list.Add(new TaskDataset(inputId, await DatasetFormats.ReadAsync(type, bytes, owned, ct)));
            }
            byConnection[c.Name] = list;
        }
        string? note = missing.Count == 0 ? null
            : $"{missing.Count} input(s) not produced upstream and left out: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}";
        return (new TaskInputs(byConnection), note);
    }

    /// <summary>The data ids of <paramref name="type"/> under the quantum's data id, from the Registry's raws.</summary>
    private async Task<IReadOnlyList<DataId>> ImpliedIdsAsync(QuantumRequest request, DatasetType type, CancellationToken ct)
    {
        var id = request.Quantum.DataId;
        if (type.Dimensions.Any(d => d is not ("instrument" or "visit" or "detector")))
        {
            throw new NotSupportedException($"the Registry cannot list the {type.Name} datasets of {id}: it records (instrument, visit, detector) of raws only");
        }
        string filter = RegistryTable.FilterFor(id.Instrument, id.Visit);
        bool detectors = type.Dimensions.Contains("detector");
        var ids = new SortedSet<DataId>(DataIdComparer.Instance);
        await foreach (var e in storage.Registry.QueryAsync<TableEntity>(filter, select: ["Visit", "Detector", "Band"], cancellationToken: ct))
        {
            ids.Add(Exact(new DataId(id.Instrument, e.GetInt64("Visit"), detectors ? e.GetInt32("Detector") : null, Band: e.GetString("Band")), type));
        }
        return [.. ids];
    }

    private async Task<(long Rows, List<string> Paths)> WriteOutputsAsync(QuantumRequest request, IPipelineTask task, TaskResult.Succeeded result, CancellationToken ct)
    {
        // Outputs are write-once: only this quantum (a retry of it) may overwrite them.
        string producer = $"{request.Run}/{request.Quantum.Key}";
        long served = 0, catalogRows = 0;
        bool anyServed = false;
        var paths = new List<string>();
        foreach (var c in task.Outputs)
        {
            foreach (var d in result.Outputs.TryGetValue(c.Name, out var list) ? list : [])
            {
                var encoded = await DatasetFormats.WriteAsync(c.DatasetType, d.Value, request.Run, ct);
                paths.Add(await storage.Data.WriteAsync(c.DatasetType, Exact(d.DataId, c.DatasetType), request.Run, encoded.Content, producer, encoded.ContentType, ct));
                if (d.Value is CatalogTable table)
                {
                    catalogRows += table.Rows.Count;
                    if (c.DatasetType.ServingCatalog is { } catalog && storage.ServingTable(catalog) is { } serving)
                    {
                        anyServed = true;
                        served += await tableWriter.WriteAsync(serving, table, CatalogTableKeys.For(catalog), ct);
                    }
                }
            }
        }
        return (anyServed ? served : catalogRows, paths);
    }

    private static bool HasDimension(DataId id, string dimension) => dimension switch
    {
        "instrument" => true,
        "visit" => id.Visit is not null,
        "detector" => id.Detector is not null,
        "tract" => id.Tract is not null,
        "patch" => id.Patch is not null,
        "band" => id.Band is not null,
        _ => false,
    };

    /// <summary>The data id with exactly the dataset type's dimensions (a quantum's carries the band its visit implies).</summary>
    public static DataId Exact(DataId id, DatasetType type)
    {
        bool Has(string d) => type.Dimensions.Contains(d);
        return new DataId(id.Instrument, Has("visit") ? id.Visit : null, Has("detector") ? id.Detector : null,
            Has("tract") ? id.Tract : null, Has("patch") ? id.Patch : null, Has("band") ? id.Band : null);
    }
}
