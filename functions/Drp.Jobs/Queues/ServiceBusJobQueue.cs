using Azure.Messaging.ServiceBus;
using Azure.Storage.Queues;
using Drp.Core.Planning;

namespace Drp.Jobs.Queues;

/// <summary>
/// Jobs on Azure Service Bus, one queue per memory class (<see cref="JobsOptions.QueueName"/>; infra/app/servicebus.bicep; messages by <see cref="ServiceBusJobMessages"/>):
/// peek-lock receives, <see cref="ServiceBusReceiver.RenewMessageLockAsync(ServiceBusReceivedMessage, CancellationToken)"/>
/// at every heartbeat, complete, abandon, and dead-letter with the reason and a description. Completions go to the
/// Storage completions queue (<paramref name="completions"/>), where the Function App's queue trigger relays them. Service Bus has no "abandon with a delay": the lease keeps its lock for
/// the delay (at most a quarter of the lock duration) and then abandons, so the delivery count still rises by one.
/// </summary>
public sealed class ServiceBusJobQueue(ServiceBusReceiver receiver, Func<string, ServiceBusSender> senderFor, QueueClient completions, TimeSpan receiveWait) : IJobQueue
{
    private readonly ServiceBusJobDispatcher _dispatcher = new(senderFor); // escalations go out the way the orchestrations send jobs

    public string Name => receiver.EntityPath;

    public async Task<IJobLease?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var message = await receiver.ReceiveMessageAsync(receiveWait, cancellationToken);
        return message is null ? null : new Lease(receiver, message);
    }

    public Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default) =>
        _dispatcher.SendAsync(memory, job, cancellationToken);

    public Task SendCompletionAsync(JobCompletion completion, CancellationToken cancellationToken = default) =>
        completions.SendMessageAsync(JobMessages.Serialize(completion), cancellationToken: cancellationToken);

    private sealed class Lease(ServiceBusReceiver receiver, ServiceBusReceivedMessage message) : IJobLease
    {
        // The lock as first granted: renewals extend it by the same duration (the queue's lockDuration).
        private readonly TimeSpan _lockDuration = message.LockedUntil - DateTimeOffset.UtcNow is { } d && d > TimeSpan.Zero ? d : TimeSpan.FromSeconds(30);

        public string MessageId => message.MessageId;

        public int DeliveryCount => message.DeliveryCount;

        public BinaryData Body => message.Body;

        public TimeSpan LockDuration => _lockDuration;

        public Task RenewAsync(CancellationToken cancellationToken = default) => receiver.RenewMessageLockAsync(message, cancellationToken);

        public Task CompleteAsync(CancellationToken cancellationToken = default) => receiver.CompleteMessageAsync(message, cancellationToken);

        public async Task AbandonAsync(TimeSpan delay, CancellationToken cancellationToken = default)
        {
            // Hold the lock for the backoff, then let the message go. The last renewal was at most half a lock ago
            // (the heartbeat's period), so a quarter of the lock is the longest hold that still ends inside it.
            var wait = delay < _lockDuration / 4 ? delay : _lockDuration / 4;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
            await receiver.AbandonMessageAsync(message, cancellationToken: cancellationToken);
        }

        public Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken = default) =>
            receiver.DeadLetterMessageAsync(message, reason, description, cancellationToken);
    }
}
