using Azure.Messaging.ServiceBus;
using Azure.Storage.Queues;
using Drp.Core.Planning;

namespace Drp.Execution.Jobs;

/// <summary>
/// Sends container jobs to the queue of their memory class (<see cref="JobsOptions.QueueName"/>). Two implementations,
/// chosen by <see cref="JobsOptions.UsesServiceBus"/>: <see cref="ServiceBusJobDispatcher"/> (Azure) and
/// <see cref="StorageQueueJobDispatcher"/> (Storage queues; Azurite locally). The runner's side is Drp.Jobs.
/// </summary>
public interface IJobDispatcher
{
    /// <summary>Sends <paramref name="job"/> to the queue of <paramref name="memory"/>.</summary>
    Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default);
}

/// <summary>Jobs on Storage queues of an account (the system's: <c>StorageClients.Queues</c>; queues created on first use).</summary>
public sealed class StorageQueueJobDispatcher(QueueServiceClient queues) : IJobDispatcher
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<MemoryClass, Task<QueueClient>> _queues = new();

    public async Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default)
    {
        var queue = await _queues.GetOrAdd(memory, async m =>
        {
            var q = queues.GetQueueClient(JobsOptions.QueueName(m));
            await q.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
            return q;
        });
        await queue.SendMessageAsync(JobMessages.Serialize(job), cancellationToken: cancellationToken);
    }
}

/// <summary>Jobs on Azure Service Bus queues, one per memory class (infra/app/servicebus.bicep), sent with the SDK.</summary>
public sealed class ServiceBusJobDispatcher(Func<string, ServiceBusSender> senderFor) : IJobDispatcher
{
    public Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default) =>
        senderFor(JobsOptions.QueueName(memory)).SendMessageAsync(ServiceBusJobMessages.ToMessage(memory, job), cancellationToken);
}

/// <summary>The Service Bus form of jobs, shared by the dispatcher and the runner (escalation).</summary>
public static class ServiceBusJobMessages
{
    /// <summary>Application properties set on every job message (filters, the portal, and KEDA need no body parsing).</summary>
    public const string JobIdProperty = "drp-job-id", RunProperty = "drp-run", MemoryClassProperty = "drp-memory-class", QuantaProperty = "drp-quanta";

    /// <summary>
    /// A job as a Service Bus message: JSON body, message id = job id + class + dispatch (duplicate detection drops a
    /// resend of the same dispatch, never a new dispatch of a lost job), properties.
    /// </summary>
    public static ServiceBusMessage ToMessage(MemoryClass memory, JobMessage job) => new(JobMessages.Serialize(job))
    {
        MessageId = $"{job.JobId}@{memory.Name()}#{job.Dispatch}",
        ContentType = "application/json",
        Subject = "drp-job",
        ApplicationProperties =
        {
            [JobIdProperty] = job.JobId,
            [RunProperty] = job.Run,
            [MemoryClassProperty] = memory.Name(),
            [QuantaProperty] = job.Quanta.Count,
        },
    };
}
