using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// A campaign, the workflow of workflows: runs each step as a <see cref="StepOrchestrator"/> sub-orchestration, in
/// order, with a QA gate after each (<see cref="Gate"/>'s counts, then <see cref="CatalogQaActivity"/>'s catalog checks; optionally also an operator's approval, the
/// <see cref="ApprovalEvent"/> event, with the reason in the custom status while it waits). A failing gate, a rejection
/// or a failed step stops the campaign with the reason; the steps after it do not start.
/// </summary>
public sealed class CampaignOrchestrator : TaskOrchestrator<CampaignInput, CampaignResult>
{
    /// <summary>The external event an operator raises to decide a gate (payload <see cref="GateDecision"/>).</summary>
    public const string ApprovalEvent = "ApproveGate";

    /// <summary>A run's campaign has one instance id.</summary>
    public static string InstanceIdFor(string run) => $"campaign-{run}";

    /// <inheritdoc />
    public override async Task<CampaignResult> RunAsync(TaskOrchestrationContext context, CampaignInput input)
    {
        var done = new List<StepSummary>();
        int total = input.Steps.Count;
        for (int i = 0; i < total; i++)
        {
            string step = input.Steps[i];
            context.SetCustomStatus(new CampaignProgress(CampaignProgress.Running, step, i, total, null));
            StepSummary summary;
            try
            {
                summary = await context.CallSubOrchestratorAsync<StepSummary>(
                    nameof(StepOrchestrator),
                    new StepInput(input.Run, input.Instrument, step, input.CalibCollection, Executor: input.Executor),
                    new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}:{step}" });
            }
            catch (TaskFailedException e)
            {
                return Stop(context, input, done, step, $"step {step} failed: {e.FailureDetails.ErrorMessage}");
            }
            done.Add(summary);
            var (pass, reason) = Gate(summary, input.MaxFailedFraction);
            if (!pass)
            {
                return Stop(context, input, done, step, reason);
            }
            // Then every column of every table the step produced, from the schema: a failure names table, column, count.
            var qa = await context.CallActivityAsync<StepQaResult>(
                nameof(CatalogQaActivity), new StepQaInput(input.Run, input.Instrument, step), RetryPolicies.Transient);
            if (!qa.Passed)
            {
                return Stop(context, input, done, step, qa.Summary);
            }
            reason = $"{reason}; {qa.Summary}";
            if (input.RequireApproval)
            {
                context.SetCustomStatus(new CampaignProgress(CampaignProgress.WaitingForApproval, step, i + 1, total, reason));
                var decision = await context.WaitForExternalEvent<GateDecision>(ApprovalEvent);
                if (!decision.Approved)
                {
                    return Stop(context, input, done, step, $"rejected by the operator: {decision.Reason ?? "no reason given"}");
                }
            }
        }
        context.SetCustomStatus(new CampaignProgress(CampaignProgress.Completed, null, total, total, null));
        return new CampaignResult(input.Run, done, Completed: true, null, null);
    }

    /// <summary>
    /// The automatic checks after a step: some units ran, no job failed as a whole, and at most
    /// <paramref name="maxFailedFraction"/> of the units failed (unprocessable inputs are reported, not failures).
    /// </summary>
    public static (bool Pass, string Reason) Gate(StepSummary s, double maxFailedFraction)
    {
        var c = s.Counts;
        if (c.Units == 0)
        {
            return (false, $"{s.Step}: no quanta ran");
        }
        if (s.FailedJobs > 0)
        {
            return (false, $"{s.Step}: {s.FailedJobs} of {s.Jobs} jobs failed as a whole");
        }
        double failed = (double)c.Failed / c.Units;
        return failed > maxFailedFraction
            ? (false, $"{s.Step}: {c.Failed} of {c.Units} units failed ({failed:P1} > {maxFailedFraction:P1})")
            : (true, $"{s.Step}: {c.Succeeded} succeeded, {c.Failed} failed, {c.Unprocessable} unprocessable of {c.Units} units");
    }

    private static CampaignResult Stop(TaskOrchestrationContext context, CampaignInput input, List<StepSummary> done, string step, string reason)
    {
        context.SetCustomStatus(new CampaignProgress(CampaignProgress.Stopped, step, done.Count, input.Steps.Count, reason));
        return new CampaignResult(input.Run, done, Completed: false, step, reason);
    }
}
