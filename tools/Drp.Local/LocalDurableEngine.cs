using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Drp.Storage.Resilience;
using System.Net;
using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Drp.Local;

/// <summary>
/// The persistent Durable Task engine of the local platform: the Durable Task Framework's Azure Storage backend
/// (the default backend of Durable Functions) served through the public gRPC sidecar <c>TaskHubGrpcServer</c> on
/// Kestrel (HTTP/2, 127.0.0.1, a free port), for the modern <c>Microsoft.DurableTask</c> worker and client. It is an
/// <see cref="IHostedService"/>; add it with
/// <see cref="LocalDurableEngineServiceCollectionExtensions.AddLocalDurableEngine(IServiceCollection, Action{Microsoft.DurableTask.DurableTaskRegistry}, Action{LocalDurableEngineOptions}?)"/>,
/// which also adds the worker and the <c>DurableTaskClient</c> that talk to it through <see cref="Channel"/>.
/// </summary>
/// <remarks>
/// Shutdown is a drain (<see cref="StoppingAsync"/> runs before the worker stops): no new activity is handed out,
/// running ones get <see cref="LocalDurableEngineOptions.DrainTimeout"/> to finish, orchestration episodes use up the
/// messages the backend had read ahead, activities still running are handed back to the queue, and the partition
/// leases are released before <see cref="StopAsync"/> returns, so the next engine on the hub starts at once.
/// See docs/local-platform.md.
/// </remarks>
public sealed class LocalDurableEngine : IHostedLifecycleService, IAsyncDisposable
{
    private readonly LocalDurableEngineOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _sidecar;
    private AzureStorageOrchestrationService? _backend;
    private MendedOrchestrationService? _service;
    private int _disposed;

    /// <summary>Creates the engine; nothing runs before <see cref="StartAsync"/>.</summary>
    public LocalDurableEngine(IOptions<LocalDurableEngineOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LocalDurableEngine>();
        WorkerId = _options.WorkerId ??
                   $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
        // The channel exists before the sidecar listens (the worker and client take it when they are built); it
        // connects to whatever port Kestrel got, and waits for it if the engine is still starting.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        Channel = GrpcChannel.ForAddress("http://127.0.0.1", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = _options.MaxGrpcMessageBytes,
            MaxSendMessageSize = _options.MaxGrpcMessageBytes,
            LoggerFactory = new LevelFloorLoggerFactory(loggerFactory, _options.InfrastructureLogLevel),
        });
    }

    /// <summary>The gRPC channel to the sidecar, for the worker and the client.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>The sidecar's address once started (<c>http://127.0.0.1:port</c>), else null.</summary>
    public Uri? Address { get; private set; }

    /// <summary>This engine's name in the task hub's partition leases.</summary>
    public string WorkerId { get; }

    /// <summary>The task hub's own storage calls: retries and the faults they absorbed.</summary>
    public DatasetStoreMetrics TaskHubMetrics { get; } = new();

    /// <summary>The task hub this engine serves.</summary>
    public string TaskHubName => _options.TaskHubName;

    /// <inheritdoc />
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Creates the task hub in storage if needed, then starts the sidecar.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_sidecar is not null)
        {
            throw new InvalidOperationException("The engine is already started; a stopped engine cannot restart.");
        }

        var stopwatch = Stopwatch.StartNew();
        var backendLogs = new LevelFloorLoggerFactory(_loggerFactory, _options.InfrastructureLogLevel);
        _backend = new AzureStorageOrchestrationService(CreateSettings(_options, WorkerId, backendLogs, TaskHubMetrics));
        _service = new MendedOrchestrationService(_backend, _logger, _options.ControlQueueVisibilityTimeout,
            _options.WorkItemQueueVisibilityTimeout, _options.StatusPollingInterval, _options.MaxConcurrentActivities);
        await _service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);

        _sidecar = BuildSidecar(_service, backendLogs);
        await _sidecar.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = _sidecar.Services.GetRequiredService<IServer>().Features
            .Get<IServerAddressesFeature>()?.Addresses.Single()
            ?? throw new InvalidOperationException("Kestrel did not report the sidecar's address.");
        Address = new Uri(address);
        _port.TrySetResult(Address.Port);
        _logger.LogInformation(
            "Durable engine {WorkerId} serving task hub {TaskHub} ({PartitionCount} partitions, processing {ProcessWork}) on {Address}; started in {ElapsedMs} ms",
            WorkerId, _options.TaskHubName, _options.PartitionCount, _options.ProcessWork, Address,
            stopwatch.ElapsedMilliseconds);
    }

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before any hosted service stops, while the worker is still connected: hands out no new activity, lets
    /// running ones finish, and lets orchestration episodes use up the messages the backend had read ahead.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (_service is null)
        {
            return;
        }

        _service.BeginDrain();
        var stopwatch = Stopwatch.StartNew();
        var running = _service.InFlightCount;
        // Quiet once no episode started for longer than the backend's longest queue poll.
        var quietPeriod = _options.MaxQueuePollingInterval + TimeSpan.FromMilliseconds(500);
        var quiet = await _service.WaitForQuietAsync(_options.DrainTimeout, quietPeriod, cancellationToken)
            .ConfigureAwait(false);
        _logger.LogInformation(
            "Durable engine {WorkerId} drained in {ElapsedMs} ms: {Running} work items were running, {Left} still are",
            WorkerId, stopwatch.ElapsedMilliseconds, running, quiet ? 0 : _service.InFlightCount);
    }

    /// <summary>Stops the sidecar and the backend, releasing the partition leases.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_service is null || _sidecar is null)
        {
            return;
        }

        _service.StopHandingOutWork();
        await _service.AbandonRunningActivitiesAsync().ConfigureAwait(false);
        try
        {
            await _sidecar.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _logger.LogWarning("Durable engine {WorkerId}: the sidecar did not stop in time", WorkerId);
        }

        await _service.StopAsync(isForced: true).ConfigureAwait(false);
        _logger.LogInformation("Durable engine {WorkerId} stopped; task hub {TaskHub} partitions released",
            WorkerId, _options.TaskHubName);
    }

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _port.TrySetException(new ObjectDisposedException(nameof(LocalDurableEngine)));
        Channel.Dispose();
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync().ConfigureAwait(false);
        }

        _backend?.Dispose();
    }

    /// <summary>
    /// The backend settings this engine uses (exposed so that tools and tests can see them): Azure Storage at
    /// <see cref="LocalDurableEngineOptions.StorageConnectionString"/>, short leases and visibility timeouts, no app
    /// lease, and the binder that reads the sidecar's protobuf tags (mend 2).
    /// </summary>
    public static AzureStorageOrchestrationServiceSettings CreateSettings(LocalDurableEngineOptions options,
        string workerId, ILoggerFactory loggerFactory, DatasetStoreMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The task hub's clients take the data path's resilience pipeline in their retry slot (its own request slots):
        // every queue poll, lease and history write is retried through the same faults, bounded by the same total time.
        var cs = options.StorageConnectionString;
        var resilience = new StorageResilience(options.StorageResilience, new BlobServiceClient(cs).AccountName + "/taskhub",
            metrics ?? new DatasetStoreMetrics(), loggerFactory.CreateLogger<StorageResilience>());
        return new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(cs, new BlobClientOptions { RetryPolicy = resilience.AsHttpPolicy("taskhub") }),
                StorageServiceClientProvider.ForQueue(cs, new QueueClientOptions { RetryPolicy = resilience.AsHttpPolicy("taskhub") }),
                StorageServiceClientProvider.ForTable(cs, new TableClientOptions { RetryPolicy = resilience.AsHttpPolicy("taskhub") })),
            TaskHubName = options.TaskHubName,
            PartitionCount = options.PartitionCount,
            WorkerId = workerId,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            LeaseInterval = options.LeaseInterval,
            LeaseRenewInterval = options.LeaseRenewInterval,
            LeaseAcquireInterval = options.LeaseAcquireInterval,
            ControlQueueVisibilityTimeout = options.ControlQueueVisibilityTimeout,
            WorkItemQueueVisibilityTimeout = options.WorkItemQueueVisibilityTimeout,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            // The app lease serves blue/green deployments of one app; here it would only make engines started by
            // differently named processes (drp, tests, the test worker) wait for each other.
            UseAppLease = false,
            CustomMessageTypeBinder = new ProtobufTagsTypeBinder(),
            LoggerFactory = loggerFactory,
        };
    }

    private WebApplication BuildSidecar(MendedOrchestrationService service, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(LocalDurableEngine).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddLogging();
        builder.Services.Replace(ServiceDescriptor.Singleton(loggerFactory));
        // The outer host owns Ctrl+C and SIGTERM; the sidecar stops when the engine does.
        builder.Services.Replace(ServiceDescriptor.Singleton<IHostLifetime, EmbeddedLifetime>());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddRoutingCore();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = _options.MaxGrpcMessageBytes;
            grpc.MaxSendMessageSize = _options.MaxGrpcMessageBytes;
            grpc.EnableDetailedErrors = true;
        });
        builder.Services.AddSingleton<IOrchestrationService>(service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.Configure<TaskHubGrpcServerOptions>(o => o.Mode = _options.ProcessWork
            ? TaskHubGrpcServerMode.ApiServerAndDispatcher
            : TaskHubGrpcServerMode.ApiServerOnly);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<TaskHubGrpcServer>();
        return app;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var port = await _port.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

}

/// <summary>A host lifetime that neither listens for signals nor stops anything on its own: its owner (the sidecar's engine, a drp command) does.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
