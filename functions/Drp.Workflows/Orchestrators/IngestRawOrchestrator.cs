using Drp.Execution;
using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// Ingests one raw arrival (<see cref="IngestRawActivity"/>), and with arrivals configured processes it at once: its
/// detector's step-1 quanta through <see cref="RunQuantumActivity"/>, then, if it is its visit's last arrival, waits
/// until the visit is complete (<see cref="CheckVisitActivity"/>) and runs the visit's step 2, replacing earlier step-2
/// outputs (a late detector re-runs it). The instance id comes from the blob name (<see cref="InstanceIdFor"/>), so a
/// duplicate event finds the instance and runs nothing twice; a campaign over the same run later skips what ran here.
/// </summary>
public sealed class IngestRawOrchestrator : TaskOrchestrator<IngestRawInput, IngestRawResult>
{
    public static string InstanceIdFor(string container, string blobName) =>
        "ingest-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(container + "/" + blobName)))[..32];

    public override async Task<IngestRawResult> RunAsync(TaskOrchestrationContext context, IngestRawInput input)
    {
        var result = await context.CallActivityAsync<IngestRawResult>(nameof(IngestRawActivity), input, RetryPolicies.Transient);
        // A raw registered before (e.g. by an earlier run's arrival) is processed into this run too; the ledger skips
        // whatever this run already did, and only an arrival whose quanta ran may close its visit.
        if (input.Processing is not { } p || result is not { Outcome: IngestRawResult.Registered or IngestRawResult.Duplicate,
            Instrument: { } instrument, Visit: { } visit, Detector: { } detector, Band: { } band })
        {
            return result;
        }
        var plan = await context.CallActivityAsync<ArrivalPlan>(nameof(PlanArrivalActivity), new PlanArrivalInput(instrument, visit, detector, band), RetryPolicies.Transient);
        bool ran = false;
        foreach (var q in plan.DetectorQuanta)
        {
            ran |= await RunAsync(context, new QuantumRequest(p.Run, instrument, p.CalibCollection, plan.DetectorStep, q));
        }
        if (!ran)
        {
            return result;
        }
        while (true)
        {
            var check = await context.CallActivityAsync<VisitCheck>(nameof(CheckVisitActivity), new VisitCheckInput(p.Run, plan, detector, p), RetryPolicies.Transient);
            context.SetCustomStatus(check);
            if (!check.Latest)
            {
                return result;
            }
            if (check.Ready)
            {
                break;
            }
            await context.CreateTimer(check.LookAgainAt.UtcDateTime, CancellationToken.None);
        }
        foreach (var q in plan.VisitQuanta)
        {
            await RunAsync(context, new QuantumRequest(p.Run, instrument, p.CalibCollection, plan.VisitStep, q) { Rerun = true });
        }
        return result;
    }

    /// <summary>
    /// Runs the quantum; false when the ledger had it done. A quantum that still fails after its retries stays failed in
    /// the ledger (a campaign's rescue runs it again) and the arrival goes on.
    /// </summary>
    private static async Task<bool> RunAsync(TaskOrchestrationContext context, QuantumRequest request)
    {
        try
        {
            return !(await context.CallActivityAsync<QuantumResult>(nameof(RunQuantumActivity), request, RetryPolicies.Transient)).Skipped;
        }
        catch (TaskFailedException)
        {
            return true; // recorded as failed by the runner; the failures report and the status show it
        }
    }
}
