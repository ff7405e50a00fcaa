using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Drp.Storage;
using Drp.Storage.Arrivals;
using Drp.Storage.Resilience;
using Drp.Workflows.Arrivals;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drp.Local.Triggers;

/// <summary>
/// The local stand-in for the Functions QueueTrigger on the arrivals queue: polls it, hands each message to
/// <see cref="RawArrivalHandler"/> (the code the Functions app runs), deletes it on success, and moves a message that
/// is not an event, or that failed <see cref="MaxDequeueCount"/> times, to the poison queue — as the Functions host does.
/// </summary>
public sealed class ArrivalQueueListener(StorageClients storage, RawArrivalHandler handler, ILogger<ArrivalQueueListener> logger)
    : BackgroundService
{
    /// <summary>Same default as the Functions queue extension (host.json queues.maxDequeueCount).</summary>
    public const int MaxDequeueCount = 5;

    private static readonly TimeSpan s_visibilityTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_idleDelay = TimeSpan.FromMilliseconds(250);

    private long _handled;
    private long _poisoned;

    /// <summary>Messages handled (started or recognised as duplicates) since start.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>Messages moved to the poison queue since start.</summary>
    public long Poisoned => Interlocked.Read(ref _poisoned);

    public QueueClient PoisonQueue => storage.Queues.GetQueueClient(storage.Options.ArrivalsQueue + "-poison");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = storage.ArrivalsQueue;
        await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        await PoisonQueue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        logger.LogInformation("Listening for raw arrivals on queue {Queue}", queue.Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(maxMessages: 16, s_visibilityTimeout, stoppingToken)).Value;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not read the arrivals queue; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            if (batch.Length == 0)
            {
                await Task.Delay(s_idleDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = stoppingToken },
                async (m, ct) => await HandleOneAsync(queue, m, ct));
        }
    }

    private async Task HandleOneAsync(QueueClient queue, QueueMessage message, CancellationToken ct)
    {
        string text = message.Body.ToString();
        try
        {
            await handler.HandleAsync(text, ct);
            await queue.DeleteReceivedAsync(message.MessageId, message.PopReceipt, ct);
            Interlocked.Increment(ref _handled);
        }
        catch (InvalidArrivalException e)
        {
            logger.LogError("Arrival message {MessageId} is not a BlobCreated event ({Reason}): moved to the poison queue", message.MessageId, e.Message);
            await PoisonAsync(queue, message, text, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            if (message.DequeueCount >= MaxDequeueCount)
            {
                logger.LogError(e, "Arrival message {MessageId} failed {Count} times: moved to the poison queue", message.MessageId, message.DequeueCount);
                await PoisonAsync(queue, message, text, ct);
            }
            else
            {
                // Left on the queue: it becomes visible again after the visibility timeout and is retried.
                logger.LogWarning(e, "Arrival message {MessageId} failed (attempt {Count}); it will be retried", message.MessageId, message.DequeueCount);
            }
        }
    }

    private async Task PoisonAsync(QueueClient queue, QueueMessage message, string text, CancellationToken ct)
    {
        await PoisonQueue.SendMessageAsync(text, ct);
        await queue.DeleteReceivedAsync(message.MessageId, message.PopReceipt, ct);
        Interlocked.Increment(ref _poisoned);
    }
}
