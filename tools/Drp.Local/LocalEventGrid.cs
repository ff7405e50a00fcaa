using Drp.Storage;
using Drp.Storage.Arrivals;

namespace Drp.Local;

/// <summary>
/// Where no Event Grid runs (Azurite), this plays its part for the raw container: after an upload it delivers the
/// same <c>Microsoft.Storage.BlobCreated</c> event that Azure's subscription would put on the arrivals queue.
/// </summary>
public sealed class LocalEventGrid(StorageClients storage)
{
    /// <summary>Uploads a raw file and delivers its BlobCreated event; returns the event id.</summary>
    public async Task<string> UploadRawAsync(string localPath, string blobName, CancellationToken cancellationToken = default)
    {
        var blob = storage.RawContainer.GetBlobClient(blobName);
        await using var file = File.OpenRead(localPath);
        var info = (await blob.UploadAsync(file, overwrite: true, cancellationToken)).Value;
        var props = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
        string eventId = Guid.NewGuid().ToString();
        await PublishAsync(storage.Options.RawContainer, blobName, blob.Uri, info.ETag.ToString(), props.ContentLength, eventId, cancellationToken);
        return eventId;
    }

    /// <summary>Delivers a BlobCreated event for a blob (also used by tests to deliver a duplicate).</summary>
    public async Task PublishAsync(string container, string blobName, Uri blobUri, string? eTag, long contentLength, string eventId, CancellationToken cancellationToken = default)
    {
        var json = BlobCreatedEvents.Create(storage.Blobs.AccountName, container, blobName, blobUri, eTag, contentLength, eventId);
        await storage.ArrivalsQueue.SendMessageAsync(json, cancellationToken);
    }
}
