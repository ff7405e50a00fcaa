using Drp.Storage;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Activities;

/// <summary>
/// Plans a step from the Registry and the pipeline (<c>pipelines/drp.yaml</c>, embedded): streams its jobs into plan
/// blobs in the run's collection, chunk by chunk, and returns the chunks' references.
/// </summary>
public sealed class PlanStepActivity(StorageClients storage, ILogger<PlanStepActivity> logger) : TaskActivity<StepInput, StepPlan>
{
    private static readonly Lazy<PipelineDefinition> s_pipeline = new(PipelineDefinitionLoader.LoadDefault);

    /// <inheritdoc />
    public override Task<StepPlan> RunAsync(TaskActivityContext context, StepInput input) => ExecuteAsync(input);

    /// <summary>Plans the step; the same input gives the same blobs.</summary>
    public async Task<StepPlan> ExecuteAsync(StepInput input, CancellationToken cancellationToken = default)
    {
        var pipeline = s_pipeline.Value;
        int max = input.MaxJobsPerChunk ?? pipeline.Step(input.Step).MaxJobsPerChunk;
        var container = storage.DataContainer;
        var plan = await StepPlanWriter.WriteAsync(
            new QuantumPlanner(pipeline), input.Run, input.Step, input.Instrument, new RegistryDataIdReader(storage.Registry), max,
            (path, data, ct) => container.GetBlobClient(path).UploadAsync(data, overwrite: true, ct),
            cancellationToken);
        logger.LogInformation("Planned {Step} of run {Run}: {Quanta} quanta in {Jobs} jobs, {Chunks} chunks of at most {MaxJobsPerChunk}",
            input.Step, input.Run, plan.Quanta, plan.Jobs, plan.Chunks.Count, max);
        return plan;
    }
}
