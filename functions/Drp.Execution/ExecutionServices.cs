using Drp.Core.Planning;
using Drp.Core.Tasks;
using Drp.Execution.Jobs;
using Drp.Storage;
using Drp.Storage.Caching;
using Drp.Storage.Catalogs;
using Drp.Storage.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Drp.Execution;

/// <summary>The one place that wires storage, the task registry and the quantum runner, for every process that runs quanta.</summary>
public static class ExecutionServices
{
    /// <summary>Options (bound and validated at start-up), storage clients, the catalog writer, the task registry, the runner and the job senders.</summary>
    public static IServiceCollection AddDrpExecution(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DrpStorageOptions>()
            .Bind(configuration.GetSection(DrpStorageOptions.SectionName))
            .ValidateDataAnnotations() // includes DrpStorageOptions.Validate: a connection string or the service URIs
            .ValidateOnStart();
        services.AddOptions<StorageResilienceOptions>().Bind(configuration.GetSection(StorageResilienceOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatasetCacheOptions>().Bind(configuration.GetSection(DatasetCacheOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FaultInjectionOptions>().Bind(configuration.GetSection(FaultInjectionOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProcessingOptions>().Bind(configuration.GetSection(ProcessingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new StorageClients(
            sp.GetRequiredService<IOptions<DrpStorageOptions>>().Value,
            sp.GetRequiredService<IOptions<StorageResilienceOptions>>().Value,
            sp.GetRequiredService<IOptions<DatasetCacheOptions>>().Value,
            sp.GetRequiredService<IOptions<FaultInjectionOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        services.AddOptions<TableWriterOptions>().Bind(configuration.GetSection(TableWriterOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        // The one writer stage of the process: every catalog table write shares its bound on batches in flight.
        services.TryAddSingleton(sp => new TableCatalogWriter(sp.GetRequiredService<IOptions<TableWriterOptions>>().Value));
        services.TryAddSingleton(sp => CreateRegistry(sp.GetRequiredService<IOptions<ProcessingOptions>>().Value));
        services.TryAddSingleton<QuantumRunner>();
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        // Container jobs go out on Service Bus when a namespace (or connection string) is set, else on Storage queues.
        services.TryAddSingleton<IJobDispatcher>(sp =>
        {
            var jobs = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            var storage = sp.GetRequiredService<StorageClients>();
            if (!jobs.UsesServiceBus)
            {
                return new StorageQueueJobDispatcher(storage.Queues);
            }
            var client = string.IsNullOrWhiteSpace(jobs.ServiceBusConnectionString)
                ? new Azure.Messaging.ServiceBus.ServiceBusClient(jobs.ServiceBusNamespace, StorageClients.CredentialFor(storage.Options))
                : new Azure.Messaging.ServiceBus.ServiceBusClient(jobs.ServiceBusConnectionString);
            var senders = new System.Collections.Concurrent.ConcurrentDictionary<string, Azure.Messaging.ServiceBus.ServiceBusSender>();
            return new ServiceBusJobDispatcher(name => senders.GetOrAdd(name, client.CreateSender));
        });
        return services;
    }

    private static readonly Lazy<TaskRegistry> s_default = new(() => CreateRegistry(new ProcessingOptions()));

    /// <summary>The built-in pipeline's registry, for code that checks a request before any host is built (the CLI's argument checks).</summary>
    public static TaskRegistry DefaultRegistry => s_default.Value;

    /// <summary>The pipeline (the configured file, else the built-in one) and every task class loaded, every runnable unit bound now.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "hosts that run quanta are not trimmed")]
    public static TaskRegistry CreateRegistry(ProcessingOptions options)
    {
        var pipeline = string.IsNullOrWhiteSpace(options.PipelineFile) ? PipelineDefinitionLoader.LoadDefault() : PipelineDefinitionLoader.Load(options.PipelineFile);
        return new TaskRegistry(pipeline, TaskRegistry.DiscoverLoaded()).Validate();
    }
}
