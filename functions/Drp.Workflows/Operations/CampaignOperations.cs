using Drp.Core.Tasks;
using Drp.Execution;
using System.Text.RegularExpressions;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.Workflows.Orchestrators;
using Drp.Core.Planning;
using Microsoft.DurableTask.Client;

namespace Drp.Workflows.Operations;

/// <summary>
/// What an operator can do to a run's campaign, in one place for every host: the Functions app's HTTP API and the
/// <c>drp</c> command call these methods and only translate their results and typed errors (bad input
/// <see cref="ArgumentException"/>, no campaign <see cref="CampaignNotFoundException"/>, wrong state
/// <see cref="CampaignStateException"/>).
/// </summary>
public sealed partial class CampaignOperations(DurableTaskClient client, QuantumLedger ledger, TaskRegistry? tasks = null)
{
    /// <summary>Operations on the task hub of <paramref name="client"/> and the ledger of <paramref name="storage"/>.</summary>
    public CampaignOperations(DurableTaskClient client, StorageClients storage, TaskRegistry? tasks = null)
        : this(client, new QuantumLedger(storage.Ledger), tasks)
    {
    }

    private readonly TaskRegistry _tasks = tasks ?? ExecutionServices.DefaultRegistry;

    /// <summary>The task hub's client.</summary>
    public DurableTaskClient Client => client;

    /// <summary>
    /// Starts the campaign of <see cref="CampaignInput.Run"/> under its one instance id
    /// (<see cref="CampaignOrchestrator.InstanceIdFor"/>). Starting it again while it exists starts nothing and returns
    /// the existing instance (<see cref="CampaignStart.Created"/> false); purge it first to run the campaign anew.
    /// Empty <see cref="CampaignInput.Steps"/> means every step that can run today.
    /// </summary>
    public async Task<CampaignStart> StartAsync(CampaignInput input, CancellationToken cancellationToken = default)
    {
        input = Validate(input, _tasks);

        string id = CampaignOrchestrator.InstanceIdFor(input.Run);
        var existing = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
        if (existing is not null)
        {
            return new CampaignStart(id, Created: false, existing.RuntimeStatus.ToString());
        }
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), input, new Microsoft.DurableTask.StartOrchestrationOptions(id), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Two starts raced: the engine keeps instance ids unique, so the loser finds the winner's instance.
            var raced = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken);
            if (raced is null)
            {
                throw;
            }
            return new CampaignStart(id, Created: false, raced.RuntimeStatus.ToString());
        }
        return new CampaignStart(id, Created: true, nameof(OrchestrationRuntimeStatus.Pending));
    }

    /// <summary>
    /// The campaign's runtime status and custom status (phase, current step, reason), the current step's chunk and job
    /// progress, and the run's quanta per step and state from the ledger. Null when the run has neither a campaign nor
    /// ledger rows.
    /// </summary>
    public async Task<CampaignStatus?> GetStatusAsync(string run, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        string id = CampaignOrchestrator.InstanceIdFor(run);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        var quanta = await ledger.ListAsync(run, cancellationToken);
        if (instance is null && quanta.Count == 0)
        {
            return null;
        }
        var progress = instance?.ReadCustomStatusAs<CampaignProgress>();
        ChunkedStepProgress? stepProgress = null;
        if (progress?.Step is { } step)
        {
            var stepInstance = await client.GetInstanceAsync(StepInstanceIdFor(run, step), getInputsAndOutputs: true, cancellationToken);
            stepProgress = stepInstance?.ReadCustomStatusAs<ChunkedStepProgress>();
        }
        var input = instance?.ReadInputAs<CampaignInput>();
        return new CampaignStatus(
            run,
            id,
            instance?.RuntimeStatus.ToString(),
            input?.Steps,
            progress,
            stepProgress,
            instance?.FailureDetails?.ErrorMessage ?? (instance?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated ? instance.ReadOutputAs<string>() : null),
            instance?.CreatedAt,
            instance?.LastUpdatedAt,
            CountByStep(quanta));
    }

    /// <summary>The run's failed and unprocessable quanta grouped by state and error class, largest group first, with up to <paramref name="examplesPerClass"/> examples each.</summary>
    public async Task<FailureReport> GetFailuresAsync(string run, int examplesPerClass = 10, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        ArgumentOutOfRangeException.ThrowIfNegative(examplesPerClass);
        var quanta = await ledger.ListAsync(run, cancellationToken);
        var bad = quanta.Where(q => q.State is QuantumState.Failed or QuantumState.Unprocessable).ToList();
        var classes = bad
            .GroupBy(q => (q.State, ErrorClass: q.ErrorClass ?? "(none)"))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.State).ThenBy(g => g.Key.ErrorClass, StringComparer.Ordinal)
            .Select(g => new FailureClass(g.Key.State.ToString(), g.Key.ErrorClass, g.Count(),
                [.. g.OrderBy(q => q.QuantumKey, StringComparer.Ordinal).Take(examplesPerClass).Select(q => new FailureExample(q.QuantumKey, q.Attempts, q.Message))]))
            .ToList();
        return new FailureReport(run, quanta.Count, bad.Count, classes);
    }

    /// <summary>
    /// Decides the gate the campaign waits at (raises <see cref="CampaignOrchestrator.ApprovalEvent"/>). Refused unless
    /// the campaign is running and waiting for approval: an event raised at another time would be kept and silently
    /// decide a later gate.
    /// </summary>
    public async Task<CampaignProgress> ApproveAsync(string run, bool approved, string? reason = null, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        string id = CampaignOrchestrator.InstanceIdFor(run);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken)
            ?? throw new CampaignNotFoundException(run);
        var progress = instance.ReadCustomStatusAs<CampaignProgress>();
        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Running || progress?.Phase != CampaignProgress.WaitingForApproval)
        {
            throw new CampaignStateException(
                $"campaign {id} is not waiting for approval: it is {instance.RuntimeStatus}, phase {progress?.Phase ?? "(none)"}{(progress?.Step is { } s ? $" at {s}" : "")}");
        }
        await client.RaiseEventAsync(id, CampaignOrchestrator.ApprovalEvent, new GateDecision(approved, reason), cancellationToken);
        return progress;
    }

    /// <summary>
    /// Terminates a running (or pending or suspended) campaign with <paramref name="reason"/>, and its step, chunk and
    /// job sub-orchestrations still running (terminating a parent does not stop its children in every backend).
    /// </summary>
    public async Task<int> TerminateAsync(string run, string reason, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("a reason is required to terminate a campaign", nameof(reason));
        }
        string id = CampaignOrchestrator.InstanceIdFor(run);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken)
            ?? throw new CampaignNotFoundException(run);
        if (!IsActive(instance.RuntimeStatus))
        {
            throw new CampaignStateException($"campaign {id} is already {instance.RuntimeStatus}; nothing to terminate");
        }
        await client.TerminateInstanceAsync(id, reason, cancellationToken);
        int terminated = 1;
        foreach (var child in await ListFamilyAsync(id, cancellationToken))
        {
            if (child.InstanceId != id && IsActive(child.RuntimeStatus))
            {
                await client.TerminateInstanceAsync(child.InstanceId, reason, cancellationToken);
                terminated++;
            }
        }
        return terminated;
    }

    /// <summary>The instance id of a rescue of <paramref name="step"/> in the run's campaign (inside the campaign's family, so terminate and purge reach it).</summary>
    public static string RescueInstanceIdFor(string run, string step) => $"{CampaignOrchestrator.InstanceIdFor(run)}:rescue:{step}";

    /// <summary>
    /// Rescue: runs <paramref name="step"/> of the run's campaign again, as a chunked step over the same run collection
    /// (instrument, calibrations and executor from the campaign's input). Quanta the ledger has as succeeded or
    /// unprocessable are skipped; only the failed and the never-run ones run. Refused while the campaign or an earlier
    /// rescue of the step is active; a finished earlier rescue is purged first.
    /// </summary>
    public async Task<CampaignStart> RescueStepAsync(string run, string step, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        if (!_tasks.RunnableSteps.Contains(step))
        {
            throw new ArgumentException($"step '{step}' cannot be rescued: it has no task classes (runnable: {string.Join(", ", _tasks.RunnableSteps)})", nameof(step));
        }
        string campaignId = CampaignOrchestrator.InstanceIdFor(run);
        var campaign = await client.GetInstanceAsync(campaignId, getInputsAndOutputs: true, cancellationToken)
            ?? throw new CampaignNotFoundException(run);
        if (IsActive(campaign.RuntimeStatus))
        {
            throw new CampaignStateException($"campaign {campaignId} is {campaign.RuntimeStatus}: rescue a step after the campaign stopped");
        }
        var input = campaign.ReadInputAs<CampaignInput>() ?? throw new CampaignStateException($"campaign {campaignId} has no input");
        if (!input.Steps.Contains(step))
        {
            throw new ArgumentException($"campaign {campaignId} has no step '{step}' (steps: {string.Join(", ", input.Steps)})", nameof(step));
        }
        string id = RescueInstanceIdFor(run, step);
        var earlier = await ListFamilyAsync(id, cancellationToken);
        var active = earlier.Where(i => IsActive(i.RuntimeStatus)).ToList();
        if (active.Count > 0)
        {
            throw new CampaignStateException($"a rescue of {step} is still active ({string.Join(", ", active.Take(3).Select(i => $"{i.InstanceId} {i.RuntimeStatus}"))})");
        }
        foreach (var instance in earlier.OrderByDescending(i => i.InstanceId.Length))
        {
            await client.PurgeInstanceAsync(instance.InstanceId, cancellation: cancellationToken);
        }
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(StepOrchestrator),
            new StepInput(run, input.Instrument, step, input.CalibCollection, Executor: input.Executor),
            new Microsoft.DurableTask.StartOrchestrationOptions(id), cancellationToken);
        return new CampaignStart(id, Created: true, nameof(OrchestrationRuntimeStatus.Pending));
    }

    /// <summary>
    /// Removes the campaign's history and that of its sub-orchestrations (so the run's campaign can be started anew;
    /// the ledger and the data products stay). Refused while any of them is active; returns how many were purged.
    /// </summary>
    public async Task<int> PurgeAsync(string run, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        string id = CampaignOrchestrator.InstanceIdFor(run);
        var family = await ListFamilyAsync(id, cancellationToken);
        if (family.All(i => i.InstanceId != id))
        {
            throw new CampaignNotFoundException(run);
        }
        var active = family.Where(i => IsActive(i.RuntimeStatus)).ToList();
        if (active.Count > 0)
        {
            throw new CampaignStateException(
                $"campaign {id} cannot be purged while {active.Count} of its instances are active ({string.Join(", ", active.Take(3).Select(i => $"{i.InstanceId} {i.RuntimeStatus}"))}); terminate it first");
        }
        int purged = 0;
        // Children first: if this is interrupted, the campaign instance that names them is still there to purge again.
        foreach (var instance in family.OrderByDescending(i => i.InstanceId.Length))
        {
            var result = await client.PurgeInstanceAsync(instance.InstanceId, cancellation: cancellationToken);
            purged += result.PurgedInstanceCount;
        }
        return purged;
    }

    /// <summary>
    /// Checks a campaign's input (run name, instrument, steps, failed fraction) and returns it with its steps filled
    /// in (empty: every step that can run today); an <see cref="ArgumentException"/> names what is wrong.
    /// </summary>
    public static CampaignInput Validate(CampaignInput input, TaskRegistry? tasks = null)
    {
        tasks ??= ExecutionServices.DefaultRegistry;
        ArgumentNullException.ThrowIfNull(input);
        ValidateRun(input.Run);
        if (string.IsNullOrWhiteSpace(input.Instrument))
        {
            throw new ArgumentException("the instrument is required", nameof(input));
        }
        if (!(input.MaxFailedFraction is >= 0 and <= 1))
        {
            throw new ArgumentException($"maxFailedFraction must be between 0 and 1, not {input.MaxFailedFraction}", nameof(input));
        }
        var steps = input.Steps is { Count: > 0 } ? input.Steps : tasks.RunnableSteps;
        ValidateSteps(steps, tasks);
        return input with { Steps = [.. steps] };
    }

    /// <summary>The instance id the campaign gives a step's sub-orchestration.</summary>
    public static string StepInstanceIdFor(string run, string step) => $"{CampaignOrchestrator.InstanceIdFor(run)}:{step}";

    /// <summary>
    /// A run name must be usable as an instance id, a table partition and a blob path segment: 1 to 63 letters, digits,
    /// '-', '_' or '.', starting with a letter or digit.
    /// </summary>
    public static void ValidateRun(string? run)
    {
        if (string.IsNullOrEmpty(run) || !RunPattern().IsMatch(run))
        {
            throw new ArgumentException($"run '{run}' is not a valid run name: 1 to 63 letters, digits, '-', '_' or '.', starting with a letter or digit", nameof(run));
        }
    }

    /// <summary>The steps must be in the pipeline, once each, in its order, and runnable today.</summary>
    public static void ValidateSteps(IReadOnlyList<string> steps, TaskRegistry? tasks = null)
    {
        tasks ??= ExecutionServices.DefaultRegistry;
        var pipeline = tasks.Pipeline;
        var order = pipeline.Steps.Select(s => s.Name).ToList();
        foreach (var step in steps)
        {
            if (!order.Contains(step))
            {
                throw new ArgumentException($"pipeline '{pipeline.Name}' has no step '{step}' (steps: {string.Join(", ", order)})", nameof(steps));
            }
            if (!tasks.CanRun(step))
            {
                throw new ArgumentException($"step '{step}' has no task classes yet (runnable: {string.Join(", ", tasks.RunnableSteps)})", nameof(steps));
            }
        }
        if (steps.Distinct().Count() != steps.Count)
        {
            throw new ArgumentException($"a step is named twice: {string.Join(", ", steps)}", nameof(steps));
        }
        var indices = steps.Select(s => order.IndexOf(s)).ToList();
        if (!indices.SequenceEqual(indices.Order()))
        {
            throw new ArgumentException($"steps must follow the pipeline's order ({string.Join(", ", order)}), not {string.Join(", ", steps)}", nameof(steps));
        }
    }

    /// <summary>Quanta per step (the step the ledger row's provenance names) and state.</summary>
    public static IReadOnlyList<StepQuantumCounts> CountByStep(IEnumerable<QuantumRecord> quanta) =>
        [.. quanta
            .GroupBy(q => q.Provenance?.Step is { Length: > 0 } step ? step : q.QuantumKey.Split('|', 2)[0]) // rows from before provenance: keys began with the step
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new StepQuantumCounts(
                g.Key,
                g.Count(),
                g.Count(q => q.State == QuantumState.Running),
                g.Count(q => q.State == QuantumState.Succeeded),
                g.Count(q => q.State == QuantumState.Unprocessable),
                g.Count(q => q.State == QuantumState.Failed),
                g.Count(q => q.Attempts > 1)))];

    private static bool IsActive(OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended;

    /// <summary>The campaign's instance and every instance under it (ids <c>campaign-{run}:...</c>).</summary>
    private async Task<List<OrchestrationMetadata>> ListFamilyAsync(string id, CancellationToken cancellationToken)
    {
        var family = new List<OrchestrationMetadata>();
        var query = new OrchestrationQuery { InstanceIdPrefix = id, FetchInputsAndOutputs = false };
        await foreach (var instance in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            // The prefix also matches other runs' campaigns (campaign-a and campaign-ab): keep this one's own.
            if (instance.InstanceId == id || instance.InstanceId.StartsWith(id + ":", StringComparison.Ordinal))
            {
                family.Add(instance);
            }
        }
        return family;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex RunPattern();
}

/// <summary>The answer to a start: the instance id, whether this call created it, and its runtime status.</summary>
public sealed record CampaignStart(string InstanceId, bool Created, string RuntimeStatus);

/// <summary>A run's quanta of one step per state in the ledger, and how many needed more than one attempt.</summary>
public sealed record StepQuantumCounts(string Step, int Total, int Running, int Succeeded, int Unprocessable, int Failed, int Retried);

/// <summary>
/// A campaign's status for an operator: runtime status (null: no campaign, only ledger rows), the steps it runs, its
/// phase/step/reason, the current step's progress, a failure or termination reason, and the ledger's counts per step.
/// </summary>
public sealed record CampaignStatus(
    string Run,
    string InstanceId,
    string? RuntimeStatus,
    IReadOnlyList<string>? Steps,
    CampaignProgress? Progress,
    ChunkedStepProgress? CurrentStep,
    string? Failure,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? LastUpdatedAt,
    IReadOnlyList<StepQuantumCounts> Quanta);

/// <summary>A run's failures by class.</summary>
public sealed record FailureReport(string Run, int Quanta, int FailedOrUnprocessable, IReadOnlyList<FailureClass> Classes);

/// <summary>One error class of failed (or unprocessable) quanta, with examples.</summary>
public sealed record FailureClass(string State, string ErrorClass, int Count, IReadOnlyList<FailureExample> Examples);

/// <summary>One failed quantum.</summary>
public sealed record FailureExample(string QuantumKey, int Attempts, string? Message);

/// <summary>The run has no campaign (HTTP 404).</summary>
public sealed class CampaignNotFoundException(string run)
    : Exception($"run '{run}' has no campaign ({CampaignOrchestrator.InstanceIdFor(run)})")
{
    /// <summary>The run asked for.</summary>
    public string Run { get; } = run;
}

/// <summary>The campaign is not in a state that allows the operation (HTTP 409).</summary>
public sealed class CampaignStateException(string message) : InvalidOperationException(message);
