using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Drp.Local;

/// <summary>Adds the <see cref="LocalDurableEngine"/>, its worker and its client to a host.</summary>
public static class LocalDurableEngineServiceCollectionExtensions
{
    /// <summary>
    /// Adds the persistent Durable Task engine as a hosted service, a Durable Task worker that runs the tasks
    /// registered by <paramref name="registerTasks"/> (activities and orchestrators are built by DI, so they get the
    /// host's services), and a <see cref="DurableTaskClient"/> singleton. Options are validated at start-up.
    /// </summary>
    /// <example>
    /// <code>
    /// var builder = Host.CreateApplicationBuilder(args);
    /// builder.Services.AddSingleton&lt;MyDependency&gt;();
    /// builder.Services.AddLocalDurableEngine(
    ///     tasks => tasks.AddOrchestrator&lt;MyOrchestrator&gt;().AddActivity&lt;MyActivity&gt;(),
    ///     engine => { engine.StorageConnectionString = azurite.ConnectionString; engine.TaskHubName = "drp"; });
    /// using var host = builder.Build();
    /// await host.StartAsync();
    /// var client = host.Services.GetRequiredService&lt;DurableTaskClient&gt;();
    /// </code>
    /// </example>
    public static IServiceCollection AddLocalDurableEngine(this IServiceCollection services,
        Action<DurableTaskRegistry> registerTasks, Action<LocalDurableEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(registerTasks);
        var options = services.AddOptions<LocalDurableEngineOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();

        // Registered before the worker, so it starts first and stops last; being an IHostedLifecycleService, it
        // also drains before the worker stops.
        services.TryAddSingleton<LocalDurableEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalDurableEngine>());

        services.AddDurableTaskWorker(worker =>
        {
            worker.AddTasks(registerTasks);
            worker.UseGrpc();
            worker.Services.AddOptions<GrpcDurableTaskWorkerOptions>(worker.Name)
                .Configure<LocalDurableEngine>((grpc, engine) => grpc.Channel = engine.Channel);
            worker.Services.AddOptions<DurableTaskWorkerOptions>(worker.Name)
                .Configure(options =>
                {
                    // Concurrency is enforced by the engine (the in-process sidecar ignores the worker's limits).
                    // One category per logger instead of each line twice (new and legacy categories).
                    options.Logging.UseLegacyCategories = false;
                });
        });
        services.AddDurableTaskClient(client =>
        {
            client.UseGrpc();
            client.Services.AddOptions<GrpcDurableTaskClientOptions>(client.Name)
                .Configure<LocalDurableEngine>((grpc, engine) => grpc.Channel = engine.Channel);
            client.RegisterDirectly();
        });
        return services;
    }

    /// <summary>
    /// As <see cref="AddLocalDurableEngine(IServiceCollection, Action{DurableTaskRegistry}, Action{LocalDurableEngineOptions}?)"/>,
    /// with options first bound from the <c>DurableEngine</c> configuration section, then <paramref name="configure"/>.
    /// </summary>
    public static IHostApplicationBuilder AddLocalDurableEngine(this IHostApplicationBuilder builder,
        Action<DurableTaskRegistry> registerTasks, Action<LocalDurableEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<LocalDurableEngineOptions>()
            .Bind(builder.Configuration.GetSection(LocalDurableEngineOptions.SectionName));
        builder.Services.AddLocalDurableEngine(registerTasks, configure);
        return builder;
    }
}
