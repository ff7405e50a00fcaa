using Azure;
using Azure.Storage.Queues;

namespace Drp.Storage.Resilience;

/// <summary>Settling a received queue message so that a retried request cannot fail what the first one did.</summary>
public static class QueueMessages
{
    /// <summary>
    /// Deletes a received message. A 404 means it is gone already: an earlier attempt deleted it and its response
    /// was lost, or its visibility lapsed and another receiver holds it now (that delivery will settle it).
    /// </summary>
    /// <returns>False when the message was no longer there.</returns>
    public static async Task<bool> DeleteReceivedAsync(this QueueClient queue, string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }
}
