using System.Collections.Concurrent;
using System.Diagnostics;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Drp.Core.Datasets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Drp.Storage.Resilience;

/// <summary>
/// The Polly v8 pipeline every Blob and Table call of one storage account goes through: a bounded total time around
/// bounded retries (exponential backoff with jitter, or the service's Retry-After when it names one) around a bounded
/// attempt, with a per-account limit on requests in flight. Every retry is logged and counted per dataset type.
/// </summary>
public sealed class StorageResilience
{
    private static readonly ResiliencePropertyKey<string> OperationKey = new("drp.operation");
    private static readonly ResiliencePropertyKey<string> DatasetTypeKey = new("drp.datasetType");
    private static readonly ResiliencePropertyKey<string> PathKey = new("drp.path");
    private static readonly ResiliencePropertyKey<CallState> StateKey = new("drp.state");
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> AccountSlots = new(StringComparer.OrdinalIgnoreCase);

    private readonly ResiliencePipeline _pipeline;
    private readonly SemaphoreSlim _slots;
    private readonly ILogger _logger;

    /// <param name="options">Attempts, delays, timeouts and the concurrency limit.</param>
    /// <param name="account">The storage account's name: requests to one account share one concurrency limit in this process.</param>
    /// <param name="metrics">Where retries are counted.</param>
    /// <param name="logger">Where retries are logged.</param>
    public StorageResilience(StorageResilienceOptions options, string account, DatasetStoreMetrics metrics, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(account);
        if (options.BaseDelay < TimeSpan.Zero || options.MaxDelay < options.BaseDelay || options.TotalTimeout <= TimeSpan.Zero || options.AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("resilience options need 0 <= BaseDelay <= MaxDelay and positive TotalTimeout and AttemptTimeout", nameof(options));
        }
        Options = options;
        Metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _slots = AccountSlots.GetOrAdd($"{account}|{options.MaxConcurrentRequestsPerAccount}",
            _ => new SemaphoreSlim(options.MaxConcurrentRequestsPerAccount, options.MaxConcurrentRequestsPerAccount));
        _pipeline = new ResiliencePipelineBuilder()
            .AddTimeout(options.TotalTimeout)
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e ? StorageErrors.RetryAfter(e)
                    : args.Outcome.Result is Response r ? StorageErrors.RetryAfter(r) : null),
                OnRetry = args =>
                {
                    string type = args.Context.Properties.GetValue(DatasetTypeKey, "untyped");
                    string error = args.Outcome.Exception is { } e ? StorageErrors.Describe(e) : StorageErrors.Describe((Response)args.Outcome.Result!);
                    Metrics.RecordRetry(type);
                    Metrics.RecordFault(error);
                    if (args.Context.Properties.GetValue(StateKey, null!) is { } state)
                    {
                        (state.LastFailure, state.LastError) = (error, args.Outcome.Exception);
                    }
                    // A fault or two is the cloud's weather; a call that keeps failing is worth an operator's eye.
                    _logger.Log(args.AttemptNumber >= 2 ? LogLevel.Warning : LogLevel.Information,
                        "Retrying {Operation} of {DatasetType} {Path}: attempt {Attempt} failed with {Error}; next in {DelayMs:F0} ms",
                        args.Context.Properties.GetValue(OperationKey, "call"), type, args.Context.Properties.GetValue(PathKey, ""),
                        args.AttemptNumber + 1, error, args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The options in force.</summary>
    public StorageResilienceOptions Options { get; }

    /// <summary>Where retries (and the store's GETs, bytes and cache use) are counted.</summary>
    public DatasetStoreMetrics Metrics { get; }

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, fails with a non-transient error, or the attempts or the
    /// total time are spent; the last failure is then thrown. Each attempt holds one of the account's slots.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(string operation, string datasetType, string path, Func<CancellationToken, Task<T>> attempt,
        CancellationToken cancellationToken = default)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        var state = new CallState();
        context.Properties.Set(OperationKey, operation);
        context.Properties.Set(DatasetTypeKey, datasetType);
        context.Properties.Set(PathKey, path);
        context.Properties.Set(StateKey, state);
        long started = Stopwatch.GetTimestamp();
        try
        {
            return await _pipeline.ExecuteAsync(async ctx =>
            {
                await _slots.WaitAsync(ctx.CancellationToken);
                try
                {
                    state.Attempts++;
                    return await attempt(ctx.CancellationToken);
                }
                finally
                {
                    _slots.Release();
                }
            }, context);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not StorageUnavailableException
            && (StorageErrors.IsTransient(e) || e is OperationCanceledException))
        {
            // Attempts or total time spent on transient failures: one typed error that says what was tried.
            // At the total timeout, the failure worth reporting (and classifying) is the last attempt's, not the timeout's.
            bool timedOut = e is TimeoutRejectedException && state.LastFailure is not null;
            var failure = timedOut ? $"{state.LastFailure} (then the total timeout)" : StorageErrors.Describe(e);
            throw new StorageUnavailableException(operation, datasetType, path, state.Attempts, Stopwatch.GetElapsedTime(started), failure,
                timedOut && state.LastError is { } last ? last : e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// An Azure SDK pipeline policy that puts this pipeline in the retry slot of a client (Table clients): each HTTP
    /// request is retried here, and a transient status left after the last attempt reaches the client as usual.
    /// </summary>
    public HttpPipelinePolicy AsHttpPolicy(string datasetType) => new HttpPolicy(this, datasetType);

    private static bool ShouldRetry(Outcome<object> outcome, ResilienceContext context)
    {
        if (outcome.Exception is { } e)
        {
            // A cancellation the caller asked for (or the total timeout) ends the call; any other one is a timeout inside the SDK.
            if (e is OperationCanceledException)
            {
                return !context.CancellationToken.IsCancellationRequested;
            }
            return StorageErrors.IsTransient(e);
        }
        return outcome.Result is Response r && StorageErrors.IsTransientStatus(r.Status);
    }

    /// <summary>What one call has tried so far.</summary>
    private sealed class CallState
    {
        public int Attempts;
        public string? LastFailure;
        public Exception? LastError;
    }

    private sealed class HttpPolicy(StorageResilience owner, string datasetType) : HttpPipelinePolicy
    {
        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            await owner.ExecuteAsync<Response>(message.Request.Method.ToString(), datasetType, message.Request.Uri.Path, async _ =>
            {
                // The SDK's request cannot take the attempt's token: its network timeout is how a stalled attempt ends.
                message.NetworkTimeout = owner.Options.AttemptTimeout;
                await ProcessNextAsync(message, pipeline);
                return message.Response;
            }, message.CancellationToken);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();
    }
}
