using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// One planned job: loads its plan blob (<see cref="LoadJobActivity"/>) and runs its quanta, each independently. Step 1:
/// the visit's detectors through <see cref="ProcessVisitOrchestrator.RunVisitAsync"/> (detector fan-out, then the visit's
/// Source table). Returns counts of unit outcomes; succeeded and unprocessable include the skipped ones.
/// </summary>
public sealed class ProcessJobOrchestrator : TaskOrchestrator<JobInput, JobSummary>
{
    /// <summary>Steps whose jobs this orchestrator can run (the others have no science code yet).</summary>
    public static readonly IReadOnlyList<string> ExecutableSteps = ["step1"];

    /// <inheritdoc />
    public override async Task<JobSummary> RunAsync(TaskOrchestrationContext context, JobInput input)
    {
        var work = await context.CallActivityAsync<JobWork>(nameof(LoadJobActivity), input, RetryPolicies.Transient);
        if (work.Visit is null)
        {
            throw new InvalidOperationException($"job {work.JobId} of {work.Step}: no executor for this step");
        }
        var result = await ProcessVisitOrchestrator.RunVisitAsync(context, new VisitInput(input.Run, input.Instrument, input.CalibCollection, work.Visit));
        var q = result.Quanta;
        return new JobSummary(work.JobId, new OutcomeCounts(
            work.Quanta,
            q.Count,
            q.Count(r => r.State == QuantumState.Succeeded),
            q.Count(r => r.State == QuantumState.Failed),
            q.Count(r => r.State == QuantumState.Unprocessable),
            q.Count(r => r.Skipped)),
            VersionCount.Count(q.Select(r => r.SoftwareVersion)));
    }
}
