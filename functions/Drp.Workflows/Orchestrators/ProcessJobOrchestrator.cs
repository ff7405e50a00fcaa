using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Execution;
using Drp.Execution.Jobs;
using Drp.Workflows.Jobs;
using Drp.Core.Planning;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// One planned job of any step: loads its plan blob (<see cref="LoadJobActivity"/>) and runs its quanta, each
/// independently, where the plan (or the step's override) says. As activities: <see cref="RunQuantumActivity"/> per
/// quantum, a unit at a time in the step's unit order (a later unit may read an earlier one's outputs), the quanta of a
/// unit in parallel. In a container job: sent to the queue of its memory class (<see cref="DispatchJobActivity"/>) and
/// awaited as the <see cref="JobCompletionRelay.EventName"/> event raced against a durable timer of the job's heartbeat
/// timeout; when the timer wins, the job ledger is read (<see cref="CheckJobActivity"/>): a runner still beating (or a
/// job still queued) is waited for again, a silent one is declared lost and the job sent again (at most
/// <see cref="MaxDispatches"/> times). Retries and memory-class escalation happen at the runner and arrive as
/// non-final completions. Quanta left without an outcome get a failed ledger row with the reason. Returns counts of
/// quantum outcomes; succeeded and unprocessable include the skipped ones. The custom status says where the job is.
/// </summary>
public sealed class ProcessJobOrchestrator : TaskOrchestrator<JobInput, JobSummary>
{
    /// <summary>Sends of a container job before a job lost every time is given up.</summary>
    public const int MaxDispatches = 3;

    /// <summary>The error class of quanta whose container job was lost on every dispatch or ended without running them.</summary>
    public const string JobLostErrorClass = "Drp.Workflows.JobLost";

    /// <summary>Heartbeat timeout for plans written before jobs carried one.</summary>
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromMinutes(20);

    /// <inheritdoc />
    public override async Task<JobSummary> RunAsync(TaskOrchestrationContext context, JobInput input)
    {
        var work = await context.CallActivityAsync<JobWork>(nameof(LoadJobActivity), input, RetryPolicies.Transient);
        var q = (input.Executor ?? work.Executor) == JobExecutor.Container
            ? await RunInContainerAsync(context, input, work)
            : await RunAsActivitiesAsync(context, input, work);
        return new JobSummary(work.JobId, new OutcomeCounts(
            work.Quanta.Count,
            q.Count,
            q.Count(r => r.State == QuantumState.Succeeded),
            q.Count(r => r.State == QuantumState.Failed),
            q.Count(r => r.State == QuantumState.Unprocessable),
            q.Count(r => r.Skipped)),
            VersionCount.Count(q.Select(r => r.SoftwareVersion)));
    }

    /// <summary>Each unit's quanta in parallel, unit after unit; a quantum that still fails after its retries is recorded as failed and its siblings carry on.</summary>
    private static async Task<IReadOnlyList<QuantumResult>> RunAsActivitiesAsync(TaskOrchestrationContext context, JobInput input, JobWork work)
    {
        var results = new List<QuantumResult>(work.Quanta.Count);
        foreach (var unit in work.Quanta.GroupBy(q => q.Task))
        {
            results.AddRange(await Task.WhenAll(unit.Select(q => RunQuantumAsync(context, new QuantumRequest(input.Run, input.Instrument, input.CalibCollection, work.Step, q)))));
        }
        return results;
    }

    private static async Task<QuantumResult> RunQuantumAsync(TaskOrchestrationContext context, QuantumRequest request)
    {
        try
        {
            return await context.CallActivityAsync<QuantumResult>(nameof(RunQuantumActivity), request, RetryPolicies.Transient);
        }
        catch (TaskFailedException e)
        {
            return QuantumResult.Failed(request.Quantum, e.FailureDetails.ErrorType, e.FailureDetails.ErrorMessage);
        }
    }

    /// <summary>The job in a container: every quantum's latest outcome, one per quantum.</summary>
    private static async Task<IReadOnlyList<QuantumResult>> RunInContainerAsync(TaskOrchestrationContext context, JobInput input, JobWork work)
    {
        var timeout = work.HeartbeatTimeout > TimeSpan.Zero ? work.HeartbeatTimeout : DefaultHeartbeatTimeout;
        var latest = new Dictionary<string, QuantumResult>(StringComparer.Ordinal);
        var memory = work.Memory;
        int dispatch = 1;
        var sent = await context.CallActivityAsync<JobDispatched>(nameof(DispatchJobActivity),
            new DispatchJobInput(input, context.InstanceId, dispatch, memory), RetryPolicies.Transient);
        var status = new ContainerJobStatus(work.JobId, sent.Queue, dispatch, "queued", null, null);
        string? giveUpReason = null;
        // One event wait stays pending across timer rounds: a new wait per round would queue behind the old one, and
        // some SDK versions hand events to waiters first-in first-out (an abandoned wait would swallow the completion).
        Task<JobCompletion>? completed = null;
        while (true)
        {
            context.SetCustomStatus(status);
            completed ??= context.WaitForExternalEvent<JobCompletion>(JobCompletionRelay.EventName);
            using var cancelTimer = new CancellationTokenSource();
            var silence = context.CreateTimer(context.CurrentUtcDateTime.Add(timeout), cancelTimer.Token);
            if (await Task.WhenAny(completed, silence) == completed)
            {
                cancelTimer.Cancel();
                var c = await completed;
                completed = null;
                foreach (var r in c.Quanta)
                {
                    latest[r.Key] = r;
                }
                if (c.Decision is { Action: RetryAction.NextClass, MemoryClass: { } next })
                {
                    memory = next;
                }
                status = status with { Queue = JobsOptions.QueueName(memory), Phase = c.IsFinal ? "completed" : "retrying", Delivery = c.Delivery, Note = c.Decision.Reason };
                if (c.IsFinal)
                {
                    giveUpReason = c.Decision.Action == RetryAction.GiveUp ? c.Decision.Reason : null;
                    break;
                }
                continue;
            }
            var check = await context.CallActivityAsync<JobCheck>(nameof(CheckJobActivity),
                new JobCheckInput(input.Run, work.JobId, dispatch, timeout), RetryPolicies.Transient);
            if (!check.Lost)
            {
                status = status with { Phase = check.Phase, Delivery = check.Delivery == 0 ? status.Delivery : check.Delivery };
                continue;
            }
            string lost = $"dispatch {dispatch} lost: runner {check.Runner} silent since {check.HeartbeatAt:O} (heartbeat timeout {timeout})";
            if (dispatch >= MaxDispatches)
            {
                giveUpReason = $"{lost}; given up after {MaxDispatches} dispatches";
                break;
            }
            dispatch++;
            sent = await context.CallActivityAsync<JobDispatched>(nameof(DispatchJobActivity),
                new DispatchJobInput(input, context.InstanceId, dispatch, memory), RetryPolicies.Transient);
            status = new ContainerJobStatus(work.JobId, sent.Queue, dispatch, "queued", null, lost);
        }

        var results = new List<QuantumResult>(work.Quanta.Count);
        var unfinished = new List<PlannedQuantum>();
        foreach (var quantum in work.Quanta)
        {
            if (latest.TryGetValue(quantum.Key, out var r) && r.State != QuantumState.Running)
            {
                results.Add(r);
                continue;
            }
            unfinished.Add(quantum);
            results.Add(QuantumResult.Failed(quantum, JobLostErrorClass, giveUpReason ?? "the container job ended without an outcome for this quantum"));
        }
        if (unfinished.Count > 0)
        {
            await context.CallActivityAsync<int>(nameof(RecordUnfinishedQuantaActivity),
                new RecordUnfinishedInput(input.Run, work.Step, unfinished, JobLostErrorClass, giveUpReason ?? "the container job ended without an outcome"), RetryPolicies.Transient);
        }
        context.SetCustomStatus(status with { Phase = "completed" });
        return results;
    }
}

/// <summary>A container job's custom status: its queue, which dispatch, the runner's delivery, the phase and the last reason.</summary>
public sealed record ContainerJobStatus(string JobId, string Queue, int Dispatch, string Phase, int? Delivery, string? Note);
