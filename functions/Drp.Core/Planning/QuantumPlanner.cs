using System.Runtime.CompilerServices;
using Drp.Core.Datasets;

namespace Drp.Core.Planning;

/// <summary>
/// Builds a step's quantum graph from what exists (an <see cref="IDataIdReader"/>) and the pipeline definition, and
/// clusters it into jobs, streaming: it holds one cluster's data ids at a time (a visit's detectors, a patch's
/// visit overlaps), never the step. DP0.2's graph builds ran out of memory at 12 GB holding the whole graph (RTN-041).
/// Output is deterministic: jobs in ascending cluster order, quanta in unit order (a fused group is one unit), then data id order.
/// </summary>
public sealed class QuantumPlanner(PipelineDefinition pipeline)
{
    /// <summary>The pipeline this planner plans.</summary>
    public PipelineDefinition Pipeline { get; } = pipeline;

    /// <summary>The query the planner sends its reader for a step: the step's finest grain, grouped by its cluster.</summary>
    public PlanningQuery QueryFor(StepDefinition step, string instrument)
    {
        var produced = step.Tasks.SelectMany(t => t.Outputs).Select(o => o.DatasetType.Name).ToHashSet();
        var external = step.Tasks.SelectMany(t => t.Inputs).Select(i => i.DatasetType)
            .Where(t => !produced.Contains(t.Name)).DistinctBy(t => t.Name).ToList();
        return new PlanningQuery(instrument, step.FinestDimensions, step.Cluster, external);
    }

    /// <summary>The jobs of step <paramref name="stepName"/>, streamed as the reader yields their clusters.</summary>
    public async IAsyncEnumerable<PlannedJob> PlanAsync(string stepName, string instrument, IDataIdReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var step = Pipeline.Step(stepName);
        var memory = step.Tasks.Max(t => t.Execution.Memory);
        var interval = step.Tasks.Min(t => t.Execution.HeartbeatInterval);
        var timeout = step.Tasks.Max(t => t.Execution.HeartbeatTimeout);
        var executor = step.Tasks.Max(t => t.Execution.Executor);
        var group = new List<DataId>();
        DataId? key = null;
        await foreach (var id in reader.ReadAsync(QueryFor(step, instrument), cancellationToken).WithCancellation(cancellationToken))
        {
            var k = DataIdComparer.Project(id, step.Cluster);
            if (key is not null && k != key)
            {
                if (DataIdComparer.Instance.Compare(k, key) < 0)
                {
                    throw new InvalidOperationException($"planning {stepName}: the reader returned cluster {k} after {key}; clusters must come out contiguous and ascending");
                }
                yield return BuildJob(step, key, group, memory, interval, timeout, executor);
                group.Clear();
            }
            key = k;
            group.Add(id);
        }
        if (key is not null)
        {
            yield return BuildJob(step, key, group, memory, interval, timeout, executor);
        }
    }

    /// <summary>Groups a job stream into chunks of at most <paramref name="maxJobsPerChunk"/> jobs, holding one chunk at a time.</summary>
    public static async IAsyncEnumerable<JobChunk> ChunkAsync(IAsyncEnumerable<PlannedJob> jobs, int maxJobsPerChunk, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxJobsPerChunk, 1);
        var chunk = new List<PlannedJob>(Math.Min(maxJobsPerChunk, 4096));
        int index = 0;
        string? step = null;
        await foreach (var job in jobs.WithCancellation(cancellationToken))
        {
            step ??= job.Step;
            chunk.Add(job);
            if (chunk.Count == maxJobsPerChunk)
            {
                yield return new JobChunk(step, index++, chunk);
                chunk = new List<PlannedJob>(Math.Min(maxJobsPerChunk, 4096));
            }
        }
        if (chunk.Count > 0)
        {
            yield return new JobChunk(step!, index, chunk);
        }
    }

    private static PlannedJob BuildJob(StepDefinition step, DataId cluster, List<DataId> group, MemoryClass memory, TimeSpan interval, TimeSpan timeout, JobExecutor executor)
    {
        var quanta = new List<PlannedQuantum>();
        foreach (var task in step.Units)
        {
            var ids = new HashSet<DataId>();
            foreach (var id in group)
            {
                ids.Add(DataIdComparer.Project(id, task.Dimensions));
            }
            var ordered = ids.ToArray();
            Array.Sort(ordered, DataIdComparer.Instance);
            foreach (var id in ordered)
            {
                quanta.Add(new PlannedQuantum(task.Name, id));
            }
        }
        return new PlannedJob(step.Name, $"{step.Name}/{cluster}", cluster, quanta, memory, interval, timeout, executor);
    }
}
