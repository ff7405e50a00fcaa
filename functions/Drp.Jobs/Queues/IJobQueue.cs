using Drp.Core.Planning;

namespace Drp.Jobs.Queues;

/// <summary>
/// Where a runner takes jobs from and reports to: the queue of its memory class, the other classes' queues (for
/// escalation) and the completions queue. Two implementations: <see cref="ServiceBusJobQueue"/> (Azure) and
/// <see cref="StorageJobQueue"/> (Storage queues; Azurite locally).
/// </summary>
public interface IJobQueue
{
    /// <summary>The queue this runner receives from.</summary>
    string Name { get; }

    /// <summary>The next job message, locked (or invisible) for this runner; null when the queue is empty.</summary>
    Task<IJobLease?> ReceiveAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends a job to the queue of a memory class (an escalated job goes to the next class's queue).</summary>
    Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default);

    /// <summary>Sends a completion to the completions queue.</summary>
    Task SendCompletionAsync(JobCompletion completion, CancellationToken cancellationToken = default);
}

/// <summary>
/// One delivery of a job message, held by this runner until it settles it exactly once: complete, abandon (with a
/// delay before the message is seen again), or dead-letter with a reason. Renew before <see cref="LockDuration"/> runs out.
/// </summary>
public interface IJobLease
{
    string MessageId { get; }

    /// <summary>1 on the first delivery; counts every receive, including those of runners that died.</summary>
    int DeliveryCount { get; }

    BinaryData Body { get; }

    /// <summary>How long the message stays locked after a receive or a renewal.</summary>
    TimeSpan LockDuration { get; }

    Task RenewAsync(CancellationToken cancellationToken = default);

    Task CompleteAsync(CancellationToken cancellationToken = default);

    Task AbandonAsync(TimeSpan delay, CancellationToken cancellationToken = default);

    Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken = default);
}
