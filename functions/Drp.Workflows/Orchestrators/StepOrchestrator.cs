using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// A pipeline step, chunked: plans it (<see cref="PlanStepActivity"/>: jobs into plan blobs, chunks of at most
/// <c>MaxJobsPerChunk</c>), fans out one <see cref="ChunkOrchestrator"/> per chunk (a few at a time), never one giant
/// fan-out (DP0.2: > 100,000 jobs per task stalled PanDA until 30,000-job chunks, RTN-041), and fans in a summary.
/// Progress is the custom status. Running it again for the same run skips every quantum the ledger has as succeeded.
/// </summary>
public sealed class StepOrchestrator : TaskOrchestrator<StepInput, StepSummary>
{
    /// <summary>Chunks in flight at once; each runs <see cref="ChunkOrchestrator.MaxJobsInFlight"/> jobs at a time.</summary>
    public const int MaxChunksInFlight = 2;

    /// <summary>A run's step has one instance id, so it runs at most once at a time.</summary>
    public static string InstanceIdFor(string run, string step) => $"step-{step}-{run}";

    /// <inheritdoc />
    public override async Task<StepSummary> RunAsync(TaskOrchestrationContext context, StepInput input)
    {
        var plan = await context.CallActivityAsync<StepPlan>(nameof(PlanStepActivity), input, RetryPolicies.Transient);
        var done = new List<ChunkSummary>(plan.Chunks.Count);
        var inFlight = new List<Task<ChunkSummary>>();
        int next = 0;
        context.SetCustomStatus(Progress(plan, done));
        while (next < plan.Chunks.Count || inFlight.Count > 0)
        {
            while (next < plan.Chunks.Count && inFlight.Count < MaxChunksInFlight)
            {
                var chunk = plan.Chunks[next++];
                inFlight.Add(context.CallSubOrchestratorAsync<ChunkSummary>(
                    nameof(ChunkOrchestrator),
                    new ChunkInput(input.Run, input.Instrument, input.CalibCollection, input.Step, chunk, input.Executor),
                    new SubOrchestrationOptions(RetryPolicies.Transient, $"{context.InstanceId}:chunk:{chunk.Index}")));
            }
            var finished = await Task.WhenAny(inFlight);
            inFlight.Remove(finished);
            done.Add(await finished);
            context.SetCustomStatus(Progress(plan, done));
        }
        var counts = done.Aggregate(OutcomeCounts.Zero, (sum, c) => sum.Add(c.Counts));
        return new StepSummary(input.Run, input.Step, plan.Chunks.Count, plan.Jobs, done.Sum(c => c.FailedJobs), counts,
            VersionCount.Merge(done.SelectMany(c => c.SoftwareVersions)));
    }

    private static ChunkedStepProgress Progress(StepPlan plan, List<ChunkSummary> done) => new(
        plan.Chunks.Count, done.Count, plan.Jobs, done.Sum(c => c.Jobs), done.Sum(c => c.Counts.Failed), done.Sum(c => c.Counts.Unprocessable));
}
