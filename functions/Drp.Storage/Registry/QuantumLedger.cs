using Azure;
using Azure.Data.Tables;
using Drp.Core.Provenance;

namespace Drp.Storage.Registry;

/// <summary>The state of one quantum in one run.</summary>
public enum QuantumState
{
    Running,
    Succeeded,
    Unprocessable,
    Failed,
}

/// <summary>
/// One ledger row: what happened to a quantum in a run, which software (<see cref="SoftwareVersion.Label"/>) and config
/// ran it (<paramref name="Provenance"/>), and what it used (<paramref name="Usage"/>; wall time is <paramref name="ElapsedMs"/>).
/// Rows written before provenance was recorded have nulls there.
/// </summary>
public sealed record QuantumRecord(
    string Run,
    string QuantumKey,
    QuantumState State,
    int Attempts,
    string? ErrorClass,
    string? Message,
    double ElapsedMs,
    long OutputRows,
    string? Outputs,
    string? SoftwareVersion = null,
    QuantumProvenance? Provenance = null,
    QuantumUsage? Usage = null);

/// <summary>
/// The ledger of quantum outcomes: one row per quantum per run (partition = run, row = quantum key). Running a step
/// again skips every quantum recorded as succeeded.
/// </summary>
public sealed class QuantumLedger(TableClient table)
{
    public TableClient Table { get; } = table;

    public async Task<QuantumRecord?> GetAsync(string run, string quantumKey, CancellationToken cancellationToken = default)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(RegistryTable.SafeKey(run), RegistryTable.SafeKey(quantumKey), cancellationToken: cancellationToken);
        return r.HasValue ? ToRecord(r.Value!) : null;
    }

    /// <summary>Marks the quantum running and counts the attempt; returns the attempt number.</summary>
    public async Task<int> StartAttemptAsync(string run, string quantumKey, CancellationToken cancellationToken = default)
    {
        // Marks this call's write: a write whose response was lost is found again by it, not counted twice.
        string attemptId = Guid.NewGuid().ToString("N");
        for (int tries = 0; ; tries++)
        {
            var existing = await Table.GetEntityIfExistsAsync<TableEntity>(RegistryTable.SafeKey(run), RegistryTable.SafeKey(quantumKey), cancellationToken: cancellationToken);
            if (tries > 0 && existing.HasValue && existing.Value!.GetString("AttemptId") == attemptId)
            {
                return existing.Value.GetInt32("Attempts") ?? 1;
            }
            int attempts = existing.HasValue ? (existing.Value!.GetInt32("Attempts") ?? 0) + 1 : 1;
            var entity = new TableEntity(RegistryTable.SafeKey(run), RegistryTable.SafeKey(quantumKey))
            {
                ["Run"] = run,
                ["QuantumKey"] = quantumKey,
                ["State"] = QuantumState.Running.ToString(),
                ["Attempts"] = attempts,
                ["AttemptId"] = attemptId,
            };
            try
            {
                if (existing.HasValue)
                {
                    await Table.UpdateEntityAsync(entity, existing.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await Table.AddEntityAsync(entity, cancellationToken);
                }
                return attempts;
            }
            catch (RequestFailedException e) when ((e.Status is 409 or 412) && tries < 5)
            {
                // Another attempt raced us: read again and count on top of it.
            }
        }
    }

    public Task CompleteAsync(QuantumRecord record, CancellationToken cancellationToken = default)
    {
        var entity = new TableEntity(RegistryTable.SafeKey(record.Run), RegistryTable.SafeKey(record.QuantumKey))
        {
            ["Run"] = record.Run,
            ["QuantumKey"] = record.QuantumKey,
            ["State"] = record.State.ToString(),
            ["Attempts"] = record.Attempts,
            ["ErrorClass"] = record.ErrorClass,
            ["Message"] = record.Message is { Length: > 4000 } m ? m[..4000] : record.Message,
            ["ElapsedMs"] = record.ElapsedMs,
            ["OutputRows"] = record.OutputRows,
            ["Outputs"] = record.Outputs,
            ["SoftwareVersion"] = record.SoftwareVersion,
            ["Step"] = record.Provenance?.Step,
            ["TaskType"] = record.Provenance?.TaskType,
            ["ConfigHash"] = record.Provenance?.ConfigHash,
            ["CpuSeconds"] = record.Usage?.CpuSeconds,
            ["PeakWorkingSetBytes"] = record.Usage?.PeakWorkingSetBytes,
            ["Gets"] = record.Usage?.Gets,
            ["BytesRead"] = record.Usage?.BytesRead,
        };
        return Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<List<QuantumRecord>> ListAsync(string run, CancellationToken cancellationToken = default)
    {
        var list = new List<QuantumRecord>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {RegistryTable.SafeKey(run)}");
        try
        {
            await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                list.Add(ToRecord(e));
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No ledger table yet (nothing has run on this account): no quanta, not an error for a reader.
        }
        return list;
    }

    private static QuantumRecord ToRecord(TableEntity e) => new(
        e.GetString("Run"),
        e.GetString("QuantumKey"),
        Enum.TryParse<QuantumState>(e.GetString("State"), out var s) ? s : QuantumState.Failed,
        e.GetInt32("Attempts") ?? 0,
        e.GetString("ErrorClass"),
        e.GetString("Message"),
        e.GetDouble("ElapsedMs") ?? 0,
        e.GetInt64("OutputRows") ?? 0,
        e.GetString("Outputs"),
        e.GetString("SoftwareVersion"),
        e.GetString("TaskType") is { } taskType ? new QuantumProvenance(e.GetString("Step") ?? "", taskType, e.GetString("ConfigHash") ?? "") : null,
        e.GetDouble("CpuSeconds") is { } cpu
            ? new QuantumUsage(cpu, e.GetInt64("PeakWorkingSetBytes") ?? 0, e.GetInt64("Gets") ?? 0, e.GetInt64("BytesRead") ?? 0)
            : null);
}
