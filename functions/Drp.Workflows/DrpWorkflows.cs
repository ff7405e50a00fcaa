using Drp.Execution.Jobs;
using Drp.Execution;
using Drp.Storage;
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
        services.AddDrpExecution(configuration);
        services.AddSingleton<IngestRawActivity>();
        services.AddSingleton<RunQuantumActivity>();
        services.AddSingleton<PlanStepActivity>();
        services.AddSingleton<CatalogQaActivity>();
        services.AddSingleton<LoadJobActivity>();
        services.AddSingleton<PlanArrivalActivity>();
        services.AddSingleton<CheckVisitActivity>(sp => new CheckVisitActivity(sp.GetRequiredService<StorageClients>()));
        services.AddSingleton(sp => new RawArrivalHandler(sp.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProcessingOptions>>().Value, sp.GetRequiredService<ILogger<RawArrivalHandler>>()));
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
        registry.AddOrchestrator<StepOrchestrator>();
        registry.AddOrchestrator<ChunkOrchestrator>();
        registry.AddOrchestrator<ProcessJobOrchestrator>();
        registry.AddOrchestrator<CampaignOrchestrator>();
        registry.AddActivity<IngestRawActivity>();
        registry.AddActivity<RunQuantumActivity>();
        registry.AddActivity<PlanArrivalActivity>();
        registry.AddActivity<CheckVisitActivity>();
        registry.AddActivity<PlanStepActivity>();
        registry.AddActivity<CatalogQaActivity>();
        registry.AddActivity<LoadJobActivity>();
        registry.AddActivity<DispatchJobActivity>();
        registry.AddActivity<CheckJobActivity>();
        registry.AddActivity<RecordUnfinishedQuantaActivity>();
        return registry;
    }

    /// <summary>The orchestrator and activity types, for hosts that adapt them one by one (the Functions app) and for tests.</summary>
    public static readonly Type[] Orchestrators = [typeof(IngestRawOrchestrator),
        typeof(StepOrchestrator), typeof(ChunkOrchestrator), typeof(ProcessJobOrchestrator), typeof(CampaignOrchestrator)];

    public static readonly Type[] Activities = [typeof(IngestRawActivity), typeof(RunQuantumActivity), typeof(PlanArrivalActivity), typeof(CheckVisitActivity),
        typeof(PlanStepActivity), typeof(LoadJobActivity), typeof(CatalogQaActivity), typeof(DispatchJobActivity), typeof(CheckJobActivity),
        typeof(RecordUnfinishedQuantaActivity)];
}
