using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Drp.Core.Planning;
using Drp.Storage.Resilience;

namespace Drp.Jobs.Queues;

/// <summary>
/// Jobs on Azure Storage queues (Azurite locally): a receive hides the message for the visibility timeout, a renewal
/// extends it (a new pop receipt), abandoning makes it visible again after the delay, and dead-lettering moves it to
/// <c>{queue}-poison</c> as a <see cref="PoisonMessage"/> that keeps the reason. Storage queues count dequeues but
/// never dead-letter by themselves: the runner does, from <see cref="IJobLease.DeliveryCount"/>.
/// </summary>
public sealed class StorageJobQueue(QueueServiceClient queues, JobsOptions options) : IJobQueue
{
    private readonly QueueClient _jobs = queues.GetQueueClient(options.Queue);
    private readonly StorageQueueJobDispatcher _dispatcher = new(queues); // escalations go out the way the orchestrations send jobs
    private bool _created;

    public string Name => _jobs.Name;

    /// <summary>Where dead-lettered jobs go.</summary>
    public QueueClient Poison => queues.GetQueueClient(_jobs.Name + "-poison");

    public QueueClient Completions => queues.GetQueueClient(options.CompletionsQueue);

    public async Task<IJobLease?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        await EnsureQueuesAsync(cancellationToken);
        QueueMessage? message = (await _jobs.ReceiveMessageAsync(options.VisibilityTimeout, cancellationToken)).Value;
        return message is null ? null : new Lease(this, message);
    }

    public Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default) =>
        _dispatcher.SendAsync(memory, job, cancellationToken);

    public async Task SendCompletionAsync(JobCompletion completion, CancellationToken cancellationToken = default)
    {
        await EnsureQueuesAsync(cancellationToken);
        await Completions.SendMessageAsync(JobMessages.Serialize(completion), cancellationToken: cancellationToken);
    }

    private async Task EnsureQueuesAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }
        await _jobs.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await Completions.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        _created = true;
    }

    private sealed class Lease(StorageJobQueue owner, QueueMessage message) : IJobLease
    {
        // Each update hands out a new pop receipt; the runner's heartbeat and its settlement never overlap.
        private string _popReceipt = message.PopReceipt;

        public string MessageId => message.MessageId;

        public int DeliveryCount => (int)message.DequeueCount;

        public BinaryData Body => message.Body;

        public TimeSpan LockDuration => owner.VisibilityTimeout;

        public async Task RenewAsync(CancellationToken cancellationToken = default) =>
            _popReceipt = (await owner._jobs.UpdateMessageAsync(message.MessageId, _popReceipt, visibilityTimeout: owner.VisibilityTimeout,
                cancellationToken: cancellationToken)).Value.PopReceipt;

        public Task CompleteAsync(CancellationToken cancellationToken = default) =>
            owner._jobs.DeleteReceivedAsync(message.MessageId, _popReceipt, cancellationToken);

        public async Task AbandonAsync(TimeSpan delay, CancellationToken cancellationToken = default)
        {
            try
            {
                _popReceipt = (await owner._jobs.UpdateMessageAsync(message.MessageId, _popReceipt, visibilityTimeout: delay,
                    cancellationToken: cancellationToken)).Value.PopReceipt;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // An earlier attempt's response was lost (the pop receipt changed) or another receiver holds it: it comes back anyway.
            }
        }

        public async Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken = default)
        {
            var poison = new PoisonMessage(message.MessageId, DeliveryCount, reason, description, message.Body.ToString());
            await owner.Poison.SendMessageAsync(JobMessages.Serialize(poison), cancellationToken: cancellationToken);
            await owner._jobs.DeleteReceivedAsync(message.MessageId, _popReceipt, cancellationToken);
        }
    }

    private TimeSpan VisibilityTimeout => options.VisibilityTimeout;
}

/// <summary>A dead-lettered job on a Storage poison queue: the original body with the reason it was given up.</summary>
public sealed record PoisonMessage(string MessageId, int DeliveryCount, string Reason, string Description, string Body);
