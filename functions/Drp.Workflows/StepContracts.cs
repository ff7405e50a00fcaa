using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Core.Planning;

namespace Drp.Workflows;

// Payloads of the chunked step orchestration: ids, counts and blob references only. A job's quanta live in its plan
// blob, read by the job's own orchestration, never in a step's or a chunk's history.

/// <summary>
/// A step of the pipeline over every registered raw of an instrument, written to run collection <paramref name="Run"/>.
/// <paramref name="MaxJobsPerChunk"/> overrides the pipeline's value for the step (tests, small runs); <paramref name="Executor"/>
/// overrides where its jobs run (e.g. step 1 in container jobs when the Functions plan is short of memory).
/// </summary>
public sealed record StepInput(string Run, string Instrument, string Step, string CalibCollection = "calib", int? MaxJobsPerChunk = null, JobExecutor? Executor = null);

/// <summary>One planned chunk: its index, its jobs' plan blobs (<c>{Prefix}job-{index:D5}.json</c>, 0..Jobs-1) and its quanta count.</summary>
public sealed record ChunkRef(int Index, string Prefix, int Jobs, long Quanta);

/// <summary>A step's plan: its chunks in order, each of at most <paramref name="MaxJobsPerChunk"/> jobs.</summary>
public sealed record StepPlan(string Step, int MaxJobsPerChunk, IReadOnlyList<ChunkRef> Chunks)
{
    /// <summary>Jobs over every chunk.</summary>
    public int Jobs => Chunks.Sum(c => c.Jobs);

    /// <summary>Quanta over every chunk.</summary>
    public long Quanta => Chunks.Sum(c => c.Quanta);
}

/// <summary>Input of a chunk orchestration.</summary>
public sealed record ChunkInput(string Run, string Instrument, string CalibCollection, string Step, ChunkRef Chunk, JobExecutor? Executor = null);

/// <summary>Input of one job: where its plan blob is, and the step's executor override if any.</summary>
public sealed record JobInput(string Run, string Instrument, string CalibCollection, string Step, string PlanPath, JobExecutor? Executor = null);

/// <summary>
/// What a job orchestration needs from its plan blob: its id, its quanta (task and data id, in unit order) and its
/// execution settings: where it runs, its memory class and its heartbeat timeout (a container job silent for longer is lost).
/// </summary>
public sealed record JobWork(string Step, string JobId, IReadOnlyList<PlannedQuantum> Quanta,
    JobExecutor Executor = JobExecutor.Activity, MemoryClass Memory = MemoryClass.Standard, TimeSpan HeartbeatTimeout = default);

/// <summary>Outcome counts of a step's quanta (each unit of execution at a data id: a step-1 detector, a step-2 visit); the planned count alongside.</summary>
public sealed record OutcomeCounts(long PlannedQuanta, long Units, long Succeeded, long Failed, long Unprocessable, long Skipped)
{
    /// <summary>No work.</summary>
    public static OutcomeCounts Zero { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>The sum of two counts.</summary>
    public OutcomeCounts Add(OutcomeCounts o) => new(PlannedQuanta + o.PlannedQuanta, Units + o.Units, Succeeded + o.Succeeded, Failed + o.Failed, Unprocessable + o.Unprocessable, Skipped + o.Skipped);
}

/// <summary>
/// Fan-in of a job: its outcome counts and the software versions its ledger rows record, with their quanta counts
/// (a skipped quantum counts for the version that processed it; a quantum that failed as an activity for none).
/// </summary>
public sealed record JobSummary(string JobId, OutcomeCounts Counts, IReadOnlyList<VersionCount> SoftwareVersions);

/// <summary>Fan-in of a chunk: its jobs, the jobs that failed as a whole (e.g. an unreadable plan), their summed outcomes and software versions (no per-quantum detail: that is in the ledger).</summary>
public sealed record ChunkSummary(int Index, int Jobs, int FailedJobs, OutcomeCounts Counts, IReadOnlyList<VersionCount> SoftwareVersions);

/// <summary>Fan-in of a step: which software versions processed it, with how many units each (DP0.2 tracked this by hand).</summary>
public sealed record StepSummary(string Run, string Step, int Chunks, int Jobs, int FailedJobs, OutcomeCounts Counts, IReadOnlyList<VersionCount> SoftwareVersions);

/// <summary>Progress in a chunked step's custom status.</summary>
public sealed record ChunkedStepProgress(int ChunksTotal, int ChunksDone, int JobsTotal, int JobsDone, long Failed, long Unprocessable);

/// <summary>
/// A campaign: the pipeline's <paramref name="Steps"/> in order over an instrument's registered raws, into run
/// collection <paramref name="Run"/>, with a QA gate after each step: at most <paramref name="MaxFailedFraction"/> of
/// its units failed and no job failed as a whole; with <paramref name="RequireApproval"/>, an operator's approval too.
/// <paramref name="Executor"/> overrides where every step's jobs run (null: as the pipeline declares).
/// </summary>
public sealed record CampaignInput(string Run, string Instrument, IReadOnlyList<string> Steps, string CalibCollection = "calib", double MaxFailedFraction = 0.05, bool RequireApproval = false,
    JobExecutor? Executor = null);

/// <summary>An operator's decision at a gate (the payload of the campaign's approval event).</summary>
public sealed record GateDecision(bool Approved, string? Reason = null);

/// <summary>A campaign's custom status: what it is doing, at which step, and why (a gate's reason while it waits or stops).</summary>
public sealed record CampaignProgress(string Phase, string? Step, int StepsDone, int StepsTotal, string? Reason)
{
    /// <summary>Running a step.</summary>
    public const string Running = "running";

    /// <summary>Waiting for an operator's approval at a gate.</summary>
    public const string WaitingForApproval = "waiting-for-approval";

    /// <summary>Stopped at a gate (failed checks or a rejection) or by a failed step.</summary>
    public const string Stopped = "stopped";

    /// <summary>Every step done and every gate passed.</summary>
    public const string Completed = "completed";
}

/// <summary>Fan-in of a campaign: each step's summary, and where and why it stopped if it did.</summary>
public sealed record CampaignResult(string Run, IReadOnlyList<StepSummary> Steps, bool Completed, string? StoppedAfter, string? Reason);
