using Drp.Core.Planning;

namespace Drp.Execution.Jobs;

/// <summary>Why a delivery of a job did not finish all its quanta.</summary>
public enum FailureKind
{
    /// <summary>A fault that may pass (I/O, throttling, timeouts): retry in the same class after a backoff.</summary>
    Transient,

    /// <summary>A quantum ran out of memory: retry in the next memory class.</summary>
    OutOfMemory,

    /// <summary>The input itself is bad (typed permanent errors): never retried.</summary>
    Unprocessable,

    /// <summary>The runner holding the job died (no heartbeat, its lock or visibility lapsed): the job is retried.</summary>
    LostHeartbeat,
}

/// <summary>What happens to a job after a delivery.</summary>
public enum RetryAction
{
    /// <summary>Nothing failed (unprocessable quanta are outcomes, not failures).</summary>
    Done,

    /// <summary>Again, in <see cref="RetryDecision.MemoryClass"/> (the same class), after <see cref="RetryDecision.Backoff"/>.</summary>
    SameClass,

    /// <summary>Again, in the next larger <see cref="RetryDecision.MemoryClass"/>.</summary>
    NextClass,

    /// <summary>No retry left: dead-lettered with <see cref="RetryDecision.Reason"/>.</summary>
    GiveUp,

    /// <summary>Unprocessable: retrying cannot help.</summary>
    Never,
}

/// <summary>A retry decision; made only by <see cref="JobRetryPolicy.Decide"/>.</summary>
public sealed record RetryDecision(RetryAction Action, MemoryClass? MemoryClass = null, TimeSpan Backoff = default, string? Reason = null)
{
    public static RetryDecision Done { get; } = new(RetryAction.Done);
}
