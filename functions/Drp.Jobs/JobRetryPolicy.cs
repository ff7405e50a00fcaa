using Drp.Storage.Registry;
using Drp.Core.Planning;

namespace Drp.Jobs;

/// <summary>
/// The retry rules of container jobs, as pure functions: transient -> same class with exponential backoff while
/// deliveries remain; out of memory -> the next memory class (standard -> highmem -> extra-highmem), then give up;
/// unprocessable -> never; lost heartbeat -> retried at once in the same class while deliveries remain.
/// </summary>
public sealed record JobRetryPolicy(TimeSpan BaseBackoff, TimeSpan MaxBackoff)
{
    public static JobRetryPolicy Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));

    /// <summary>Error types that mean "out of memory" (a failure carries its concrete type's full name).</summary>
    public static readonly IReadOnlyList<string> OutOfMemoryTypes = [typeof(OutOfMemoryException).FullName!, typeof(InsufficientMemoryException).FullName!];

    /// <param name="failure">What went wrong on this delivery.</param>
    /// <param name="current">The memory class the job ran in.</param>
    /// <param name="delivery">This delivery's number (1 = first).</param>
    /// <param name="maxDeliveries">Deliveries allowed in one class.</param>
    public RetryDecision Decide(FailureKind failure, MemoryClass current, int delivery, int maxDeliveries) => failure switch
    {
        FailureKind.Unprocessable => new(RetryAction.Never, Reason: "unprocessable input: retrying cannot help"),
        FailureKind.OutOfMemory => current.Next() is { } next
            ? new(RetryAction.NextClass, next, TimeSpan.Zero, $"out of memory in {current.Name()}: escalated to {next.Name()}")
            : new(RetryAction.GiveUp, current, Reason: $"out of memory in {current.Name()}, the largest memory class"),
        FailureKind.Transient or FailureKind.LostHeartbeat when delivery >= maxDeliveries =>
            new(RetryAction.GiveUp, current, Reason: $"{failure} failure on delivery {delivery} of {maxDeliveries}"),
        FailureKind.Transient => new(RetryAction.SameClass, current, Backoff(delivery), $"transient failure on delivery {delivery} of {maxDeliveries}"),
        FailureKind.LostHeartbeat => new(RetryAction.SameClass, current, TimeSpan.Zero, $"the runner of delivery {delivery} was lost"),
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, "not a failure kind"),
    };

    /// <summary>Exponential backoff after a delivery: base, 2 x base, 4 x base, ... capped at <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff(int delivery)
    {
        double factor = Math.Pow(2, Math.Clamp(delivery - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(BaseBackoff.Ticks * factor, MaxBackoff.Ticks));
    }

    /// <summary>
    /// The failure kind of a delivery from its quanta's outcomes: null when no quantum failed; out of memory when any
    /// did (a bigger class serves the others too); transient when any other failure is not a permanent type;
    /// unprocessable when every failure is.
    /// </summary>
    public static FailureKind? Classify(IEnumerable<QuantumResult> quanta)
    {
        var failed = quanta.Where(q => q.State == QuantumState.Failed).ToList();
        if (failed.Count == 0)
        {
            return null;
        }
        if (failed.Any(q => OutOfMemoryTypes.Contains(q.ErrorClass)))
        {
            return FailureKind.OutOfMemory;
        }
        return failed.All(q => PermanentErrors.IsPermanent(q.ErrorClass)) ? FailureKind.Unprocessable : FailureKind.Transient;
    }
}
