using Azure.Data.Tables;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Core.Tasks;
using Drp.Storage;
using Drp.Storage.Registry;
using Microsoft.DurableTask;

namespace Drp.Workflows.Activities;

/// <summary>The arrival's quanta from the pipeline: the first step's units at the raw's data id, the second step's at its visit.</summary>
public sealed record PlanArrivalInput(string Instrument, long Visit, int Detector, string Band);

/// <summary>
/// Plans what an arrival runs: the units of the pipeline's first step (per detector) at the raw's data id, and of its
/// second step (per visit) at the visit. Both must be runnable, and their dimensions those of a detector and of a visit.
/// </summary>
public sealed class PlanArrivalActivity(TaskRegistry tasks) : TaskActivity<PlanArrivalInput, ArrivalPlan>
{
    /// <inheritdoc />
    public override Task<ArrivalPlan> RunAsync(TaskActivityContext context, PlanArrivalInput input) => Task.FromResult(Plan(input));

    /// <summary>The plan; throws <see cref="InvalidOperationException"/> when the pipeline's first two steps are not a detector step and a visit step.</summary>
    public ArrivalPlan Plan(PlanArrivalInput input)
    {
        var steps = tasks.Pipeline.Steps;
        if (steps.Count < 2)
        {
            throw new InvalidOperationException($"pipeline '{tasks.Pipeline.Name}' has no visit step after its first: arrivals cannot close a visit");
        }
        var (first, second) = (steps[0], steps[1]);
        string[] detector = ["instrument", "visit", "detector"], visit = ["instrument", "visit"];
        foreach (var (step, dims) in new[] { (first, detector), (second, visit) })
        {
            if (!tasks.CanRun(step.Name) || step.Units.Any(u => !u.Dimensions.SequenceEqual(dims)))
            {
                throw new InvalidOperationException($"step '{step.Name}' cannot run per arrival: its units must be runnable with dimensions [{string.Join(", ", dims)}]");
            }
        }
        var detectorId = new DataId(input.Instrument, input.Visit, input.Detector, Band: input.Band);
        var visitId = detectorId with { Detector = null };
        return new ArrivalPlan(first.Name, [.. first.Units.Select(u => new PlannedQuantum(u.Name, detectorId))],
            second.Name, [.. second.Units.Select(u => new PlannedQuantum(u.Name, visitId))]);
    }
}

/// <summary>
/// Reads the arrival's visit from the Registry (its detectors and when each was registered) and the ledger (which of
/// them have a step-1 outcome). Only the visit's last arrival closes it: when every expected detector has an outcome,
/// or when the quiet time since the last arrival has passed and every registered detector has one.
/// </summary>
public sealed class CheckVisitActivity(StorageClients storage, TimeProvider? time = null) : TaskActivity<VisitCheckInput, VisitCheck>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public override Task<VisitCheck> RunAsync(TaskActivityContext context, VisitCheckInput input) => ExecuteAsync(input);

    /// <summary>The visit's state now.</summary>
    public async Task<VisitCheck> ExecuteAsync(VisitCheckInput input, CancellationToken cancellationToken = default)
    {
        var id = input.Plan.DetectorQuanta[0].DataId;
        string filter = RegistryTable.FilterFor(id.Instrument, id.Visit);
        var arrivals = new List<(int Detector, DateTimeOffset At)>();
        await foreach (var e in storage.Registry.QueryAsync<TableEntity>(filter, select: ["Detector", "Timestamp"], cancellationToken: cancellationToken))
        {
            arrivals.Add((e.GetInt32("Detector") ?? -1, e.Timestamp ?? DateTimeOffset.MinValue));
        }
        // The last arrival closes the visit; ties go to the higher detector, so exactly one arrival is the last.
        var last = arrivals.OrderBy(a => a.At).ThenBy(a => a.Detector).Last();
        var ledger = new QuantumLedger(storage.Ledger);
        int withOutcome = 0;
        foreach (var (detector, _) in arrivals)
        {
            bool done = true;
            foreach (var q in input.Plan.DetectorQuanta)
            {
                var row = await ledger.GetAsync(input.Run, (q with { DataId = q.DataId with { Detector = detector } }).Key, cancellationToken);
                done &= row is { State: QuantumState.Succeeded or QuantumState.Unprocessable or QuantumState.Failed };
            }
            withOutcome += done ? 1 : 0;
        }
        var now = _time.GetUtcNow();
        var p = input.Processing;
        var quietUntil = last.At + p.QuietTime;
        // Look again soon enough to notice the visit completing, without a timer per second.
        var poll = TimeSpan.FromTicks(Math.Clamp(p.QuietTime.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(1).Ticks));
        if (last.Detector != input.Detector)
        {
            return new VisitCheck(false, false, arrivals.Count, withOutcome, now, $"detector {last.Detector} arrived later and closes the visit");
        }
        if (p.ExpectedDetectors > 0 && withOutcome >= p.ExpectedDetectors)
        {
            return new VisitCheck(true, true, arrivals.Count, withOutcome, now, $"all {p.ExpectedDetectors} expected detectors have a step-1 outcome");
        }
        if (now >= quietUntil && withOutcome == arrivals.Count)
        {
            return new VisitCheck(true, true, arrivals.Count, withOutcome, now, $"quiet for {p.QuietTime} since the last arrival; {withOutcome} detectors have an outcome");
        }
        var next = now + poll;
        return new VisitCheck(true, false, arrivals.Count, withOutcome, next < quietUntil || withOutcome < arrivals.Count ? next : quietUntil,
            $"{withOutcome} of {arrivals.Count} registered detectors have an outcome" + (p.ExpectedDetectors > 0 ? $" ({p.ExpectedDetectors} expected)" : ""));
    }
}
