using Drp.Local;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Drp.Core.Datasets;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Workflows.Orchestrators;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace Drp.Workflows.Tests;

/// <summary>
/// The chunked step (<see cref="StepOrchestrator"/> -> <see cref="ChunkOrchestrator"/> -> <see cref="ProcessJobOrchestrator"/>)
/// on the in-process Durable test host, with a real plan from the repository pipeline written to an in-memory blob store
/// and the storage activities replaced by recorders under their real names.
/// </summary>
public sealed class ChunkedStepOrchestrationTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private static readonly PipelineDefinition s_pipeline = PipelineDefinitionLoader.LoadDefault();
    private const string OldVersion = "1.0.0+1111111111111111111111111111111111111111";
    private const string NewVersion = "1.0.1+2222222222222222222222222222222222222222";

    /// <summary>Visits 100..104, detectors 0..2 each: 5 step-1 jobs.</summary>
    private static IReadOnlyList<DataId> Registry(int visits = 5, int detectors = 3) =>
        [.. Enumerable.Range(100, visits).SelectMany(v => Enumerable.Range(0, detectors).Select(d => new DataId("LSSTCam", v, d, Band: v % 2 == 0 ? "r" : "i")))];

    private static async Task<(StepPlan Plan, ConcurrentDictionary<string, BinaryData> Blobs)> PlanAsync(IReadOnlyList<DataId> registry, int maxJobsPerChunk)
    {
        var blobs = new ConcurrentDictionary<string, BinaryData>();
        var plan = await StepPlanWriter.WriteAsync(new QuantumPlanner(s_pipeline), "run", "step1", "LSSTCam", new ListReader(registry), maxJobsPerChunk,
            (path, data, _) => { blobs[path] = data; return Task.CompletedTask; });
        return (plan, blobs);
    }

    [Fact]
    public async Task StepPlanWriter_FiveJobsInChunksOfTwo_WritesOneBlobPerJobAtDeterministicPaths()
    {
        var (plan, blobs) = await PlanAsync(Registry(), maxJobsPerChunk: 2);

        Assert.Equal([2, 2, 1], plan.Chunks.Select(c => c.Jobs));
        Assert.Equal(5 * 3, plan.Quanta); // the 4 step-1 tasks run fused: one processFrame quantum per (visit, detector)
        Assert.Equal(
            ["run/_plans/step1/chunk-00000/job-00000.json", "run/_plans/step1/chunk-00000/job-00001.json",
             "run/_plans/step1/chunk-00001/job-00000.json", "run/_plans/step1/chunk-00001/job-00001.json",
             "run/_plans/step1/chunk-00002/job-00000.json"],
            blobs.Keys.Order(StringComparer.Ordinal));
        var work = LoadJobActivity.ToWork(blobs["run/_plans/step1/chunk-00002/job-00000.json"].ToObjectFromJson<PlannedJob>(StepPlanWriter.Json)!);
        Assert.All(work.Quanta, q => Assert.Equal(("processFrame", 104L, "r"), (q.Task, q.DataId.Visit!.Value, q.DataId.Band)));
        Assert.Equal([0, 1, 2], work.Quanta.Select(q => q.DataId.Detector!.Value));
    }

    [Fact]
    public async Task StepOrchestrator_FiveJobsInChunksOfTwo_ThreeChunkSubOrchestrationsAndEveryQuantumOnce()
    {
        var (plan, blobs) = await PlanAsync(Registry(), maxJobsPerChunk: 2);
        var seen = new ConcurrentDictionary<(long, int), int>();
        await using var host = await StartAsync(plan, blobs, seen, q =>
            q is { Visit: 103, Detector: 1 } ? throw new IOException("storage went away")
            : q is { Visit: 104, Detector: 0 } ? QuantumState.Unprocessable
            : QuantumState.Succeeded);


        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(StepOrchestrator), new StepInput("run", "LSSTCam", "step1", MaxJobsPerChunk: 2));
        var summary = await WaitAsync<StepSummary>(host.Client, id);

        Assert.Equal(15, seen.Count);
        Assert.All(seen, kv => Assert.Equal(kv.Key == (103, 1) ? 3 : 1, kv.Value)); // only the transient failure is retried
        Assert.Equal(("run", "step1", 3, 5, 0, new OutcomeCounts(15, 15, 13, 1, 1, 0)),
            (summary.Run, summary.Step, summary.Chunks, summary.Jobs, summary.FailedJobs, summary.Counts));
        // Visits 100-102 ran on one version, 103-104 on another; the quantum that failed as an activity has none.
        Assert.Equal([new VersionCount(OldVersion, 9), new VersionCount(NewVersion, 5)], summary.SoftwareVersions);
        var chunkJobs = new List<int>();
        for (int c = 0; c < 3; c++)
        {
            var chunk = await host.Client.GetInstanceAsync($"{id}:chunk:{c}", getInputsAndOutputs: true);
            chunkJobs.Add(chunk!.ReadOutputAs<ChunkSummary>()!.Jobs);
        }
        Assert.Equal([2, 2, 1], chunkJobs); // never more than MaxJobsPerChunk jobs in one fan-out
        var state = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        Assert.Equal(new ChunkedStepProgress(3, 3, 5, 5, 1, 1), state!.ReadCustomStatusAs<ChunkedStepProgress>());
    }

    [Fact]
    public async Task ChunkOrchestrator_OneJobsPlanUnreadable_CountsItAndRunsTheOthers()
    {
        var (plan, blobs) = await PlanAsync(Registry(visits: 3), maxJobsPerChunk: 10);
        blobs.TryRemove(StepPlanWriter.JobPath(plan.Chunks[0], 1), out _);
        var seen = new ConcurrentDictionary<(long, int), int>();
        await using var host = await StartAsync(plan, blobs, seen, _ => QuantumState.Succeeded);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ChunkOrchestrator), new ChunkInput("run", "LSSTCam", "calib", "step1", plan.Chunks[0]));
        var summary = await WaitAsync<ChunkSummary>(host.Client, id);

        Assert.Equal((0, 3, 1, new OutcomeCounts(6, 6, 6, 0, 0, 0)), (summary.Index, summary.Jobs, summary.FailedJobs, summary.Counts));
        Assert.Equal([new VersionCount(OldVersion, 6)], summary.SoftwareVersions);
        Assert.Equal([100, 102], seen.Keys.Select(k => k.Item1).Distinct().Order().Select(v => (int)v));
    }

    [Fact]
    public async Task PlanStepActivity_StepWithoutTaskClasses_FailsBeforeReadingTheRegistry()
    {
        // No storage call happens before the check: the account need not exist.
        var storage = new Drp.Storage.StorageClients(new Drp.Storage.DrpStorageOptions { ConnectionString = "UseDevelopmentStorage=true" });
        var activity = new PlanStepActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, Microsoft.Extensions.Logging.Abstractions.NullLogger<PlanStepActivity>.Instance);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => activity.ExecuteAsync(new StepInput("run", "LSSTCam", "step3")));

        Assert.Contains("step 'step3' cannot run: no task class for makeWarp", e.Message);
        Assert.Contains("runnable: step1, step2, step7", e.Message);
    }

    private static Task<DurableTaskTestHost> StartAsync(
        StepPlan plan, ConcurrentDictionary<string, BinaryData> blobs, ConcurrentDictionary<(long, int), int> seen, Func<DataId, QuantumState> outcome) =>
        InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<StepOrchestrator>();
            tasks.AddOrchestrator<ChunkOrchestrator>();
            tasks.AddOrchestrator<ProcessJobOrchestrator>();
            tasks.AddActivityFunc<StepInput, StepPlan>(nameof(PlanStepActivity), (_, _) => plan);
            tasks.AddActivityFunc<JobInput, JobWork>(nameof(LoadJobActivity), (_, j) =>
                blobs.TryGetValue(j.PlanPath, out var data)
                    ? LoadJobActivity.ToWork(data.ToObjectFromJson<PlannedJob>(StepPlanWriter.Json)!)
                    : throw new InvalidOperationException($"no plan blob {j.PlanPath}"));
            tasks.AddActivityFunc<Drp.Execution.QuantumRequest, Drp.Execution.QuantumResult>(nameof(RunQuantumActivity), (_, r) =>
            {
                var id = r.Quantum.DataId;
                seen.AddOrUpdate((id.Visit!.Value, id.Detector!.Value), 1, (_, n) => n + 1);
                return new Drp.Execution.QuantumResult(r.Quantum.Task, id, outcome(id), 1, 1, null, null, false, 1, id.Visit <= 102 ? OldVersion : NewVersion);
            });
        });

    private static async Task<T> WaitAsync<T>(DurableTaskClient client, string id)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
        Assert.True(state.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
        return state.ReadOutputAs<T>()!;
    }

    /// <summary>A registry in a list, already in (visit, detector) order.</summary>
    private sealed class ListReader(IReadOnlyList<DataId> ids) : IDataIdReader
    {
        public async IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            foreach (var id in ids)
            {
                yield return DataIdComparer.Project(id, query.Dimensions);
            }
        }
    }
}
