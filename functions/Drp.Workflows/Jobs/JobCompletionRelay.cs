using Drp.Execution.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Jobs;

/// <summary>
/// Carries a container job's completions to the orchestration awaiting it: raises <see cref="EventName"/> on the
/// instance named by <see cref="JobCompletion.ReplyTo"/>. Fed by the Functions app's queue trigger on the completions
/// queue and, locally, by the local platform's completions pump (Drp.Local). A completion for an orchestration that no longer exists
/// (purged, or finished after a lost job was sent again) is logged and dropped: its quanta's outcomes are in the ledger.
/// </summary>
public sealed class JobCompletionRelay(ILogger<JobCompletionRelay> logger)
{
    /// <summary>The external event a job orchestration waits for.</summary>
    public const string EventName = "JobCompletion";

    /// <summary>Relays one completion; false when it had no orchestration to go to.</summary>
    public async Task<bool> RelayAsync(DurableTaskClient client, JobCompletion completion, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(completion.ReplyTo))
        {
            logger.LogWarning("Completion of job {JobId} (delivery {Delivery}) names no orchestration: dropped", completion.JobId, completion.Delivery);
            return false;
        }
        OrchestrationMetadata? instance;
        try
        {
            instance = await client.GetInstanceAsync(completion.ReplyTo, getInputsAndOutputs: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The status cannot be read: raise anyway (an event for a finished instance is discarded); if that fails
            // too, the completion stays on its queue and is tried again.
            logger.LogWarning("Status of {Instance} unreadable ({Error}): raising the completion of job {JobId} anyway", completion.ReplyTo, e.Message.Split('\n')[0], completion.JobId);
            await client.RaiseEventAsync(completion.ReplyTo, EventName, completion, cancellationToken);
            return true;
        }
        if (instance is null || instance.IsCompleted)
        {
            logger.LogInformation("Completion of job {JobId} (dispatch {Dispatch}, delivery {Delivery}) for {Instance}, which is {State}: dropped",
                completion.JobId, completion.Dispatch, completion.Delivery, completion.ReplyTo, instance?.RuntimeStatus.ToString() ?? "gone");
            return false;
        }
        await client.RaiseEventAsync(completion.ReplyTo, EventName, completion, cancellationToken);
        logger.LogInformation("Completion of job {JobId} (dispatch {Dispatch}, delivery {Delivery}, {Action}) raised on {Instance}",
            completion.JobId, completion.Dispatch, completion.Delivery, completion.Decision.Action, completion.ReplyTo);
        return true;
    }
}
