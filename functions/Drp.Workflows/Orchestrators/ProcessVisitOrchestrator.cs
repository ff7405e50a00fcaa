using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// One visit of step 1: fans out <see cref="ProcessDetectorActivity"/> over its detectors (each independent: one
/// failure never stops the others), then consolidates the succeeded detectors' Source tables into the visit's table.
/// </summary>
public sealed class ProcessVisitOrchestrator : TaskOrchestrator<VisitInput, VisitResult>
{
    public override Task<VisitResult> RunAsync(TaskOrchestrationContext context, VisitInput input) => RunVisitAsync(context, input);

    /// <summary>The visit's work inside the calling orchestration (also a step-1 job of <see cref="ProcessJobOrchestrator"/>).</summary>
    public static async Task<VisitResult> RunVisitAsync(TaskOrchestrationContext context, VisitInput input)
    {
        var w = input.Work;
        var tasks = w.Detectors
            .Select(d => RunQuantumAsync(context, new DetectorQuantum(input.Run, input.Instrument, input.CalibCollection, w.Visit, d, w.Band)))
            .ToList();
        var quanta = await Task.WhenAll(tasks);
        return await ConsolidateAsync(context, input, quanta);
    }

    /// <summary>The visit's Source table from its succeeded detectors (none: no table), with the detectors' outcomes.</summary>
    public static async Task<VisitResult> ConsolidateAsync(TaskOrchestrationContext context, VisitInput input, IReadOnlyList<QuantumResult> quanta)
    {
        var w = input.Work;
        var succeeded = quanta.Where(q => q.State == QuantumState.Succeeded).Select(q => q.Detector).Order().ToList();
        string? path = null;
        long rows = 0;
        if (succeeded.Count > 0)
        {
            var consolidated = await context.CallActivityAsync<ConsolidateVisitResult>(
                nameof(ConsolidateVisitSourcesActivity),
                new ConsolidateVisitInput(input.Run, input.Instrument, w.Visit, succeeded),
                RetryPolicies.Transient);
            path = consolidated.Path;
            rows = consolidated.Rows;
        }
        return new VisitResult(w.Visit, quanta, path, rows);
    }

    /// <summary>A quantum that still fails after its retries is recorded as failed; its siblings carry on.</summary>
    private static async Task<QuantumResult> RunQuantumAsync(TaskOrchestrationContext context, DetectorQuantum q)
    {
        try
        {
            return await context.CallActivityAsync<QuantumResult>(nameof(ProcessDetectorActivity), q, RetryPolicies.Transient);
        }
        catch (TaskFailedException e)
        {
            return new QuantumResult(q.Visit, q.Detector, QuantumState.Failed, 0, 0,
                e.FailureDetails.ErrorType, e.FailureDetails.ErrorMessage, Skipped: false, ElapsedMs: 0);
        }
    }
}
