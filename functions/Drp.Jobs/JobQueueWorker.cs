using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace Drp.Jobs;

/// <summary>
/// Takes jobs from a Storage queue (Azurite locally; the Service Bus adapter comes with the campaign issue), runs each
/// with <see cref="JobRunner"/>, puts the <see cref="JobResult"/> on the completions queue, then deletes the job. A
/// message that is not a job, or that failed <see cref="MaxDequeueCount"/> times, goes to the poison queue.
/// (Visibility renewal for jobs longer than the visibility timeout comes with the campaign issue's heartbeats.)
/// </summary>
public sealed class JobQueueWorker(QueueClient jobs, QueueClient completions, QueueClient poison, JobRunner runner, ILogger<JobQueueWorker> logger)
{
    public const int MaxDequeueCount = 5;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public QueueClient Poison { get; } = poison;

    /// <summary>Runs jobs until the queue is empty (a container job's life) or cancellation; returns the number run.</summary>
    public async Task<int> RunUntilEmptyAsync(TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        await jobs.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await completions.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        int done = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            QueueMessage? message = (await jobs.ReceiveMessageAsync(visibilityTimeout, cancellationToken)).Value;
            if (message is null)
            {
                return done;
            }
            JobMessage? job;
            try
            {
                job = JsonSerializer.Deserialize<JobMessage>(message.Body.ToString(), Json);
                if (job is null || string.IsNullOrWhiteSpace(job.JobId) || job.Quanta is null)
                {
                    throw new JsonException("empty job, or a job without id or quanta");
                }
            }
            catch (JsonException e)
            {
                logger.LogError("Message {MessageId} is not a job ({Reason}): moved to the poison queue", message.MessageId, e.Message);
                await Poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
                await jobs.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                continue;
            }
            if (message.DequeueCount > MaxDequeueCount)
            {
                logger.LogError("Job {JobId} was delivered {Count} times without completing: moved to the poison queue", job.JobId, message.DequeueCount);
                await Poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
                await jobs.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                continue;
            }
            var result = await runner.RunAsync(job, cancellationToken);
            await completions.SendMessageAsync(JsonSerializer.Serialize(result, Json), cancellationToken);
            await jobs.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            done++;
        }
        return done;
    }
}
