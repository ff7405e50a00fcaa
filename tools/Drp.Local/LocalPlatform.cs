using Microsoft.Extensions.Configuration;
using Drp.Local.Triggers;
using Drp.Execution.Logging;
using Drp.Storage.Resilience;
using Drp.Workflows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drp.Local;

/// <summary>
/// The local host: what the Functions host is in Azure. One process with the persistent Durable Task engine, the
/// worker running every orchestrator and activity of Drp.Workflows, the arrivals-queue listener standing in for the
/// QueueTrigger, and the completions listener that relays container jobs' reports to their orchestrations (the job
/// runners themselves are separate processes: <c>functions/Drp.Jobs</c>). Several such processes on one task hub and
/// storage account share the work.
/// </summary>
public static class LocalPlatform
{
    /// <summary>
    /// The host on <paramref name="connectionString"/>'s account and task hub. Settings come from the environment
    /// (<c>Drp__Processing__ArrivalRun</c>, ...), then <paramref name="settings"/> (e.g. the demo's arrival run).
    /// </summary>
    public static IHost BuildHost(string connectionString, string taskHub, bool verbose = false, Action<IServiceCollection>? configure = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Configuration["Drp:Storage:ConnectionString"] = connectionString;
        builder.Logging.AddDrpConsole(verbose);
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning);
        builder.Services.AddDrpServices(builder.Configuration);
        var resilience = Resilience(builder.Configuration);
        builder.Services.AddLocalDurableEngine(tasks => tasks.AddDrpTasks(), engine =>
        {
            engine.StorageConnectionString = connectionString;
            engine.TaskHubName = taskHub;
            engine.StorageResilience = resilience;
        });
        // The command that built the host owns Ctrl+C (its cancellation token), not the host's console lifetime.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.Services.AddSingleton<ArrivalQueueListener>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ArrivalQueueListener>());
        builder.Services.AddHostedService<JobCompletionListener>();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>
    /// A host that only talks to a task hub (status, start, purge) and runs no work: for operator commands while
    /// other processes (or none) do the work.
    /// </summary>
    public static IHost BuildClientHost(string connectionString, string taskHub)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration["Drp:Storage:ConnectionString"] = connectionString;
        builder.Logging.AddDrpConsole(verbose: false);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDrpServices(builder.Configuration);
        var resilience = Resilience(builder.Configuration);
        builder.Services.AddLocalDurableEngine(tasks => tasks.AddDrpTasks(), engine =>
        {
            engine.StorageConnectionString = connectionString;
            engine.TaskHubName = taskHub;
            engine.ProcessWork = false;
            engine.StorageResilience = resilience;
        });
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        return builder.Build();
    }

    /// <summary>
    /// The storage resilience settings of a process that has no host (the CLI's own clients): the environment's
    /// (<c>Drp__Storage__Resilience__*</c>), then <paramref name="settings"/>, as <see cref="BuildHost"/> reads them;
    /// <paramref name="defaults"/> under both (a command's own defaults).
    /// </summary>
    public static StorageResilienceOptions ResilienceFrom(IReadOnlyDictionary<string, string?>? settings = null, IReadOnlyDictionary<string, string?>? defaults = null) =>
        Resilience(new ConfigurationBuilder()
            .AddInMemoryCollection(defaults ?? new Dictionary<string, string?>())
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build());

    private static StorageResilienceOptions Resilience(IConfiguration configuration)
    {
        var options = new StorageResilienceOptions();
        configuration.GetSection(StorageResilienceOptions.SectionName).Bind(options);
        return options;
    }
}
