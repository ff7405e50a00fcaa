using Drp.Jobs.Queues;
using Drp.Storage.Registry;
using Drp.Core.Planning;
using Microsoft.Extensions.Logging;

namespace Drp.Jobs;

/// <summary>
/// The runner's loop over one <see cref="IJobQueue"/> (Service Bus or Storage queues): receives a job, keeps its lock
/// and writes a heartbeat to the job's ledger row at the job's interval while <see cref="JobRunner"/> attempts each
/// quantum, sends a <see cref="JobCompletion"/>, then settles the message by the <see cref="JobRetryPolicy"/>'s
/// decision: complete (done, never), abandon after the backoff (same class), send to the next class's queue and
/// complete (out of memory), or dead-letter with the reason (given up, not a job, too many deliveries). A delivery
/// whose job row is still running belongs to a runner that died: the job was lost and is run again.
/// </summary>
public sealed class JobQueueWorker(
    IJobQueue queue,
    JobRunner runner,
    JobLedger ledger,
    JobsOptions options,
    JobRetryPolicy policy,
    ILogger<JobQueueWorker> logger,
    TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly string _runnerName = Environment.MachineName + ":" + Environment.ProcessId;

    /// <summary>Runs jobs until the queue is empty (a container job's life) or cancellation; returns the deliveries handled.</summary>
    public async Task<int> RunUntilEmptyAsync(CancellationToken cancellationToken = default)
    {
        int done = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var lease = await queue.ReceiveAsync(cancellationToken);
            if (lease is null)
            {
                return done;
            }
            await ProcessAsync(lease, cancellationToken);
            done++;
        }
        return done;
    }

    /// <summary>Handles one delivery; returns the completion sent, or null for a message that is not a job.</summary>
    public async Task<JobCompletion?> ProcessAsync(IJobLease lease, CancellationToken cancellationToken = default)
    {
        JobMessage job;
        try
        {
            job = JobMessages.Parse(lease.Body);
        }
        catch (JobMessageFormatException e)
        {
            logger.LogError("Message {MessageId} on {Queue} is not a job ({Reason}): dead-lettered", lease.MessageId, queue.Name, e.Message);
            await lease.DeadLetterAsync("NotAJob", e.Message, cancellationToken);
            return null;
        }
        var memory = options.Memory;
        var previous = await ledger.GetAsync(job.Run, job.JobId, cancellationToken);
        bool lost = lease.DeliveryCount > 1 && previous is { State: JobState.Running };
        if (lost)
        {
            var retry = policy.Decide(FailureKind.LostHeartbeat, memory, lease.DeliveryCount - 1, options.MaxDeliveryCount);
            logger.LogWarning("Job {JobId} was lost on delivery {Delivery} by {Runner} (last heartbeat {HeartbeatAt:O}): {Decision}",
                job.JobId, previous!.Delivery, previous.Runner, previous.HeartbeatAt, retry.Reason);
        }
        if (lease.DeliveryCount > options.MaxDeliveryCount)
        {
            var giveUp = new RetryDecision(RetryAction.GiveUp, memory, Reason: $"delivered {lease.DeliveryCount} times, more than {options.MaxDeliveryCount}, without completing");
            return await SettleAsync(lease, job, memory, [], 0, lost ? FailureKind.LostHeartbeat : null, giveUp, lost, cancellationToken);
        }

        await ledger.StartAsync(job.Run, job.JobId, memory.Name(), lease.DeliveryCount, _runnerName, _time.GetUtcNow(), job.Dispatch, cancellationToken);
        var interval = job.HeartbeatInterval ?? options.HeartbeatInterval;
        JobResult result;
        using (var beating = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var heartbeat = HeartbeatAsync(lease, job, interval, beating.Token, cancellationToken);
            try
            {
                result = await runner.RunAsync(job, cancellationToken);
            }
            finally
            {
                await beating.CancelAsync();
                await heartbeat;
            }
        }
        var failure = JobRetryPolicy.Classify(result.Quanta);
        var decision = failure is { } f ? policy.Decide(f, memory, lease.DeliveryCount, options.MaxDeliveryCount) : RetryDecision.Done;
        return await SettleAsync(lease, job, memory, result.Quanta, result.ElapsedMs, failure, decision, lost, cancellationToken);
    }

    private async Task<JobCompletion> SettleAsync(IJobLease lease, JobMessage job, MemoryClass memory, IReadOnlyList<QuantumResult> quanta,
        double elapsedMs, FailureKind? failure, RetryDecision decision, bool lost, CancellationToken cancellationToken)
    {
        var completion = new JobCompletion(job.JobId, job.Run, memory.Name(), lease.DeliveryCount, quanta, elapsedMs, failure, decision, lost, job.ReplyTo, job.Dispatch);
        if (decision is { Action: RetryAction.NextClass, MemoryClass: { } next })
        {
            // The row says "escalated" before the next class can see the job: its runner's start then replaces the row,
            // never the other way round. Only the quanta that failed go up a class; the ledger skips the others anyway.
            await ledger.FinishAsync(job.Run, job.JobId, JobState.Escalated, decision.Reason ?? decision.Action.ToString(), _time.GetUtcNow(), cancellationToken);
            var failed = quanta.Where(q => q.State == QuantumState.Failed).Select(q => q.Key).ToHashSet(StringComparer.Ordinal);
            await queue.SendAsync(next, job with { Quanta = job.Quanta.Where(q => failed.Contains(q.Key)).ToList() }, cancellationToken);
        }
        // The completion goes out before the settlement: a runner that dies in between repeats the job, never loses its report.
        await queue.SendCompletionAsync(completion, cancellationToken);
        JobState state;
        switch (decision.Action)
        {
            case RetryAction.Done or RetryAction.Never:
                await lease.CompleteAsync(cancellationToken);
                state = JobState.Completed;
                break;
            case RetryAction.SameClass:
                await lease.AbandonAsync(decision.Backoff, cancellationToken);
                state = JobState.Retrying;
                break;
            case RetryAction.NextClass:
                await lease.CompleteAsync(cancellationToken);
                state = JobState.Escalated; // already recorded before the send
                break;
            default:
                await lease.DeadLetterAsync(decision.Reason ?? "GaveUp", Describe(completion), cancellationToken);
                state = JobState.GaveUp;
                break;
        }
        if (state != JobState.Escalated)
        {
            await ledger.FinishAsync(job.Run, job.JobId, state, decision.Reason ?? decision.Action.ToString(), _time.GetUtcNow(), cancellationToken);
        }
        logger.LogInformation("Job {JobId} delivery {Delivery} in {MemoryClass}: {Succeeded}/{Total} quanta succeeded, failure {Failure}, {Action} {Reason}",
            job.JobId, lease.DeliveryCount, memory.Name(), completion.Succeeded, quanta.Count, failure, decision.Action, decision.Reason ?? "");
        return completion;
    }

    private static string Describe(JobCompletion c)
    {
        var failed = c.Quanta.Where(q => q.State == QuantumState.Failed).Select(q => $"{q.Key}: {q.ErrorClass}: {q.Message}").ToList();
        string text = $"job {c.JobId} of run {c.Run} in {c.MemoryClass}, delivery {c.Delivery}: {c.Decision.Reason}"
            + (failed.Count > 0 ? "; failed quanta: " + string.Join("; ", failed) : "");
        return text.Length > 4000 ? text[..4000] : text;
    }

    /// <summary>
    /// Until the job ends (<paramref name="stop"/>): renews the lease and writes the heartbeat, every interval (and at least
    /// twice per lock duration, so the lock never lapses while the runner lives). A failed beat is logged, not fatal: the
    /// next may pass. A beat in flight when the job ends is finished, not cancelled: a renewal the service applied but
    /// the runner never heard of would leave the lease with a stale receipt, and its settlement would fail.
    /// </summary>
    private async Task HeartbeatAsync(IJobLease lease, JobMessage job, TimeSpan interval, CancellationToken stop, CancellationToken cancellationToken)
    {
        var period = interval < lease.LockDuration / 2 ? interval : lease.LockDuration / 2;
        using var timer = new PeriodicTimer(period > TimeSpan.Zero ? period : TimeSpan.FromMilliseconds(1), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await lease.RenewAsync(cancellationToken);
                    await ledger.HeartbeatAsync(job.Run, job.JobId, _time.GetUtcNow(), cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Job {JobId}: heartbeat failed", job.JobId);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The job ended.
        }
    }
}
