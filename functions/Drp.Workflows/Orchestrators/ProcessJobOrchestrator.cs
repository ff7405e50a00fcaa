using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Workflows.Jobs;
using Drp.Core.Planning;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// One planned job: loads its plan blob (<see cref="LoadJobActivity"/>) and runs its quanta, each independently, where
/// the plan (or the step's override) says. As activities: step 1's visit detectors through
/// <see cref="ProcessVisitOrchestrator.RunVisitAsync"/>. In a container job: sent to the queue of its memory class
/// (<see cref="DispatchJobActivity"/>) and awaited as the <see cref="JobCompletionRelay.EventName"/> event raced against
/// a durable timer of the job's heartbeat timeout; when the timer wins, the job ledger is read
/// (<see cref="CheckJobActivity"/>): a runner still beating (or a job still queued) is waited for again, a silent one is
/// declared lost and the job sent again (at most <see cref="MaxDispatches"/> times). Retries and memory-class
/// escalation happen at the runner and arrive as non-final completions. Quanta left without an outcome get a failed
/// ledger row with the reason. Then the visit's Source table. Returns counts of unit outcomes; succeeded and
/// unprocessable include the skipped ones. The custom status says where the job is (queue, dispatch, phase).
/// </summary>
public sealed class ProcessJobOrchestrator : TaskOrchestrator<JobInput, JobSummary>
{
    /// <summary>Steps whose jobs this orchestrator can run (the others have no science code yet).</summary>
    public static readonly IReadOnlyList<string> ExecutableSteps = ["step1"];

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
        if (work.Visit is null)
        {
            throw new InvalidOperationException($"job {work.JobId} of {work.Step}: no executor for this step");
        }
        var visit = new VisitInput(input.Run, input.Instrument, input.CalibCollection, work.Visit);
        var result = (input.Executor ?? work.Executor) == JobExecutor.Container
            ? await ProcessVisitOrchestrator.ConsolidateAsync(context, visit, await RunInContainerAsync(context, input, work))
            : await ProcessVisitOrchestrator.RunVisitAsync(context, visit);
        var q = result.Quanta;
        return new JobSummary(work.JobId, new OutcomeCounts(
            work.Quanta,
            q.Count,
            q.Count(r => r.State == QuantumState.Succeeded),
            q.Count(r => r.State == QuantumState.Failed),
            q.Count(r => r.State == QuantumState.Unprocessable),
            q.Count(r => r.Skipped)),
            VersionCount.Count(q.Select(r => r.SoftwareVersion)));
    }

    /// <summary>The job in a container: every detector's latest outcome, one per detector.</summary>
    private static async Task<IReadOnlyList<QuantumResult>> RunInContainerAsync(TaskOrchestrationContext context, JobInput input, JobWork work)
    {
        var visit = work.Visit!;
        var timeout = work.HeartbeatTimeout > TimeSpan.Zero ? work.HeartbeatTimeout : DefaultHeartbeatTimeout;
        var latest = new Dictionary<int, QuantumResult>();
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
                    latest[r.Detector] = r;
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

        var results = new List<QuantumResult>(visit.Detectors.Count);
        var unfinished = new List<DetectorQuantumRef>();
        foreach (int d in visit.Detectors)
        {
            if (latest.TryGetValue(d, out var r) && r.State != QuantumState.Running)
            {
                results.Add(r);
                continue;
            }
            unfinished.Add(new DetectorQuantumRef(visit.Visit, d));
            results.Add(new QuantumResult(visit.Visit, d, QuantumState.Failed, 0, 0, JobLostErrorClass,
                giveUpReason ?? "the container job ended without an outcome for this quantum", Skipped: false, ElapsedMs: 0));
        }
        if (unfinished.Count > 0)
        {
            await context.CallActivityAsync<int>(nameof(RecordUnfinishedQuantaActivity),
                new RecordUnfinishedInput(input.Run, unfinished, JobLostErrorClass, giveUpReason ?? "the container job ended without an outcome"), RetryPolicies.Transient);
        }
        context.SetCustomStatus(status with { Phase = "completed" });
        return results;
    }
}

/// <summary>A container job's custom status: its queue, which dispatch, the runner's delivery, the phase and the last reason.</summary>
public sealed record ContainerJobStatus(string JobId, string Queue, int Dispatch, string Phase, int? Delivery, string? Note);
