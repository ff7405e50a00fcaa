using Drp.Core.Tasks;
using Drp.Storage;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>
/// Plans a step from the Registry and the pipeline the task registry runs: streams its jobs into plan
/// blobs in the run's collection, chunk by chunk, and returns the chunks' references.
/// </summary>
public sealed class PlanStepActivity(StorageClients storage, TaskRegistry tasks, ILogger<PlanStepActivity> logger) : TaskActivity<StepInput, StepPlan>
{
    /// <inheritdoc />
    public override Task<StepPlan> RunAsync(TaskActivityContext context, StepInput input) => ExecuteAsync(input);

    /// <summary>Plans the step; the same input gives the same blobs.</summary>
    public async Task<StepPlan> ExecuteAsync(StepInput input, CancellationToken cancellationToken = default)
    {
        var pipeline = tasks.Pipeline;
        if (!tasks.CanRun(input.Step))
        {
            throw new ArgumentException($"step '{input.Step}' cannot run: no task class for {string.Join(", ", pipeline.Step(input.Step).Units.Select(u => u.Name))} "
                + $"(runnable: {string.Join(", ", tasks.RunnableSteps)})");
        }
        int max = input.MaxJobsPerChunk ?? pipeline.Step(input.Step).MaxJobsPerChunk;
        var plan = await StepPlanWriter.WriteAsync(
            new QuantumPlanner(pipeline), input.Run, input.Step, input.Instrument, new RegistryDataIdReader(storage.Registry), max,
            // Through the dataset store: the same retries and timeouts as every other blob call.
            (path, data, ct) => storage.Data.WriteAsync(path, data.ToMemory(), "application/json", ct),
            cancellationToken);
        logger.LogInformation("Planned {Step} of run {Run}: {Quanta} quanta in {Jobs} jobs, {Chunks} chunks of at most {MaxJobsPerChunk}",
            input.Step, input.Run, plan.Quanta, plan.Jobs, plan.Chunks.Count, max);
        return plan;
    }
}
