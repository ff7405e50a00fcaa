using System.Globalization;
using System.Text.Json;
using Drp.Core.Planning;

namespace Drp.Workflows.Planning;

/// <summary>
/// Plans a step and writes each job to its own plan blob, chunk by chunk, holding one chunk at a time: the step's
/// orchestrations then pass only these blob references. Paths are deterministic, so planning again overwrites.
/// </summary>
public static class StepPlanWriter
{
    /// <summary>JSON for plan blobs.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary><c>{run}/_plans/{step}/chunk-{index:D5}/</c>: the folder of a chunk's job plans in the data container.</summary>
    public static string ChunkPrefix(string run, string step, int chunk) =>
        $"{run}/_plans/{step}/chunk-{chunk.ToString("D5", CultureInfo.InvariantCulture)}/";

    /// <summary>The plan blob of job <paramref name="job"/> of a chunk.</summary>
    public static string JobPath(ChunkRef chunk, int job) => chunk.Prefix + $"job-{job.ToString("D5", CultureInfo.InvariantCulture)}.json";

    /// <summary>Plans <paramref name="step"/> from <paramref name="reader"/> and writes every job through <paramref name="writeAsync"/> (path, JSON).</summary>
    public static async Task<StepPlan> WriteAsync(
        QuantumPlanner planner,
        string run,
        string step,
        string instrument,
        IDataIdReader reader,
        int maxJobsPerChunk,
        Func<string, BinaryData, CancellationToken, Task> writeAsync,
        CancellationToken cancellationToken = default)
    {
        var chunks = new List<ChunkRef>();
        await foreach (var chunk in QuantumPlanner.ChunkAsync(planner.PlanAsync(step, instrument, reader, cancellationToken), maxJobsPerChunk, cancellationToken))
        {
            var chunkRef = new ChunkRef(chunk.Index, ChunkPrefix(run, step, chunk.Index), chunk.Jobs.Count, chunk.Jobs.Sum(j => (long)j.Quanta.Count));
            // a few uploads at a time: the plan of a 1,000-job chunk is 1,000 small blobs
            await Parallel.ForEachAsync(
                Enumerable.Range(0, chunk.Jobs.Count),
                new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                (j, ct) => new ValueTask(writeAsync(JobPath(chunkRef, j), BinaryData.FromObjectAsJson(chunk.Jobs[j], Json), ct)));
            chunks.Add(chunkRef);
        }
        return new StepPlan(step, maxJobsPerChunk, chunks);
    }
}
