using System.ComponentModel.DataAnnotations;

namespace Drp.Storage.Resilience;

/// <summary>
/// How Blob and Table calls survive throttling and transient faults: bound from <c>Drp:Storage:Resilience</c>.
/// This pipeline is the only retry in force for the clients <see cref="StorageClients"/> builds (the Azure SDK's own
/// retry is switched off for them), so attempts and total time are bounded here and nowhere else.
/// </summary>
public sealed class StorageResilienceOptions
{
    public const string SectionName = "Drp:Storage:Resilience";

    /// <summary>
    /// Retries after the first attempt (so at most this + 1 attempts per call). The default is high enough that
    /// <see cref="TotalTimeout"/> is what ends a call that keeps failing (an outage of a minute is waited out).
    /// </summary>
    [Range(0, 1000)]
    public int MaxRetryAttempts { get; set; } = 50;

    /// <summary>First backoff delay; later ones double (exponential, with jitter).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Cap on one computed backoff delay (a longer Retry-After from the service is still honoured).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on one call including every retry and wait; past it the call fails with a typed error.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Bound on one attempt (a slow response past it is abandoned and retried).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests in flight at once to one storage account from this process (Blob and Table together).</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentRequestsPerAccount { get; set; } = 32;
}
