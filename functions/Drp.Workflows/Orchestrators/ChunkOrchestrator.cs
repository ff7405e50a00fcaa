using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// One chunk of a step: its jobs (at most the step's <c>MaxJobsPerChunk</c>) as <see cref="ProcessJobOrchestrator"/>
/// sub-orchestrations, <see cref="MaxJobsInFlight"/> at a time, each given only its plan blob. A job that fails as a
/// whole is counted and its siblings carry on. Returns summed counts, not per-quantum results (those are in the ledger).
/// </summary>
public sealed class ChunkOrchestrator : TaskOrchestrator<ChunkInput, ChunkSummary>
{
    /// <summary>Jobs in flight at once in a chunk: bounds the history and the load one chunk puts on the workers.</summary>
    public const int MaxJobsInFlight = 16;

    /// <inheritdoc />
    public override async Task<ChunkSummary> RunAsync(TaskOrchestrationContext context, ChunkInput input)
    {
        var counts = OutcomeCounts.Zero;
        int failedJobs = 0;
        IReadOnlyList<VersionCount> versions = [];
        var inFlight = new List<Task<JobSummary?>>();
        int next = 0;
        while (next < input.Chunk.Jobs || inFlight.Count > 0)
        {
            while (next < input.Chunk.Jobs && inFlight.Count < MaxJobsInFlight)
            {
                int j = next++;
                inFlight.Add(RunJobAsync(context, new JobInput(input.Run, input.Instrument, input.CalibCollection, input.Step, Planning.StepPlanWriter.JobPath(input.Chunk, j), input.Executor), j));
            }
            var finished = await Task.WhenAny(inFlight);
            inFlight.Remove(finished);
            if (await finished is { } summary)
            {
                counts = counts.Add(summary.Counts);
                versions = VersionCount.Merge(versions.Concat(summary.SoftwareVersions));
            }
            else
            {
                failedJobs++;
            }
        }
        return new ChunkSummary(input.Chunk.Index, input.Chunk.Jobs, failedJobs, counts, versions);
    }

    private static async Task<JobSummary?> RunJobAsync(TaskOrchestrationContext context, JobInput job, int index)
    {
        try
        {
            return await context.CallSubOrchestratorAsync<JobSummary>(
                nameof(ProcessJobOrchestrator), job, new SubOrchestrationOptions(RetryPolicies.Transient, $"{context.InstanceId}:job:{index}"));
        }
        catch (TaskFailedException)
        {
            return null; // the job's own history says why; the chunk carries on
        }
    }
}
