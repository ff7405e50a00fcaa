using System.Collections.Concurrent;
using System.Reflection;
using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.Extensions.Logging;

namespace Drp.Local;

/// <summary>
/// The Azure Storage orchestration service as the gRPC sidecar (<c>TaskHubGrpcServer</c>) sees it: every call is
/// forwarded, with what the sidecar was not written for mended on the way.
/// <list type="bullet">
/// <item>Mend 1: the sidecar records a sub-orchestration start as its own subclass of
/// <see cref="SubOrchestrationInstanceCreatedEvent"/>, which has no <c>[DataContract]</c>; the backend's history
/// table would store it as an empty row and fail on the next replay ("TableEntity did not contain a 'EventType'
/// property"). Before each checkpoint, such events become the base type with the same fields.</item>
/// <item>Lock renewal: the sidecar never renews a work item's lock, so a message would reappear (and its activity
/// run twice) once the queue visibility timeout passed. Locks of running work items are renewed here.</item>
/// <item>Draining: on shutdown no new activity is handed out, running ones may finish, and orchestration episodes
/// keep running until the messages the backend had read ahead are used up (otherwise they would stay hidden for
/// the visibility timeout and hold up the next engine). Activities still running after that are handed back to the
/// queue at once.</item>
/// <item>Activity concurrency: the sidecar's dispatcher, once at its limit, polls every 500 ms for a free slot,
/// which left the worker idle most of the time; here a semaphore hands the next activity out the moment one
/// finishes, and the dispatcher is told there is no limit.</item>
/// <item>Waiting for completion polls every <c>statusPollingInterval</c> instead of the backend's 2 s.</item>
/// <item>A start delivered twice (the enqueue's response was lost on the network and the message sent again): the
/// sidecar's dispatcher fails on a second <see cref="ExecutionStartedEvent"/> of one execution ("potential corruption
/// in state storage") and would retry it forever. The copy is dropped, as DTFx's own dispatcher does; the backend
/// still deletes it with the batch.</item>
/// </list>
/// </summary>
internal sealed class MendedOrchestrationService :
    IOrchestrationService,
    IOrchestrationServiceClient,
    IOrchestrationServiceQueryClient,
    IOrchestrationServicePurgeClient
{
    private static readonly PropertyInfo[] SubOrchestrationCreatedProperties =
        typeof(SubOrchestrationInstanceCreatedEvent)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetSetMethod(nonPublic: true) is not null && p.GetIndexParameters().Length == 0)
            .ToArray();

    private readonly IOrchestrationService _service;
    private readonly IOrchestrationServiceClient _client;
    private readonly ILogger _logger;
    private readonly TimeSpan _orchestrationRenewInterval;
    private readonly TimeSpan _activityRenewInterval;
    private readonly TimeSpan _statusPollingInterval;
    private readonly ConcurrentDictionary<TaskOrchestrationWorkItem, LockRenewal> _orchestrations =
        new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<TaskActivityWorkItem, LockRenewal> _activities =
        new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _activityDrain = new();
    private readonly CancellationTokenSource _orchestrationDrain = new();
    private readonly SemaphoreSlim _activitySlots;
    private long _lastOrchestrationLockTicks = Environment.TickCount64;
    private int _started;
    private int _stopped;
    private Task? _stopping;

    public MendedOrchestrationService(IOrchestrationService service, ILogger logger,
        TimeSpan controlQueueVisibilityTimeout, TimeSpan workItemQueueVisibilityTimeout, TimeSpan statusPollingInterval,
        int maxConcurrentActivities)
    {
        _activitySlots = new SemaphoreSlim(maxConcurrentActivities, maxConcurrentActivities);
        _service = service;
        _client = (IOrchestrationServiceClient)service;
        _logger = logger;
        // Renew at a third of the timeout: two renewals can fail before a message reappears.
        _orchestrationRenewInterval = controlQueueVisibilityTimeout / 3;
        _activityRenewInterval = workItemQueueVisibilityTimeout / 3;
        _statusPollingInterval = statusPollingInterval;
    }

    /// <summary>Work items handed to the sidecar and not yet finished.</summary>
    public int InFlightCount => _orchestrations.Count + _activities.Count;

    /// <summary>Stops handing out activities; running ones continue, and orchestration episodes still run.</summary>
    public void BeginDrain() => _activityDrain.Cancel();

    /// <summary>Stops handing out any work item.</summary>
    public void StopHandingOutWork()
    {
        _activityDrain.Cancel();
        _orchestrationDrain.Cancel();
    }

    /// <summary>
    /// Waits until no work item runs and no orchestration episode has started for <paramref name="quietPeriod"/>
    /// (the backend has no read-ahead messages left), or <paramref name="timeout"/> passes. True if quiet.
    /// </summary>
    public async Task<bool> WaitForQuietAsync(TimeSpan timeout, TimeSpan quietPeriod, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (InFlightCount > 0 ||
                   Environment.TickCount64 - Interlocked.Read(ref _lastOrchestrationLockTicks) < quietPeriod.TotalMilliseconds)
            {
                await Task.Delay(50, deadline.Token).ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Hands every still-running activity back to the queue at once, so the next engine need not wait for the
    /// visibility timeout. Its result, if the worker still sends one, is then dropped by the backend.
    /// </summary>
    public async Task AbandonRunningActivitiesAsync()
    {
        foreach (var workItem in _activities.Keys.ToArray())
        {
            try
            {
                if (!await StopActivityAsync(workItem).ConfigureAwait(false))
                {
                    continue;
                }

                await _service.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
                _logger.LogInformation("Handed running activity {WorkItemId} back to the queue on shutdown", workItem.Id);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Could not hand activity {WorkItemId} back to the queue", workItem.Id);
            }
        }
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    public Task StartAsync()
    {
        Interlocked.Exchange(ref _started, 1);
        return _service.StartAsync();
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public Task StopAsync(bool isForced)
    {
        // Called by the engine and by the sidecar's dispatcher host, in either order: the backend stops once, and
        // every caller waits for that one stop (which releases the partition leases).
        lock (_activitySlots)
        {
            _stopping ??= StopOnceAsync(isForced);
            return _stopping;
        }
    }

    private async Task StopOnceAsync(bool isForced)
    {
        Interlocked.Exchange(ref _stopped, 1);
        StopHandingOutWork();
        foreach (var workItem in _orchestrations.Keys.ToArray())
        {
            await StopRenewalAsync(_orchestrations, workItem).ConfigureAwait(false);
        }

        foreach (var workItem in _activities.Keys.ToArray())
        {
            await StopActivityAsync(workItem).ConfigureAwait(false);
        }

        // A client-only engine never starts the backend, and the backend cannot stop unstarted.
        if (_started != 0)
        {
            await _service.StopAsync(isForced).ConfigureAwait(false);
        }
    }

    public Task CreateAsync() => _service.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => _service.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => _service.CreateIfNotExistsAsync();

    public Task DeleteAsync() => _service.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => _service.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        _service.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) =>
        _service.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) =>
        _service.GetDelayInSecondsAfterOnFetchException(exception);

    public int TaskOrchestrationDispatcherCount => _service.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => _service.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => _service.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => _service.TaskActivityDispatcherCount;

    // The limit is the semaphore in LockNextTaskActivityWorkItem; the sidecar's own check must never bite.
    public int MaxConcurrentTaskActivityWorkItems => int.MaxValue;

    // --- orchestration work items ------------------------------------------------------------------------------

    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        var workItem = await FetchAsync(
            async token => (TaskOrchestrationWorkItem?)await _service
                .LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, token).ConfigureAwait(false),
            _orchestrationDrain.Token, cancellationToken).ConfigureAwait(false);
        if (workItem is null)
        {
            return null!;
        }

        Interlocked.Exchange(ref _lastOrchestrationLockTicks, Environment.TickCount64);
        if (_orchestrationDrain.IsCancellationRequested)
        {
            // Locked while the drain began: give it back untouched.
            await _service.AbandonTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
            await _service.ReleaseTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
            await WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return null!;
        }

        DropDuplicateStarts(workItem);
        _orchestrations[workItem] = new LockRenewal(
            () => _service.RenewTaskOrchestrationWorkItemLockAsync(workItem), _orchestrationRenewInterval,
            workItem.InstanceId, _logger);
        return workItem;
    }

    /// <summary>Drops every start message of an execution that has started already, in history or earlier in the batch.</summary>
    private void DropDuplicateStarts(TaskOrchestrationWorkItem workItem)
    {
        if (workItem.NewMessages is not { Count: > 0 } messages)
        {
            return;
        }
        var started = new HashSet<string>(StringComparer.Ordinal);
        if (workItem.OrchestrationRuntimeState?.ExecutionStartedEvent?.OrchestrationInstance?.ExecutionId is { } running)
        {
            started.Add(running);
        }
        var kept = new List<TaskMessage>(messages.Count);
        foreach (var message in messages)
        {
            if (message.Event is ExecutionStartedEvent start && !started.Add(start.OrchestrationInstance?.ExecutionId ?? ""))
            {
                _logger.LogWarning("Dropped a duplicate start message of {InstanceId} (its enqueue was sent twice)", workItem.InstanceId);
                continue;
            }
            kept.Add(message);
        }
        if (kept.Count != messages.Count)
        {
            workItem.NewMessages = kept;
        }
    }

    public async Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem)
    {
        if (_orchestrations.TryGetValue(workItem, out var renewal))
        {
            await renewal.RenewNowAsync().ConfigureAwait(false);
        }
        else
        {
            await _service.RenewTaskOrchestrationWorkItemLockAsync(workItem).ConfigureAwait(false);
        }
    }

    public async Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState, IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        await StopRenewalAsync(_orchestrations, workItem).ConfigureAwait(false);
        ReplaceSidecarSubOrchestrationEvents(newOrchestrationRuntimeState);
        if (!ReferenceEquals(newOrchestrationRuntimeState, workItem.OrchestrationRuntimeState))
        {
            ReplaceSidecarSubOrchestrationEvents(workItem.OrchestrationRuntimeState);
        }

        await _service.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState,
            outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState)
            .ConfigureAwait(false);
    }

    public async Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopRenewalAsync(_orchestrations, workItem).ConfigureAwait(false);
        await _service.AbandonTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
    }

    public async Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopRenewalAsync(_orchestrations, workItem).ConfigureAwait(false);
        await _service.ReleaseTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
    }

    // --- activity work items -----------------------------------------------------------------------------------

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
    {
        // Wait for a free slot; the drain cancels this wait (nothing has been read from the queue yet).
        var slot = await FetchAsync<object>(async token =>
        {
            await _activitySlots.WaitAsync(token).ConfigureAwait(false);
            return _activitySlots;
        }, _activityDrain.Token, cancellationToken).ConfigureAwait(false);
        if (slot is null)
        {
            return null!;
        }

        TaskActivityWorkItem? workItem;
        try
        {
            // Never cancelled from here: a dequeue cancelled in flight loses its message until the visibility
            // timeout. The backend ends the wait itself when it stops.
            workItem = await _service.LockNextTaskActivityWorkItem(receiveTimeout, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch
        {
            _activitySlots.Release();
            throw;
        }

        if (workItem is null)
        {
            // The backend is stopping.
            _activitySlots.Release();
            return null!;
        }

        if (_activityDrain.IsCancellationRequested)
        {
            // Read while the drain began: straight back to the queue (visible again after the backend's 2 s).
            _activitySlots.Release();
            await _service.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
            await WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return null!;
        }

        _activities[workItem] = new LockRenewal(
            () => _service.RenewTaskActivityWorkItemLockAsync(workItem), _activityRenewInterval, workItem.Id, _logger);
        return workItem;
    }

    public async Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem)
    {
        if (_activities.TryGetValue(workItem, out var renewal))
        {
            await renewal.RenewNowAsync().ConfigureAwait(false);
            return workItem;
        }

        return await _service.RenewTaskActivityWorkItemLockAsync(workItem).ConfigureAwait(false);
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        if (!await StopActivityAsync(workItem).ConfigureAwait(false) && _stopped != 0)
        {
            // Already handed back to the queue on shutdown; the next engine runs it again.
            return;
        }

        await _service.CompleteTaskActivityWorkItemAsync(workItem, responseMessage).ConfigureAwait(false);
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        if (!await StopActivityAsync(workItem).ConfigureAwait(false) && _stopped != 0)
        {
            return;
        }

        await _service.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
    }

    // --- client ------------------------------------------------------------------------------------------------

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) =>
        _client.CreateTaskOrchestrationAsync(creationMessage);

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[] dedupeStatuses) =>
        _client.CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses);

    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) =>
        _client.SendTaskOrchestrationMessageAsync(message);

    public Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages) =>
        _client.SendTaskOrchestrationMessageBatchAsync(messages);

    public async Task<OrchestrationState> WaitForOrchestrationAsync(string instanceId, string executionId,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(timeout);
        }

        try
        {
            while (true)
            {
                var state = await _client.GetOrchestrationStateAsync(instanceId, executionId).ConfigureAwait(false);
                if (state is not null && IsTerminal(state.OrchestrationStatus))
                {
                    // One more read through the backend's own wait, which also fetches large inputs and outputs
                    // kept in blobs.
                    return Normalize(await _client.WaitForOrchestrationAsync(instanceId, executionId,
                        TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false));
                }

                await Task.Delay(_statusPollingInterval, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null!;
        }
    }

    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) =>
        _client.ForceTerminateTaskOrchestrationAsync(instanceId, reason);

    public async Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions)
    {
        var states = await _client.GetOrchestrationStateAsync(instanceId, allExecutions).ConfigureAwait(false);
        foreach (var state in states ?? [])
        {
            Normalize(state);
        }

        return states!;
    }

    public async Task<OrchestrationState> GetOrchestrationStateAsync(string instanceId, string executionId) =>
        Normalize(await _client.GetOrchestrationStateAsync(instanceId, executionId).ConfigureAwait(false));

    public Task<string> GetOrchestrationHistoryAsync(string instanceId, string executionId) =>
        _client.GetOrchestrationHistoryAsync(instanceId, executionId);

    public Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc,
        OrchestrationStateTimeRangeFilterType timeRangeFilterType) =>
        _client.PurgeOrchestrationHistoryAsync(thresholdDateTimeUtc, timeRangeFilterType);

    public async Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query,
        CancellationToken cancellationToken)
    {
        var result = await ((IOrchestrationServiceQueryClient)_service)
            .GetOrchestrationWithQueryAsync(query, cancellationToken).ConfigureAwait(false);
        foreach (var state in result.OrchestrationState)
        {
            Normalize(state);
        }

        return result;
    }

    public Task<PurgeResult> PurgeInstanceStateAsync(string instanceId) =>
        ((IOrchestrationServicePurgeClient)_service).PurgeInstanceStateAsync(instanceId);

    public Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter) =>
        ((IOrchestrationServicePurgeClient)_service).PurgeInstanceStateAsync(purgeInstanceFilter);

    // --- helpers -----------------------------------------------------------------------------------------------

    /// <summary>Replaces the sidecar's subclass of the sub-orchestration start event by the base type (mend 1).</summary>
    internal static int ReplaceSidecarSubOrchestrationEvents(OrchestrationRuntimeState? state)
    {
        if (state is null)
        {
            return 0;
        }

        // The same event usually sits in both lists; it is replaced by one copy in both.
        var copies = new Dictionary<HistoryEvent, HistoryEvent>(ReferenceEqualityComparer.Instance);
        return Replace(state.Events, copies) + Replace(state.NewEvents, copies);

        static int Replace(IList<HistoryEvent> events, Dictionary<HistoryEvent, HistoryEvent> copies)
        {
            var replaced = 0;
            for (var i = 0; i < events.Count; i++)
            {
                if (events[i] is SubOrchestrationInstanceCreatedEvent created &&
                    created.GetType() != typeof(SubOrchestrationInstanceCreatedEvent))
                {
                    if (!copies.TryGetValue(created, out var copy))
                    {
                        copy = ToBaseType(created);
                        copies[created] = copy;
                    }

                    events[i] = copy;
                    replaced++;
                }
            }

            return replaced;
        }
    }

    private static SubOrchestrationInstanceCreatedEvent ToBaseType(SubOrchestrationInstanceCreatedEvent created)
    {
        var copy = new SubOrchestrationInstanceCreatedEvent(created.EventId);
        foreach (var property in SubOrchestrationCreatedProperties)
        {
            property.SetValue(copy, property.GetValue(created));
        }

        return copy;
    }

    private static bool IsTerminal(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated
            or OrchestrationStatus.Canceled;

    private static OrchestrationState Normalize(OrchestrationState state)
    {
        // The sidecar copies Tags into a protobuf map and Name into a protobuf string, which reject null. An instance
        // row has no name when its first checkpoint's response was lost: DTFx took its own write for another
        // worker's ("split brain") and later checkpoints only merge the status.
        if (state is not null)
        {
            state.Tags ??= new Dictionary<string, string>();
            state.Name ??= "";
            state.Version ??= "";
            if (state.OrchestrationInstance is { } instance)
            {
                instance.ExecutionId ??= "";
            }
            // Such a row lacks its times too: protobuf timestamps need UTC, and DateTime.MinValue is unspecified.
            state.CreatedTime = DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc);
            state.LastUpdatedTime = DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc);
            state.CompletedTime = DateTime.SpecifyKind(state.CompletedTime, DateTimeKind.Utc);
        }

        return state!;
    }

    private static async Task<T?> FetchAsync<T>(Func<CancellationToken, Task<T?>> fetch, CancellationToken drain,
        CancellationToken cancellationToken)
        where T : class
    {
        if (drain.IsCancellationRequested)
        {
            await WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drain);
        try
        {
            return await fetch(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (drain.IsCancellationRequested &&
                                                 !cancellationToken.IsCancellationRequested)
        {
            await WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
    }

    private static async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        // Draining: park the sidecar's fetch loop until it is stopped (which cancels the token).
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops an activity's renewal and frees its slot. False if it was not tracked.</summary>
    private async Task<bool> StopActivityAsync(TaskActivityWorkItem workItem)
    {
        if (!await StopRenewalAsync(_activities, workItem).ConfigureAwait(false))
        {
            return false;
        }

        _activitySlots.Release();
        return true;
    }

    /// <summary>Stops a work item's renewal. False if the work item was not tracked (already finished or handed back).</summary>
    private static async Task<bool> StopRenewalAsync<TKey>(ConcurrentDictionary<TKey, LockRenewal> tracked, TKey workItem)
        where TKey : notnull
    {
        if (!tracked.TryRemove(workItem, out var renewal))
        {
            return false;
        }

        await renewal.DisposeAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>Renews one work item's lock every interval until disposed; renewals never overlap.</summary>
    private sealed class LockRenewal : IAsyncDisposable
    {
        private readonly Func<Task> _renew;
        private readonly string _workItemId;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly Task _loop;

        public LockRenewal(Func<Task> renew, TimeSpan interval, string workItemId, ILogger logger)
        {
            _renew = renew;
            _workItemId = workItemId;
            _logger = logger;
            _loop = Task.Run(() => LoopAsync(interval));
        }

        public async Task RenewNowAsync()
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await _renew().ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            // Wait out a renewal in progress, so the caller's next storage call sees the newest pop receipt.
            await _gate.WaitAsync().ConfigureAwait(false);
            _gate.Release();
            _stop.Dispose();
        }

        private static bool LostLock(Exception e) =>
            e is Azure.RequestFailedException { Status: 404 } or Azure.RequestFailedException { ErrorCode: "PopReceiptMismatch" }
            || (e.InnerException is { } inner && LostLock(inner));

        private async Task LoopAsync(TimeSpan interval)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    await _gate.WaitAsync(_stop.Token).ConfigureAwait(false);
                    try
                    {
                        await _renew().ConfigureAwait(false);
                        _logger.LogDebug("Renewed the lock of work item {WorkItemId}", _workItemId);
                    }
                    catch (Exception ex) when (LostLock(ex))
                    {
                        // A renewal whose response was lost changed the pop receipt: no later renewal can succeed.
                        _logger.LogWarning("Lost the lock of work item {WorkItemId} ({Error}): its message will be delivered again", _workItemId, ex.InnerException?.Message.Split('\n')[0] ?? ex.Message);
                        return;
                    }
                    catch (Exception ex)
                    {
                        _logger.LogWarning(ex, "Could not renew the lock of work item {WorkItemId}", _workItemId);
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
