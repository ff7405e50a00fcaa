using Drp.Execution;
using System.Collections.Concurrent;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Drp.Workflows.Orchestrators;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Drp.Cli;

/// <summary>
/// A synthetic step of N step-1 jobs (one visit with one detector each) for measuring orchestration overhead: planned
/// by the real planner and plan writer into memory, and run by the real <see cref="StepOrchestrator"/> /
/// <see cref="ChunkOrchestrator"/> / <see cref="ProcessJobOrchestrator"/> with stand-in activities under the real
/// names that do no science and no I/O. Planning is deterministic, so every worker process builds the same plan.
/// </summary>
internal static class StepBench
{
    public const string Run = "bench";
    public const string Step = "step1";
    public const string Instrument = "LSSTCam";

    /// <summary>Plans <paramref name="jobs"/> one-detector visits in chunks of at most <paramref name="maxJobsPerChunk"/>.</summary>
    public static async Task<StepBenchPlan> PlanAsync(int jobs, int maxJobsPerChunk, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxJobsPerChunk, 1);
        var survey = new SyntheticSurvey(Instrument, jobs, Detectors: 1, DetectorsPerVisit: 1, Tracts: 1, PatchesPerTract: 1, ["r"], VisitsPerPatchBand: 1);
        var blobs = new ConcurrentDictionary<string, BinaryData>(StringComparer.Ordinal);
        var plan = await StepPlanWriter.WriteAsync(new QuantumPlanner(PipelineDefinitionLoader.LoadDefault()), Run, Step, Instrument,
            new SyntheticSurveyReader(survey), maxJobsPerChunk, (path, data, _) => { blobs[path] = data; return Task.CompletedTask; }, cancellationToken);
        return new StepBenchPlan(plan, blobs);
    }

    /// <summary>The real step orchestrators and the stand-in activities; <paramref name="counters"/> counts what ran here.</summary>
    public static void Register(DurableTaskRegistry tasks, StepBenchPlan plan, StepBenchCounters counters)
    {
        tasks.AddOrchestrator<StepOrchestrator>();
        tasks.AddOrchestrator<ChunkOrchestrator>();
        tasks.AddOrchestrator<ProcessJobOrchestrator>();
        tasks.AddActivityFunc<StepInput, StepPlan>(nameof(PlanStepActivity), (_, _) => plan.Plan);
        tasks.AddActivityFunc<JobInput, JobWork>(nameof(LoadJobActivity), (_, j) =>
        {
            Interlocked.Increment(ref counters.LoadJob);
            return plan.Blobs.TryGetValue(j.PlanPath, out var data)
                ? LoadJobActivity.ToWork(data.ToObjectFromJson<PlannedJob>(StepPlanWriter.Json)!)
                : throw new InvalidOperationException($"no plan blob {j.PlanPath}");
        });
        tasks.AddActivityFunc<QuantumRequest, QuantumResult>(nameof(RunQuantumActivity), (_, r) =>
        {
            Interlocked.Increment(ref counters.RunQuantum);
            return new QuantumResult(r.Quantum.Task, r.Quantum.DataId, QuantumState.Succeeded, 1, 0, null, null, false, 0);
        });
    }

    /// <summary>Schedules the step, reports its progress every <paramref name="pollInterval"/>, and returns its summary.</summary>
    public static async Task<StepSummary> RunAsync(DurableTaskClient client, string instanceId, int maxJobsPerChunk,
        Action<ChunkedStepProgress>? progress, TimeSpan pollInterval, CancellationToken cancellationToken = default)
    {
        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(StepOrchestrator),
            new StepInput(Run, Instrument, Step, MaxJobsPerChunk: maxJobsPerChunk), new StartOrchestrationOptions(instanceId), cancellationToken);
        while (true)
        {
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            poll.CancelAfter(pollInterval);
            OrchestrationMetadata state;
            try
            {
                state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, poll.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                var running = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
                if (progress is not null && running?.SerializedCustomStatus is not null)
                {
                    progress(running.ReadCustomStatusAs<ChunkedStepProgress>()!);
                }
                continue;
            }
            if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"step {id} ended {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
            }
            return state.ReadOutputAs<StepSummary>()!;
        }
    }

    /// <summary>Why a summary does not account for every planned job exactly once, or null when it does.</summary>
    public static string? CheckSummary(StepBenchPlan plan, StepSummary summary)
    {
        long units = plan.Jobs; // one detector per job
        var expected = new OutcomeCounts(plan.Plan.Quanta, units, units, 0, 0, 0);
        if (summary.Chunks != plan.Plan.Chunks.Count || summary.Jobs != plan.Jobs || summary.FailedJobs != 0 || summary.Counts != expected)
        {
            return $"fan-in summary {summary} does not match the plan ({plan.Plan.Chunks.Count} chunks, {plan.Jobs} jobs, expected counts {expected})";
        }
        return null;
    }
}

/// <summary>A planned bench step: the plan and its job plan blobs, in memory.</summary>
internal sealed record StepBenchPlan(StepPlan Plan, IReadOnlyDictionary<string, BinaryData> Blobs)
{
    public int Jobs => Plan.Jobs;
}

/// <summary>Stand-in activity executions in this process.</summary>
internal sealed class StepBenchCounters
{
    public long LoadJob;
    public long RunQuantum;

    public long Activities => Interlocked.Read(ref LoadJob) + Interlocked.Read(ref RunQuantum);
}
