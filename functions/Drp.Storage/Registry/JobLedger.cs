using Azure;
using Azure.Data.Tables;

namespace Drp.Storage.Registry;

/// <summary>The state of one job (a cluster of quanta run by a container job) in one run.</summary>
public enum JobState
{
    Running,
    Completed,
    Retrying,
    Escalated,
    GaveUp,
}

/// <summary>
/// One job row: who runs it, on which delivery, in which memory class, and when it last showed it was alive. A row
/// still <see cref="JobState.Running"/> whose <see cref="HeartbeatAt"/> is older than the job's heartbeat timeout
/// belongs to a runner that died: the job is lost (its message comes back once its lock or visibility lapses).
/// <see cref="Dispatch"/> is the awaiting orchestration's send the delivery came from (a lost job is sent again).
/// </summary>
public sealed record JobRecord(
    string Run,
    string JobId,
    JobState State,
    string MemoryClass,
    int Delivery,
    string Runner,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    string? Outcome,
    int Dispatch = 1)
{
    /// <summary>True when the job is recorded running but has not beaten for longer than <paramref name="timeout"/>.</summary>
    public bool IsLost(DateTimeOffset now, TimeSpan timeout) => State == JobState.Running && now - HeartbeatAt > timeout;
}

/// <summary>
/// Job rows beside the quantum rows of the ledger table, in their own partition per run (<c>{run}|jobs</c>), so
/// <see cref="QuantumLedger.ListAsync"/> of a run still lists quanta only. Heartbeats merge one timestamp.
/// </summary>
public sealed class JobLedger(TableClient table)
{
    public TableClient Table { get; } = table;

    /// <summary>The partition of a run's job rows.</summary>
    public static string PartitionOf(string run) => RegistryTable.SafeKey(run + "|jobs");

    public async Task<JobRecord?> GetAsync(string run, string jobId, CancellationToken cancellationToken = default)
    {
        var r = await Table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(run), RegistryTable.SafeKey(jobId), cancellationToken: cancellationToken);
        return r.HasValue ? ToRecord(r.Value!) : null;
    }

    /// <summary>Records a delivery of the job starting (replaces the row of an earlier delivery).</summary>
    public Task StartAsync(string run, string jobId, string memoryClass, int delivery, string runner, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        StartAsync(run, jobId, memoryClass, delivery, runner, now, dispatch: 1, cancellationToken);

    /// <summary>Records a delivery of dispatch <paramref name="dispatch"/> of the job starting (replaces the row of an earlier delivery).</summary>
    public Task StartAsync(string run, string jobId, string memoryClass, int delivery, string runner, DateTimeOffset now, int dispatch, CancellationToken cancellationToken = default) =>
        Table.UpsertEntityAsync(new TableEntity(PartitionOf(run), RegistryTable.SafeKey(jobId))
        {
            ["Run"] = run,
            ["JobId"] = jobId,
            ["State"] = JobState.Running.ToString(),
            ["MemoryClass"] = memoryClass,
            ["Delivery"] = delivery,
            ["Dispatch"] = dispatch,
            ["Runner"] = runner,
            ["StartedAt"] = now,
            ["HeartbeatAt"] = now,
            ["Outcome"] = null,
        }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>Merges the heartbeat timestamp into the job's row.</summary>
    public Task HeartbeatAsync(string run, string jobId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Table.UpdateEntityAsync(new TableEntity(PartitionOf(run), RegistryTable.SafeKey(jobId)) { ["HeartbeatAt"] = now },
            ETag.All, TableUpdateMode.Merge, cancellationToken);

    /// <summary>
    /// Records how the delivery ended and what happens next (<paramref name="outcome"/>, in words); creates the row
    /// when the delivery never started (a job dead-lettered on receipt).
    /// </summary>
    public Task FinishAsync(string run, string jobId, JobState state, string outcome, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Table.UpsertEntityAsync(new TableEntity(PartitionOf(run), RegistryTable.SafeKey(jobId))
        {
            ["Run"] = run,
            ["JobId"] = jobId,
            ["State"] = state.ToString(),
            ["HeartbeatAt"] = now,
            ["Outcome"] = outcome.Length > 4000 ? outcome[..4000] : outcome,
        }, TableUpdateMode.Merge, cancellationToken);

    private static JobRecord ToRecord(TableEntity e) => new(
        e.GetString("Run"),
        e.GetString("JobId"),
        Enum.TryParse<JobState>(e.GetString("State"), out var s) ? s : JobState.Running,
        e.GetString("MemoryClass") ?? "",
        e.GetInt32("Delivery") ?? 0,
        e.GetString("Runner") ?? "",
        e.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
        e.GetDateTimeOffset("HeartbeatAt") ?? DateTimeOffset.MinValue,
        e.GetString("Outcome"),
        e.GetInt32("Dispatch") ?? 1);
}
