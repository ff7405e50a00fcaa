using Drp.Storage;
using Drp.Core.Provenance;
using Drp.Storage.Registry;
using Drp.Execution.Jobs;
using Drp.Core.Planning;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>Send dispatch <paramref name="Dispatch"/> of a job to the queue of <paramref name="Memory"/>, answering to <paramref name="ReplyTo"/>.</summary>
public sealed record DispatchJobInput(JobInput Job, string ReplyTo, int Dispatch, MemoryClass Memory);

/// <summary>Where a job was sent.</summary>
public sealed record JobDispatched(string JobId, string Queue, int Dispatch, int Quanta);

/// <summary>Is dispatch <paramref name="Dispatch"/> of a job still alive after <paramref name="HeartbeatTimeout"/> of silence?</summary>
public sealed record JobCheckInput(string Run, string JobId, int Dispatch, TimeSpan HeartbeatTimeout);

/// <summary>
/// What the job ledger says: <see cref="Lost"/> when a runner of this dispatch started it and has not beaten for longer
/// than the timeout (it died); otherwise it is running, or still queued (no runner of this dispatch has started it).
/// </summary>
public sealed record JobCheck(bool Lost, string Phase, int Delivery, DateTimeOffset? HeartbeatAt, string? Runner);

/// <summary>Record quanta a container job never finished as failed, with the reason (only where the ledger has no terminal outcome).</summary>
public sealed record RecordUnfinishedInput(string Run, string Step, IReadOnlyList<PlannedQuantum> Quanta, string ErrorClass, string Reason);

/// <summary>
/// Sends a container job: reads its plan blob, builds the <see cref="JobMessage"/> (its quanta, heartbeat settings,
/// the awaiting orchestration's instance id) and sends it to the queue of the memory class asked for.
/// </summary>
public sealed class DispatchJobActivity(StorageClients storage, IJobDispatcher dispatcher, ILogger<DispatchJobActivity> logger) : TaskActivity<DispatchJobInput, JobDispatched>
{
    public override Task<JobDispatched> RunAsync(TaskActivityContext context, DispatchJobInput input) => ExecuteAsync(input);

    public async Task<JobDispatched> ExecuteAsync(DispatchJobInput input, CancellationToken cancellationToken = default)
    {
        var planned = await LoadJobActivity.ReadPlanAsync(storage, input.Job.PlanPath, cancellationToken);
        var (_, job) = JobMessages.For(input.Job.Run, input.Job.Instrument, input.Job.CalibCollection, planned, input.ReplyTo, input.Dispatch);
        await dispatcher.SendAsync(input.Memory, job, cancellationToken);
        string queue = JobsOptions.QueueName(input.Memory);
        logger.LogInformation("Job {JobId} (dispatch {Dispatch}, {Quanta} quanta) sent to {Queue} for {Instance}",
            job.JobId, input.Dispatch, job.Quanta.Count, queue, input.ReplyTo);
        return new JobDispatched(job.JobId, queue, input.Dispatch, job.Quanta.Count);
    }
}

/// <summary>Reads a container job's ledger row when its orchestration's heartbeat timer fires.</summary>
public sealed class CheckJobActivity(StorageClients storage, TimeProvider? time = null) : TaskActivity<JobCheckInput, JobCheck>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public override Task<JobCheck> RunAsync(TaskActivityContext context, JobCheckInput input) => ExecuteAsync(input);

    public async Task<JobCheck> ExecuteAsync(JobCheckInput input, CancellationToken cancellationToken = default)
    {
        var row = await new JobLedger(storage.Ledger).GetAsync(input.Run, input.JobId, cancellationToken);
        if (row is null || row.Dispatch < input.Dispatch)
        {
            return new JobCheck(false, "queued", 0, null, null);
        }
        bool lost = row.IsLost(_time.GetUtcNow(), input.HeartbeatTimeout);
        return new JobCheck(lost, lost ? "lost" : row.State.ToString().ToLowerInvariant(), row.Delivery, row.HeartbeatAt, row.Runner);
    }
}

/// <summary>
/// Gives every quantum of a job that ended without an outcome (lost on every dispatch, or dead-lettered before it ran)
/// exactly one terminal ledger row: failed, with the reason. Quanta already terminal are left as they are.
/// </summary>
public sealed class RecordUnfinishedQuantaActivity(StorageClients storage) : TaskActivity<RecordUnfinishedInput, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, RecordUnfinishedInput input) => ExecuteAsync(input);

    public async Task<int> ExecuteAsync(RecordUnfinishedInput input, CancellationToken cancellationToken = default)
    {
        var ledger = new QuantumLedger(storage.Ledger);
        int written = 0;
        foreach (var q in input.Quanta)
        {
            string key = q.Key;
            var row = await ledger.GetAsync(input.Run, key, cancellationToken);
            if (row is { State: QuantumState.Succeeded or QuantumState.Unprocessable or QuantumState.Failed })
            {
                continue;
            }
            await ledger.CompleteAsync(new QuantumRecord(input.Run, key, QuantumState.Failed, row?.Attempts ?? 0, input.ErrorClass, input.Reason, 0, 0, null,
                SoftwareVersion.Current.Label, row?.Provenance ?? new QuantumProvenance(input.Step, q.Task, "")), cancellationToken);
            written++;
        }
        return written;
    }
}
