using System.Text.Json;
using Azure.Messaging.EventGrid;
using Azure.Messaging.EventGrid.SystemEvents;

namespace Drp.Storage.Arrivals;

/// <summary>A raw image that landed in Blob Storage, as told by its BlobCreated event.</summary>
public sealed record RawArrival(string EventId, string Container, string BlobName, string? ETag, long ContentLength);

/// <summary>An arrival message that is not a usable BlobCreated event (poison input: recorded, never retried).</summary>
public sealed class InvalidArrivalException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>
/// The Event Grid <c>Microsoft.Storage.BlobCreated</c> schema, both ways: parsing what Event Grid delivers to the
/// arrivals queue, and (locally, where no Event Grid runs) building the very same message for an upload.
/// </summary>
public static class BlobCreatedEvents
{
    public const string EventType = "Microsoft.Storage.BlobCreated";

    private const string SubjectPrefix = "/blobServices/default/containers/";

    /// <summary>Parses one queue message body (the JSON of an Event Grid event, or a one-element array of them).</summary>
    public static RawArrival Parse(string messageText)
    {
        EventGridEvent[] events;
        try
        {
            events = EventGridEvent.ParseMany(BinaryData.FromString(messageText));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw new InvalidArrivalException("arrival message is not an Event Grid event: " + e.Message, e);
        }
        if (events.Length != 1)
        {
            throw new InvalidArrivalException($"arrival message holds {events.Length} events, expected 1");
        }
        var ev = events[0];
        if (ev.EventType != EventType)
        {
            throw new InvalidArrivalException($"event {ev.Id} has type {ev.EventType}, expected {EventType}");
        }
        if (!ev.Subject.StartsWith(SubjectPrefix, StringComparison.Ordinal))
        {
            throw new InvalidArrivalException($"event {ev.Id} has an unexpected subject '{ev.Subject}'");
        }
        var rest = ev.Subject[SubjectPrefix.Length..];
        int sep = rest.IndexOf("/blobs/", StringComparison.Ordinal);
        if (sep <= 0)
        {
            throw new InvalidArrivalException($"event {ev.Id} subject names no blob: '{ev.Subject}'");
        }
        var container = rest[..sep];
        var blob = rest[(sep + "/blobs/".Length)..];
        if (!ev.TryGetSystemEventData(out object? data) || data is not StorageBlobCreatedEventData created)
        {
            throw new InvalidArrivalException($"event {ev.Id} carries no BlobCreated data");
        }
        return new RawArrival(ev.Id, container, blob, created.ETag, created.ContentLength ?? -1);
    }

    /// <summary>Builds the Event Grid event JSON that Azure would deliver for an upload (used by the local host).</summary>
    public static string Create(string accountName, string container, string blobName, Uri blobUri, string? eTag, long contentLength, string eventId)
    {
        var data = new Dictionary<string, object?>
        {
            ["api"] = "PutBlob",
            ["clientRequestId"] = eventId,
            ["requestId"] = eventId,
            ["eTag"] = eTag,
            ["contentType"] = "application/fits",
            ["contentLength"] = contentLength,
            ["blobType"] = "BlockBlob",
            ["url"] = blobUri.ToString(),
            ["sequencer"] = "0",
            ["storageDiagnostics"] = new Dictionary<string, string> { ["batchId"] = eventId },
        };
        // One event per message, in the Event Grid schema, as Event Grid delivers to a Storage queue.
        var ev = new Dictionary<string, object?>
        {
            ["id"] = eventId,
            ["topic"] = $"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/{accountName}",
            ["subject"] = $"{SubjectPrefix}{container}/blobs/{blobName}",
            ["eventType"] = EventType,
            ["eventTime"] = DateTimeOffset.UtcNow.ToString("O"),
            ["data"] = data,
            ["dataVersion"] = "",
            ["metadataVersion"] = "1",
        };
        return JsonSerializer.Serialize(ev);
    }
}
