using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Core.Planning;
using Drp.Storage.Registry;

namespace Drp.Execution.Jobs;

/// <summary>
/// A job: a cluster of planned quanta of any step sent to a container job (e.g. the detectors of one visit), in the
/// run and collections they read and write, with the heartbeat interval and timeout of its task types (from the
/// pipeline definition; the runner's option when absent). <see cref="ReplyTo"/> is the instance id of the orchestration
/// awaiting the job (its completions are raised there as events); <see cref="Dispatch"/> counts the orchestration's
/// sends of the job (a job declared lost is sent again).
/// </summary>
public sealed record JobMessage(string JobId, string Run, string Instrument, string CalibCollection, string Step, IReadOnlyList<PlannedQuantum> Quanta,
    TimeSpan? HeartbeatInterval = null, TimeSpan? HeartbeatTimeout = null, string? ReplyTo = null, int Dispatch = 1)
{
    /// <summary>The request the runner executes for one of the job's quanta.</summary>
    public QuantumRequest RequestFor(PlannedQuantum quantum) => new(Run, Instrument, CalibCollection, Step, quantum);
}

/// <summary>What a job did: one result per quantum, every quantum attempted.</summary>
public sealed record JobResult(string JobId, IReadOnlyList<QuantumResult> Quanta, double ElapsedMs);

/// <summary>
/// Sent after every delivery of a job: each quantum's outcome, the failure kind if any, and what happens next
/// (<see cref="Decision"/>: done, retried in the same class after a backoff, escalated to the next memory class,
/// given up, or never retried). <see cref="PreviousDeliveryLost"/> says an earlier runner died holding the job.
/// <see cref="ReplyTo"/> and <see cref="Dispatch"/> echo the job message's.
/// </summary>
public sealed record JobCompletion(
    string JobId,
    string Run,
    string MemoryClass,
    int Delivery,
    IReadOnlyList<QuantumResult> Quanta,
    double ElapsedMs,
    FailureKind? Failure,
    RetryDecision Decision,
    bool PreviousDeliveryLost,
    string? ReplyTo = null,
    int Dispatch = 1)
{
    /// <summary>True when no further delivery of this job follows (done, never retried, or given up).</summary>
    [JsonIgnore]
    public bool IsFinal => Decision.Action is RetryAction.Done or RetryAction.Never or RetryAction.GiveUp;

    public int Succeeded => Quanta.Count(q => q.State == QuantumState.Succeeded);
}

/// <summary>A queue message that is not a job (bad JSON, no id, no quanta): dead-lettered with this message as the reason.</summary>
public sealed class JobMessageFormatException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>The one JSON form of jobs and completions on every queue.</summary>
public static class JobMessages
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static BinaryData Serialize<T>(T value) => BinaryData.FromObjectAsJson(value, Json);

    /// <summary>
    /// The job message of a planned job, and the memory class whose queue it goes to: its quanta, with the heartbeat
    /// interval and timeout the planner took from the pipeline definition (the shortest interval and longest timeout of
    /// the step's tasks), addressed to the orchestration <paramref name="replyTo"/> awaiting it.
    /// </summary>
    public static (MemoryClass Memory, JobMessage Job) For(string run, string instrument, string calibCollection, PlannedJob job, string? replyTo = null, int dispatch = 1) =>
        (job.Memory, new JobMessage(job.JobId, run, instrument, calibCollection, job.Step, job.Quanta, job.HeartbeatInterval, job.HeartbeatTimeout, replyTo, dispatch));

    /// <summary>Parses a job; throws <see cref="JobMessageFormatException"/> for anything that is not one.</summary>
    public static JobMessage Parse(BinaryData body) =>
        Parse<JobMessage>(body, "a job", j => !string.IsNullOrWhiteSpace(j.JobId) && !string.IsNullOrWhiteSpace(j.Run) && !string.IsNullOrWhiteSpace(j.Step) && j.Quanta is { Count: > 0 },
            "empty, or without an id, run, step or quanta");

    /// <summary>Parses a completion; throws <see cref="JobMessageFormatException"/> for anything that is not one.</summary>
    public static JobCompletion ParseCompletion(BinaryData body) =>
        Parse<JobCompletion>(body, "a job completion", c => !string.IsNullOrWhiteSpace(c.JobId) && c.Decision is not null && c.Quanta is not null,
            "empty, or without a job id, decision or quanta");

    private static T Parse<T>(BinaryData body, string what, Func<T, bool> complete, string missing) where T : class
    {
        T? value;
        try
        {
            value = body.ToObjectFromJson<T>(Json);
        }
        catch (JsonException e)
        {
            throw new JobMessageFormatException($"not {what}: {e.Message}", e);
        }
        return value is not null && complete(value) ? value : throw new JobMessageFormatException($"not {what}: {missing}");
    }
}
