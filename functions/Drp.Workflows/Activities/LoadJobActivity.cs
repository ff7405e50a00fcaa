using Drp.Storage;
using Drp.Core.Planning;
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
        var content = await storage.DataContainer.GetBlobClient(planPath).DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToObjectFromJson<PlannedJob>(StepPlanWriter.Json)
            ?? throw new InvalidOperationException($"plan blob {planPath} is empty");
    }

    /// <summary>Step 1: the visit and its detectors (each detector's quanta run as one unit); other steps: no unit yet.</summary>
    public static JobWork ToWork(PlannedJob job)
    {
        VisitWork? visit = null;
        if (job.Step == "step1")
        {
            var ids = job.Quanta.Select(q => q.DataId).ToList();
            var first = ids[0];
            visit = new VisitWork(
                first.Visit ?? throw new InvalidOperationException($"step-1 job {job.JobId} has no visit"),
                first.Band ?? throw new InvalidOperationException($"step-1 job {job.JobId} has no band"),
                ids.Select(i => i.Detector!.Value).Distinct().Order().ToList());
        }
        return new JobWork(job.Step, job.JobId, job.Quanta.Count, visit, job.Executor, job.Memory, job.HeartbeatTimeout);
    }
}
