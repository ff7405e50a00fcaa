using Drp.Local;
using Drp.Local.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Drp.Local.TestWorker <storage connection string> <task hub> <ledger folder> [max concurrent activities]
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Drp.Local.TestWorker <connection string> <task hub> <ledger folder> [max activities]");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Services.AddSingleton(new SideEffectLedger(args[2]));
builder.Services.AddLocalDurableEngine(TestTasks.Register, engine =>
{
    engine.StorageConnectionString = args[0];
    engine.TaskHubName = args[1];
    if (args.Length > 3)
    {
        engine.MaxConcurrentActivities = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
    }
});
using var host = builder.Build();
await host.StartAsync();
// The test waits for this line before it schedules work or kills the process.
Console.WriteLine("TESTWORKER READY");
await host.WaitForShutdownAsync();
return 0;
