using Drp.Local.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Drp.Local.Tests;

/// <summary>Builds and starts a host running the local durable engine with the test tasks.</summary>
internal static class EngineHost
{
    public static async Task<IHost> StartAsync(ITestOutputHelper output, string connectionString, string taskHub,
        SideEffectLedger? ledger = null, Action<LocalDurableEngineOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new XunitLoggerProvider(output));
        builder.Services.AddSingleton(ledger ?? new SideEffectLedger());
        builder.Services.AddLocalDurableEngine(TestTasks.Register, engine =>
        {
            engine.StorageConnectionString = connectionString;
            engine.TaskHubName = taskHub;
            // DRP_TEST_ENGINE_LOGS=1 shows every backend message in the test output, to see where time goes.
            if (Environment.GetEnvironmentVariable("DRP_TEST_ENGINE_LOGS") == "1")
            {
                engine.InfrastructureLogLevel = LogLevel.Information;
            }

            configure?.Invoke(engine);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>A task hub name no other test uses (letters and digits, starting with a letter).</summary>
    public static string UniqueTaskHub(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 12, 45)];
}
