using System.CommandLine;
using Drp.Local;
using Drp.Local.Triggers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Drp.Cli;

/// <summary>
/// <c>drp azurite</c> runs the local storage emulator on fixed ports until Ctrl-C; <c>drp worker</c> runs one more
/// local host (durable engine worker + arrival listener) on a task hub, so several processes share the work.
/// </summary>
internal static class PlatformCommands
{
    public static Command Azurite()
    {
        var data = new Option<string>("--data") { Description = "Data folder (kept between runs).", DefaultValueFactory = _ => Path.Combine("drp-out", "azurite") };
        var port = new Option<int>("--blob-port") { Description = "Blob port; queue and table use the next two.", DefaultValueFactory = _ => 10000 };
        var cmd = new Command("azurite", "Run Azurite (the repository's pinned copy) on loopback until Ctrl-C, and print its connection string.") { data, port };
        cmd.SetAction(async (parse, ct) =>
        {
            int p = parse.GetValue(port);
            var options = AzuriteOptions.Persistent(Path.GetFullPath(parse.GetValue(data)!));
            options.BlobPort = p;
            options.QueuePort = p + 1;
            options.TablePort = p + 2;
            await using var azurite = await AzuriteHost.StartAsync(options, cancellationToken: ct);
            Console.WriteLine($"Azurite is running (data in {azurite.DataDirectory}). For drp demo / drp worker in another terminal:");
            Console.WriteLine($"  export Drp__Storage__ConnectionString='{azurite.ConnectionString}'");
            Console.WriteLine("Ctrl-C stops it.");
            await WaitForCancelAsync(ct);
            return 0;
        });
        return cmd;
    }

    public static Command Worker()
    {
        var taskHub = new Option<string>("--task-hub") { Description = "Task hub to join.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DRP_TASK_HUB") ?? "drp" };
        var verbose = CliErrors.Verbose;
        var apiPort = new Option<int?>("--api-port") { Description = "Also serve the operator API (the Functions app's /api/campaigns/... routes) on http://127.0.0.1:PORT." };
        var cmd = new Command("worker", "Run one more local worker on a task hub (needs Drp__Storage__ConnectionString) until Ctrl-C.") { taskHub, apiPort };
        cmd.SetAction(async (parse, ct) =>
        {
            var connection = Environment.GetEnvironmentVariable("Drp__Storage__ConnectionString");
            if (string.IsNullOrWhiteSpace(connection))
            {
                Console.Error.WriteLine("drp worker: set Drp__Storage__ConnectionString to the storage the other workers use (drp azurite prints it)");
                return 2;
            }
            int? port = parse.GetValue(apiPort);
            if (port is < 1 or > 65535)
            {
                Console.Error.WriteLine($"drp worker: --api-port must be between 1 and 65535, not {port}");
                return 2;
            }
            using var host = LocalPlatform.BuildHost(connection, parse.GetValue(taskHub)!, parse.GetValue(verbose));
            await host.StartAsync(ct);
            var listener = host.Services.GetRequiredService<ArrivalQueueListener>();
            Console.WriteLine($"worker joined task hub '{parse.GetValue(taskHub)}'; Ctrl-C stops it");
            var arrivals = host.Services.GetRequiredService<Drp.Workflows.Arrivals.RawArrivalHandler>().Processing;
            Console.WriteLine(arrivals is null
                ? "arrivals are ingested only (set Drp__Processing__ArrivalRun to process them)"
                : $"arrivals process themselves into run '{arrivals.Run}' (steps 1 and 2; a visit closes after {arrivals.ExpectedDetectors} detectors or {arrivals.QuietTime} quiet)");
            await using var api = port is { } p ? await LocalOperatorApi.StartAsync(host.Services, p, ct) : null;
            if (api is not null)
            {
                Console.WriteLine($"operator API on http://127.0.0.1:{port}/api/campaigns/{{run}}");
            }
            await WaitForCancelAsync(ct);
            if (api is not null)
            {
                await api.StopAsync(CancellationToken.None);
            }
            await host.StopAsync(CancellationToken.None);
            Console.WriteLine($"worker stopped: {listener.Handled} arrivals handled, {listener.Poisoned} poisoned");
            return 0;
        });
        return cmd;
    }

    private static async Task WaitForCancelAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
