using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;

namespace Drp.Local;

/// <summary>
/// Settings of <see cref="LocalDurableEngine"/>: where the task hub lives and how eagerly the Azure Storage backend
/// polls, leases and hides messages. The defaults suit one developer machine: a killed worker's partitions and
/// messages come back within about 15 s, and an idle engine polls storage about once a second.
/// </summary>
public sealed class LocalDurableEngineOptions
{
    /// <summary>The configuration section the options bind from (<c>DurableEngine</c>).</summary>
    public const string SectionName = "DurableEngine";

    /// <summary>Storage connection string (Azurite's from <see cref="AzuriteHost.ConnectionString"/>, or a real account).</summary>
    [Required]
    public string StorageConnectionString { get; set; } = "";

    /// <summary>Retries and timeouts of the task hub's storage calls (the host sets <c>Drp:Storage:Resilience</c>).</summary>
    public Drp.Storage.Resilience.StorageResilienceOptions StorageResilience { get; set; } = new();

    /// <summary>
    /// Task hub name: 3 to 45 letters and digits, starting with a letter (it prefixes queue, table and container
    /// names). Two engines on the same hub and storage share the work and the history.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    public string TaskHubName { get; set; } = "drplocal";

    /// <summary>
    /// Control-queue partitions (1 to 16): the most engines that can run orchestrations of one hub at once. Fixed
    /// when the hub is first created; later engines on that hub must use the same count.
    /// </summary>
    [Range(1, 16)]
    public int PartitionCount { get; set; } = 4;

    /// <summary>
    /// False: a client-only engine (the gRPC API serves the <c>DurableTaskClient</c>, but no orchestration or
    /// activity runs here and no partition is leased), for tools that start, query or signal a hub that another
    /// process works on.
    /// </summary>
    public bool ProcessWork { get; set; } = true;

    /// <summary>This engine's name in partition leases. Null: machine name, process id and a random suffix.</summary>
    public string? WorkerId { get; set; }

    /// <summary>Activities run at once by this engine.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentActivities { get; set; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>Orchestration episodes run at once by this engine.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentOrchestrations { get; set; } = 50;

    /// <summary>
    /// How long a partition lease lasts without renewal: after a crash, another engine takes the partitions over
    /// after at most this long (backend default 30 s).
    /// </summary>
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often held partition leases are renewed (backend default 10 s); well under <see cref="LeaseInterval"/>.</summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often free or expired partition leases are looked for (backend default 10 s).</summary>
    public TimeSpan LeaseAcquireInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a dequeued orchestration message stays hidden (backend default 5 min). Messages a stopped or crashed
    /// engine had read ahead come back after this long, so it bounds how long a restarted run waits. The engine
    /// renews it while an episode runs; a message read ahead by a live engine that reappears is recognised as a
    /// duplicate by the backend.
    /// </summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a dequeued activity message stays hidden (backend default 5 min): after a crash, the activity runs
    /// again after at most this long. The engine renews it every third of this while the activity runs, so long
    /// activities are safe.
    /// </summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest pause between polls of an idle queue (backend default 30 s).</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a client waiting for an orchestration to finish reads its status (the backend polls every 2 s).
    /// </summary>
    public TimeSpan StatusPollingInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// On shutdown, how long to let running orchestration episodes and activities finish before the worker stops;
    /// activities still running then are handed back to the queue and run again by the next engine.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Least severe level logged by the infrastructure under the engine (the Durable Task backend, Kestrel, gRPC);
    /// at Information they log every queue message and gRPC call. The application's own categories are untouched.
    /// </summary>
    public LogLevel InfrastructureLogLevel { get; set; } = LogLevel.Warning;

    /// <summary>Largest gRPC message between the worker and the engine, in bytes (gRPC's default is 4 MiB).</summary>
    [Range(4 * 1024 * 1024, int.MaxValue)]
    public int MaxGrpcMessageBytes { get; set; } = 64 * 1024 * 1024;
}
