using Azure.Messaging.ServiceBus;
using Drp.Execution.Logging;
using Drp.Jobs;
using Drp.Jobs.Queues;
using Drp.Storage;
using Drp.Storage.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// The container job runner: takes jobs (clusters of quanta) from its memory class's queue until the queue is empty,
// runs each quantum through the same QuantumRunner the Functions app's activity calls, heartbeats, reports each delivery on the
// completions queue and settles it by the retry rules (JobRetryPolicy). Settings: the Drp:Storage keys, and
// Drp:Jobs (JobsOptions): a Service Bus namespace (Azure, managed identity) or connection string selects Service
// Bus; otherwise the jobs come from Storage queues of the Drp:Storage account (Azurite locally).
bool verbose = args.Contains("--verbose");
try
{
    var builder = Host.CreateApplicationBuilder(args.Where(a => a != "--verbose").ToArray());
    builder.Logging.AddDrpConsole(verbose);
    builder.Services.AddDrpExecution(builder.Configuration);
    using var host = builder.Build();
    await host.StartAsync(); // runs the options validation (ValidateOnStart) before any job is taken
    var options = host.Services.GetRequiredService<IOptions<JobsOptions>>().Value;
    var storage = host.Services.GetRequiredService<StorageClients>();
    await storage.Ledger.CreateIfNotExistsAsync();

    ServiceBusClient? serviceBus = null;
    IJobQueue queue;
    if (options.UsesServiceBus)
    {
        serviceBus = string.IsNullOrWhiteSpace(options.ServiceBusConnectionString)
            ? new ServiceBusClient(options.ServiceBusNamespace, StorageClients.CredentialFor(storage.Options))
            : new ServiceBusClient(options.ServiceBusConnectionString);
        var senders = new Dictionary<string, ServiceBusSender>();
        queue = new ServiceBusJobQueue(
            serviceBus.CreateReceiver(options.Queue, new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.PeekLock, PrefetchCount = 0 }),
            name => senders.TryGetValue(name, out var s) ? s : senders[name] = serviceBus.CreateSender(name),
            storage.Queues.GetQueueClient(options.CompletionsQueue),
            receiveWait: TimeSpan.FromSeconds(10));
    }
    else
    {
        // The queue clients come from StorageClients: a connection string locally, the managed identity in Azure.
        queue = new StorageJobQueue(storage.Queues, options);
    }

    var quanta = host.Services.GetRequiredService<QuantumRunner>();
    var runner = new JobRunner(quanta.RunAsync, host.Services.GetRequiredService<ILogger<JobRunner>>());
    var worker = new JobQueueWorker(queue, runner, new JobLedger(storage.Ledger), options, JobRetryPolicy.Default,
        host.Services.GetRequiredService<ILogger<JobQueueWorker>>());
    using var cts = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
    int n = await worker.RunUntilEmptyAsync(cts.Token);
    Console.WriteLine($"drp-jobs: {n} deliveries handled from {queue.Name} ({(options.UsesServiceBus ? "Service Bus" : "Storage queue")})");
    if (serviceBus is not null)
    {
        await serviceBus.DisposeAsync();
    }
    await host.StopAsync();
    return 0;
}
catch (Exception e) when (e is not OperationCanceledException)
{
    return RunnerErrors.Report(e, verbose, Console.Error);
}
