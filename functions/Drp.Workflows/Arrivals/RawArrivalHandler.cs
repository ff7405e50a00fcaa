using Drp.Execution;
using Drp.Storage.Arrivals;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Drp.Workflows.Arrivals;

/// <summary>What became of one arrival message.</summary>
public enum ArrivalOutcome
{
    /// <summary>An ingest orchestration was started for the raw.</summary>
    Started,
    /// <summary>The raw's ingest orchestration already exists: a duplicate event, nothing started.</summary>
    Duplicate,
}

/// <summary>
/// Turns a BlobCreated arrival (a queue message) into the raw's ingest orchestration (which, with an arrival run
/// configured, also processes it), with an instance id derived from the blob name so that a duplicated event starts nothing. The Functions QueueTrigger and the local host's
/// queue listener both call this, so both hosts behave the same.
/// </summary>
public sealed class RawArrivalHandler(DurableTaskClient client, ProcessingOptions processing, ILogger<RawArrivalHandler> logger)
{
    /// <summary>How arrivals process themselves, or null when they are only ingested (no <c>Drp:Processing:ArrivalRun</c>).</summary>
    public ArrivalProcessing? Processing { get; } = processing.ProcessesArrivals
        ? new ArrivalProcessing(processing.ArrivalRun!, processing.CalibCollection, processing.ExpectedDetectors, processing.VisitQuietTime)
        : null;

    /// <summary>Parses and schedules; an <see cref="InvalidArrivalException"/> means a poison message.</summary>
    public async Task<ArrivalOutcome> HandleAsync(string messageText, CancellationToken cancellationToken = default)
    {
        var arrival = BlobCreatedEvents.Parse(messageText);
        string instanceId = IngestRawOrchestrator.InstanceIdFor(arrival.Container, arrival.BlobName);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (existing is not null)
        {
            logger.LogInformation("Duplicate arrival {EventId} for {Blob}: ingest {InstanceId} already {Status}",
                arrival.EventId, arrival.BlobName, instanceId, existing.RuntimeStatus);
            return ArrivalOutcome.Duplicate;
        }
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                nameof(IngestRawOrchestrator), new IngestRawInput(arrival, Processing), new StartOrchestrationOptions(instanceId), cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is null)
            {
                throw;
            }
            // Two deliveries raced past the look-up: the first one won, this one is the duplicate.
            logger.LogInformation("Duplicate arrival {EventId} for {Blob}: lost the race to start {InstanceId}", arrival.EventId, arrival.BlobName, instanceId);
            return ArrivalOutcome.Duplicate;
        }
        logger.LogInformation("Arrival {EventId}: started ingest {InstanceId} for {Blob}", arrival.EventId, instanceId, arrival.BlobName);
        return ArrivalOutcome.Started;
    }
}
