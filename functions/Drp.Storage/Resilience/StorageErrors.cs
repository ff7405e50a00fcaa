using System.Globalization;
using System.Net.Sockets;
using Azure;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Polly.Timeout;

namespace Drp.Storage.Resilience;

/// <summary>
/// A storage call still failed after the bounded attempts and total time of the resilience pipeline: the storage is
/// down or keeps failing. Retrying at once would not help; the caller fails (a quantum, a command) with this.
/// </summary>
public sealed class StorageUnavailableException(string operation, string service, string path, int attempts, TimeSpan elapsed, string lastFailure, Exception lastError)
    : IOException($"{operation} {service} {path}: {Summary(attempts, elapsed, lastFailure)}", lastError)
{
    /// <summary>What was tried: attempts, time, and the last failure's class.</summary>
    public string Detail { get; } = Summary(attempts, elapsed, lastFailure);

    private static string Summary(int attempts, TimeSpan elapsed, string lastFailure) =>
        string.Create(CultureInfo.InvariantCulture, $"gave up after {attempts} attempt{(attempts == 1 ? "" : "s")} in {elapsed.TotalSeconds:F1} s; the last failed with {lastFailure}");
}

/// <summary>
/// Which storage failures are transient (retried) and how long the service asked us to wait. Retried: 408, 429, 500,
/// 502, 503, 504, attempt timeouts, connection resets and bodies cut short. Never retried: every other status,
/// in particular 404, 403, 409 and 412, which a retry cannot change.
/// </summary>
public static class StorageErrors
{
    /// <summary>The first exception of type <typeparamref name="T"/> in <paramref name="e"/>'s chain of inner exceptions (itself included).</summary>
    public static T? Find<T>(Exception? e) where T : Exception =>
        e switch
        {
            null => null,
            T t => t,
            AggregateException a => a.InnerExceptions.Select(Find<T>).FirstOrDefault(x => x is not null),
            _ => Find<T>(e.InnerException),
        };

    /// <summary>HTTP statuses worth another attempt.</summary>
    public static bool IsTransientStatus(int status) => status is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>True when another attempt of the same call may succeed.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        IncompleteReadException incomplete => incomplete.IsTransient,
        FileNotFoundException or DatasetUnavailableException or StorageUnavailableException => false,
        RequestFailedException { Status: 0 } rfe => rfe.InnerException is null || IsTransient(rfe.InnerException),
        RequestFailedException rfe => IsTransientStatus(rfe.Status),
        TimeoutRejectedException => true,
        TimeoutException => true,
        HttpRequestException => true,
        SocketException => true,
        IOException => true,
        // A response body cut short by the network: the SDK's own parser of an error (or of a listing) fails on it.
        System.Xml.XmlException => true,
        System.Text.Json.JsonException => true,
        AggregateException agg => agg.InnerExceptions.Count > 0 && agg.InnerExceptions.All(IsTransient),
        _ => false,
    };

    /// <summary>
    /// The wait the service asked for: <c>x-ms-retry-after-ms</c> or <c>retry-after-ms</c> (milliseconds), else
    /// <c>Retry-After</c> (seconds or an HTTP date); null when the response names none.
    /// </summary>
    public static TimeSpan? RetryAfter(Response? response, DateTimeOffset? now = null)
    {
        if (response is null)
        {
            return null;
        }
        foreach (var name in (string[])["x-ms-retry-after-ms", "retry-after-ms"])
        {
            if (response.Headers.TryGetValue(name, out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m >= 0)
            {
                return TimeSpan.FromMilliseconds(m);
            }
        }
        if (response.Headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - (now ?? DateTimeOffset.UtcNow);
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }
        return null;
    }

    /// <summary>The Retry-After of the response behind a failed call, if any.</summary>
    public static TimeSpan? RetryAfter(Exception? e) => e is RequestFailedException rfe ? RetryAfter(rfe.GetRawResponse()) : null;

    /// <summary>A short class of a failed response for logs and metrics: its status and error code.</summary>
    public static string Describe(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) ? $"HTTP {response.Status} {code}" : $"HTTP {response.Status}";

    /// <summary>A short class of the failure for logs and metrics: the HTTP status, or the exception type.</summary>
    public static string Describe(Exception e) => e switch
    {
        RequestFailedException { Status: > 0 } rfe => $"HTTP {rfe.Status} {rfe.ErrorCode}",
        RequestFailedException rfe => $"transport: {rfe.InnerException?.GetType().Name ?? "unknown"}",
        OperationCanceledException or TimeoutRejectedException or TimeoutException => "attempt timed out",
        _ => e.GetType().Name,
    };
}
