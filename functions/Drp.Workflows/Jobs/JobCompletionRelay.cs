using Drp.Execution.Jobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Specialized;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Jobs;

/// <summary>
/// Carries a container job's completions to the orchestration awaiting it: raises <see cref="EventName"/> on the
/// instance named by <see cref="JobCompletion.ReplyTo"/>. Fed by the Functions app's queue trigger on the completions
/// queue and, locally, by <see cref="StorageCompletionPump"/>. A completion for an orchestration that no longer exists
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
        var instance = await client.GetInstanceAsync(completion.ReplyTo, getInputsAndOutputs: false, cancellationToken);
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

/// <summary>
/// The local host's stand-in for the Functions app's queue trigger: takes completions from the Storage completions
/// queue and relays them; a message that is not a completion goes to <c>{queue}-poison</c>; one that fails to relay
/// (the engine is down) becomes visible again and is retried.
/// </summary>
public sealed class StorageCompletionPump(QueueClient completions, DurableTaskClient client, JobCompletionRelay relay, ILogger<StorageCompletionPump> logger)
{
    /// <summary>Relays until cancelled, polling every <paramref name="idle"/> while the queue is empty.</summary>
    public async Task RunAsync(TimeSpan idle, CancellationToken cancellationToken)
    {
        await completions.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await PumpOnceAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Relaying job completions from {Queue} failed; trying again", completions.Name);
                n = 0;
            }
            if (n == 0)
            {
                await Task.Delay(idle, cancellationToken);
            }
        }
    }

    /// <summary>Relays what is on the queue now (at most 32 messages); returns how many were handled.</summary>
    public async Task<int> PumpOnceAsync(CancellationToken cancellationToken = default)
    {
        var messages = (await completions.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30), cancellationToken)).Value;
        foreach (var m in messages)
        {
            try
            {
                await relay.RelayAsync(client, JobMessages.ParseCompletion(m.Body), cancellationToken);
            }
            catch (JobMessageFormatException e)
            {
                logger.LogError("Message {MessageId} on {Queue} is not a completion ({Reason}): moved to the poison queue", m.MessageId, completions.Name, e.Message);
                var poison = completions.GetParentQueueServiceClient().GetQueueClient(completions.Name + "-poison");
                await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await poison.SendMessageAsync(m.Body, cancellationToken: cancellationToken);
            }
            await completions.DeleteMessageAsync(m.MessageId, m.PopReceipt, cancellationToken);
        }
        return messages.Length;
    }
}
