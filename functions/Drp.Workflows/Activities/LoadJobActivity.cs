using Drp.Core.Planning;
using Drp.Storage;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;

namespace Drp.Workflows.Activities;

/// <summary>Reads a job's plan blob and returns what its orchestration executes (<see cref="JobWork"/>).</summary>
public sealed class LoadJobActivity(StorageClients storage) : TaskActivity<JobInput, JobWork>
{
    /// <inheritdoc />
    public override Task<JobWork> RunAsync(TaskActivityContext context, JobInput input) => ExecuteAsync(input);

    /// <summary>Loads the job.</summary>
    public async Task<JobWork> ExecuteAsync(JobInput input, CancellationToken cancellationToken = default) =>
        ToWork(await ReadPlanAsync(storage, input.PlanPath, cancellationToken));

    /// <summary>The planned job in a plan blob.</summary>
    public static async Task<PlannedJob> ReadPlanAsync(StorageClients storage, string planPath, CancellationToken cancellationToken = default)
    {
        var content = await storage.Data.ReadAllAsync(planPath, "plan", cancellationToken);
        return System.Text.Json.JsonSerializer.Deserialize<PlannedJob>(content, StepPlanWriter.Json)
            ?? throw new InvalidOperationException($"plan blob {planPath} is empty");
    }

    /// <summary>The job's quanta and execution settings, as planned.</summary>
    public static JobWork ToWork(PlannedJob job) => new(job.Step, job.JobId, job.Quanta, job.Executor, job.Memory, job.HeartbeatTimeout);
}
