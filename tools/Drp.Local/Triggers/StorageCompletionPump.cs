using Azure.Storage.Queues;
using Azure.Storage.Queues.Specialized;
using Drp.Execution.Jobs;
using Drp.Storage.Resilience;
using Drp.Workflows.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Drp.Local.Triggers;

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
            await completions.DeleteReceivedAsync(m.MessageId, m.PopReceipt, cancellationToken);
        }
        return messages.Length;
    }
}
