using Drp.Storage;
using Drp.Storage.Caching;
using Drp.Storage.Catalogs;
using Drp.Storage.Resilience;
using Drp.Workflows.Activities;
using Drp.Workflows.Arrivals;
using Drp.Workflows.Jobs;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Drp.Workflows;

/// <summary>The one place that wires this system's services, orchestrators and activities, for every host.</summary>
public static class DrpWorkflows
{
    /// <summary>Options (bound and validated at start-up), storage clients, and the activity classes.</summary>
    public static IServiceCollection AddDrpServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DrpStorageOptions>()
            .Bind(configuration.GetSection(DrpStorageOptions.SectionName))
            .ValidateDataAnnotations() // includes DrpStorageOptions.Validate: a connection string or the service URIs
            .ValidateOnStart();
        services.AddOptions<StorageResilienceOptions>().Bind(configuration.GetSection(StorageResilienceOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatasetCacheOptions>().Bind(configuration.GetSection(DatasetCacheOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FaultInjectionOptions>().Bind(configuration.GetSection(FaultInjectionOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new StorageClients(
            sp.GetRequiredService<IOptions<DrpStorageOptions>>().Value,
            sp.GetRequiredService<IOptions<StorageResilienceOptions>>().Value,
            sp.GetRequiredService<IOptions<DatasetCacheOptions>>().Value,
            sp.GetRequiredService<IOptions<FaultInjectionOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        services.AddOptions<TableWriterOptions>().Bind(configuration.GetSection(TableWriterOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        // The one writer stage of the process: every catalog table write shares its bound on batches in flight.
        services.AddSingleton(sp => new TableCatalogWriter(sp.GetRequiredService<IOptions<TableWriterOptions>>().Value));
        services.AddSingleton<IngestRawActivity>();
        services.AddSingleton<ListVisitsActivity>();
        services.AddSingleton<ProcessDetectorActivity>();
        services.AddSingleton<ConsolidateVisitSourcesActivity>();
        services.AddSingleton<PlanStepActivity>();
        services.AddSingleton<CatalogQaActivity>();
        services.AddSingleton<LoadJobActivity>();
        services.AddSingleton<RawArrivalHandler>();
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        // Container jobs go out on Service Bus when a namespace (or connection string) is set, else on Storage queues.
        services.AddSingleton<IJobDispatcher>(sp =>
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
        services.AddSingleton<JobCompletionRelay>();
        services.AddSingleton<DispatchJobActivity>();
        services.AddSingleton<CheckJobActivity>(sp => new CheckJobActivity(sp.GetRequiredService<StorageClients>()));
        services.AddSingleton<RecordUnfinishedQuantaActivity>();
        return services;
    }

    /// <summary>Registers every orchestrator and activity under its class name.</summary>
    public static DurableTaskRegistry AddDrpTasks(this DurableTaskRegistry registry)
    {
        registry.AddOrchestrator<IngestRawOrchestrator>();
        registry.AddOrchestrator<ProcessStep1Orchestrator>();
        registry.AddOrchestrator<ProcessVisitOrchestrator>();
        registry.AddOrchestrator<StepOrchestrator>();
        registry.AddOrchestrator<ChunkOrchestrator>();
        registry.AddOrchestrator<ProcessJobOrchestrator>();
        registry.AddOrchestrator<CampaignOrchestrator>();
        registry.AddActivity<IngestRawActivity>();
        registry.AddActivity<ListVisitsActivity>();
        registry.AddActivity<ProcessDetectorActivity>();
        registry.AddActivity<ConsolidateVisitSourcesActivity>();
        registry.AddActivity<PlanStepActivity>();
        registry.AddActivity<CatalogQaActivity>();
        registry.AddActivity<LoadJobActivity>();
        registry.AddActivity<DispatchJobActivity>();
        registry.AddActivity<CheckJobActivity>();
        registry.AddActivity<RecordUnfinishedQuantaActivity>();
        return registry;
    }

    /// <summary>The orchestrator and activity types, for hosts that adapt them one by one (the Functions app) and for tests.</summary>
    public static readonly Type[] Orchestrators = [typeof(IngestRawOrchestrator), typeof(ProcessStep1Orchestrator), typeof(ProcessVisitOrchestrator),
        typeof(StepOrchestrator), typeof(ChunkOrchestrator), typeof(ProcessJobOrchestrator), typeof(CampaignOrchestrator)];

    public static readonly Type[] Activities = [typeof(IngestRawActivity), typeof(ListVisitsActivity), typeof(ProcessDetectorActivity), typeof(ConsolidateVisitSourcesActivity),
        typeof(PlanStepActivity), typeof(LoadJobActivity), typeof(CatalogQaActivity), typeof(DispatchJobActivity), typeof(CheckJobActivity),
        typeof(RecordUnfinishedQuantaActivity)];
}
