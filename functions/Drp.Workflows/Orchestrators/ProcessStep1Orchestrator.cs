using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Microsoft.DurableTask;

namespace Drp.Workflows.Orchestrators;

/// <summary>
/// Step 1 for every registered raw of an instrument: lists the visits from the Registry, fans out one
/// <see cref="ProcessVisitOrchestrator"/> per visit, shows progress in its custom status, and fans in a summary.
/// Running it again for the same run skips every quantum the ledger has as succeeded (rescue).
/// </summary>
public sealed class ProcessStep1Orchestrator : TaskOrchestrator<Step1Input, StepResult>
{
    /// <summary>Visits in flight at once: bounds the history and the load a single step puts on the workers.</summary>
    public const int MaxVisitsInFlight = 16;

    /// <summary>A run's step 1 has a fixed instance id, so a run has at most one step-1 orchestration.</summary>
    public static string InstanceIdFor(string run) => $"step1-{run}";

    public override async Task<StepResult> RunAsync(TaskOrchestrationContext context, Step1Input input)
    {
        var visits = await context.CallActivityAsync<List<VisitWork>>(nameof(ListVisitsActivity), input, RetryPolicies.Transient);
        int quantaTotal = visits.Sum(v => v.Detectors.Count);
        var results = new List<VisitResult>(visits.Count);
        var inFlight = new List<Task<VisitResult>>();
        int next = 0;
        context.SetCustomStatus(Progress(visits.Count, quantaTotal, results));
        while (next < visits.Count || inFlight.Count > 0)
        {
            while (next < visits.Count && inFlight.Count < MaxVisitsInFlight)
            {
                var work = visits[next++];
                inFlight.Add(context.CallSubOrchestratorAsync<VisitResult>(
                    nameof(ProcessVisitOrchestrator),
                    new VisitInput(input.Run, input.Instrument, input.CalibCollection, work),
                    new SubOrchestrationOptions(RetryPolicies.Transient, $"{context.InstanceId}:visit:{work.Visit}")));
            }
            var done = await Task.WhenAny(inFlight);
            inFlight.Remove(done);
            results.Add(await done);
            context.SetCustomStatus(Progress(visits.Count, quantaTotal, results));
        }
        results.Sort((a, b) => a.Visit.CompareTo(b.Visit));
        return new StepResult(input.Run, results);
    }

    private static StepProgress Progress(int visitsTotal, int quantaTotal, List<VisitResult> done) => new(
        visitsTotal,
        done.Count,
        quantaTotal,
        done.Sum(v => v.Quanta.Count),
        done.Sum(v => v.Quanta.Count(q => q.State == QuantumState.Failed)),
        done.Sum(v => v.Quanta.Count(q => q.State == QuantumState.Unprocessable)));
}
