using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Local;
using Drp.Storage;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Operations;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Drp.Cli;

/// <summary>
/// Operator commands on a run: <c>drp status</c>, <c>drp failures</c>, <c>drp rescue</c>, <c>drp accounting</c> (and <c>drp report</c>,
/// <see cref="Report.ReportCommand"/>; the campaign commands are <see cref="CampaignCommands"/>). They use the storage of
/// <c>Drp__Storage__ConnectionString</c>, or start the Azurite of a demo's <c>--out</c> folder for their duration.
/// </summary>
internal static class OperatorCommands
{
    private static readonly Option<string> s_run = new("--run") { Description = "Run collection.", DefaultValueFactory = _ => "demo" };
    private static readonly Option<string?> s_out = new("--out") { Description = "A demo output folder whose Azurite data to open (when Drp__Storage__ConnectionString is not set).", DefaultValueFactory = _ => "drp-out" };
    private static readonly Option<string> s_taskHub = new("--task-hub") { Description = "Durable task hub.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DRP_TASK_HUB") ?? "drp" };

    internal static Option<string> Run => s_run;

    internal static Option<string?> Out => s_out;

    internal static Option<string> TaskHub => s_taskHub;

    public static IEnumerable<Command> Create()
    {
        var watch = new Option<bool>("--watch") { Description = "Redraw every --interval seconds while the campaign runs." };
        var interval = new Option<double>("--interval") { Description = "Seconds between redraws with --watch.", DefaultValueFactory = _ => 2 };
        var status = new Command("status", "The run's campaign (phase, step, progress bars) and its quanta per step and state in the ledger.")
        {
            s_run, s_out, s_taskHub, watch, interval,
        };
        status.SetAction(async (parse, ct) =>
        {
            string run = parse.GetValue(s_run)!;
            double seconds = parse.GetValue(interval);
            try
            {
                CampaignOperations.ValidateRun(run);
                if (!(seconds is > 0 and <= 3600))
                {
                    throw new ArgumentException($"--interval must be between 0 and 3600 seconds, not {seconds}");
                }
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"drp status: {e.Message}");
                return 2;
            }
            return await CampaignCommands.WithOperationsAsync(parse.GetValue(s_out), parse.GetValue(s_taskHub)!, ct, async (ops, _) =>
            {
                int drawn = 0;
                while (true)
                {
                    var lines = new List<string>();
                    var campaign = await ops.GetStatusAsync(run, ct);
                    lines.AddRange(campaign is null ? [$"run {run}: no campaign and no quanta in the ledger"] : CampaignView.Render(campaign));
                    if (drawn > 0 && !Console.IsOutputRedirected)
                    {
                        // Redraw in place: up over the previous block, clear to the end of the screen.
                        Console.Write($"\u001b[{drawn}A\u001b[J");
                    }
                    foreach (var line in lines)
                    {
                        Console.WriteLine(line);
                    }
                    drawn = lines.Count;
                    bool running = campaign?.RuntimeStatus is "Running" or "Pending"
                        && campaign.Progress?.Phase != CampaignProgress.WaitingForApproval;
                    if (!parse.GetValue(watch) || !running)
                    {
                        return 0;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
                }
            });
        });

        var failures = new Command("failures", "Failed and unprocessable quanta of a run, by error class, and rejected raws.") { s_run, s_out, s_taskHub };
        failures.SetAction(async (parse, ct) =>
        {
            string run = parse.GetValue(s_run)!;
            return await CampaignCommands.RunAsync(parse, "failures", ct, () => CampaignOperations.ValidateRun(run), async (ops, storage) =>
            {
                var report = await ops.GetFailuresAsync(run, cancellationToken: ct);
                Console.WriteLine($"run {run}: {report.FailedOrUnprocessable} of {report.Quanta} quanta failed or unprocessable");
                foreach (var c in report.Classes)
                {
                    Console.WriteLine($"  {c.State} {c.ErrorClass}: {c.Count}");
                    foreach (var q in c.Examples)
                    {
                        Console.WriteLine($"    {q.QuantumKey} (attempt {q.Attempts}): {q.Message}");
                    }
                }
                var rejected = await new RegistryTable(storage.Registry).ListRejectedAsync(ct);
                Console.WriteLine($"{rejected.Count} raws rejected at ingest");
                foreach (var r in rejected.Take(20))
                {
                    Console.WriteLine($"  {r.BlobName}: {r.ErrorClass}: {r.Reason}");
                }
                return report.FailedOrUnprocessable == 0 ? 0 : 1;
            });
        });

        var rescueStep = new Option<string>("--step") { Description = "The step of the run's stopped campaign to run again, with the campaign's input.", DefaultValueFactory = _ => "step1" };
        var rescue = new Command("rescue", "Run a step of a run's stopped campaign again: quanta the ledger has as succeeded or unprocessable are skipped, the rest run again. Needs a worker (drp worker) on the task hub.") { s_run, s_out, s_taskHub, rescueStep };
        rescue.SetAction((parse, ct) => WithStorageAsync(parse, ct, async (storage, connection) =>
        {
            string run = parse.GetValue(s_run)!;
            using var host = LocalPlatform.BuildClientHost(connection, parse.GetValue(s_taskHub)!);
            await host.StartAsync(ct);
            var client = host.Services.GetRequiredService<DurableTaskClient>();
            try
            {
                var started = await new CampaignOperations(client, storage).RescueStepAsync(run, parse.GetValue(rescueStep)!, ct);
                Console.WriteLine($"started {started.InstanceId}; follow it with: drp status --run {run}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or CampaignNotFoundException or CampaignStateException)
            {
                Console.Error.WriteLine($"drp rescue: {e.Message}");
                return e switch { ArgumentException => 2, CampaignNotFoundException => 3, _ => 4 };
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }));
        var step = new Option<string?>("--step") { Description = "Only this step's quanta (e.g. step1)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (exact sums, bytes) instead of a table." };
        var accounting = new Command("accounting", "Compute used by a run per task type, from the ledger: quanta, core-seconds, wall seconds, peak memory, GETs, bytes read; and the software versions and config hashes that ran them. Exit 3 when the run has no quanta in the ledger.")
            { s_run, s_out, step, json };
        accounting.SetAction((parse, ct) => WithStorageAsync(parse, ct, async (storage, _) =>
        {
            string run = parse.GetValue(s_run)!;
            var ledger = await new QuantumLedger(storage.Ledger).ListAsync(run, ct);
            if (ledger.Count == 0)
            {
                Console.Error.WriteLine($"drp accounting: run {run} has no quanta in the ledger");
                return 3;
            }
            var report = RunAccountingReport.From(run, ledger, parse.GetValue(step));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, OperatorJson.Default.RunAccountingReport));
                return 0;
            }
            WriteAccounting(report, ledger.Count);
            return 0;
        }));
        return [status, failures, rescue, accounting];
    }

    private static void WriteAccounting(RunAccountingReport report, int ledgerRows)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine($"run {report.Run}{(report.Step is null ? "" : $" step {report.Step}")}: {ledgerRows} quanta in the ledger, "
            + $"{report.Unrecorded} finished without provenance or usage (recorded before accounting)");
        Console.WriteLine(string.Create(c, $"{"step",-8} {"task type",-50} {"quanta",8} {"core-s",12} {"wall-s",12} {"peak MiB",10} {"GETs",10} {"bytes read",16}"));
        foreach (var t in report.TaskTypes)
        {
            Console.WriteLine(string.Create(c, $"{t.Step,-8} {t.TaskType,-50} {t.Quanta,8} {t.CoreSeconds,12:F3} {t.WallSeconds,12:F3} {t.PeakWorkingSetBytes / 1048576.0,10:F1} {t.Gets,10} {t.BytesRead,16}"));
        }
        Console.WriteLine("software versions and configs:");
        foreach (var p in report.Provenance)
        {
            Console.WriteLine($"  {p.Step} {p.TaskType}: version {p.SoftwareVersion}, config {p.ConfigHash}: {p.Quanta} quanta");
        }
    }

    /// <summary>An operator waits 20 s for an unreachable account, not the workers' 3 min (Drp__Storage__Resilience__TotalTimeout overrides).</summary>
    private static readonly Dictionary<string, string?> OperatorDefaults = new() { ["Drp:Storage:Resilience:TotalTimeout"] = "00:00:20" };

    private static Task<int> WithStorageAsync(System.CommandLine.ParseResult parse, CancellationToken ct, Func<StorageClients, string, Task<int>> action) =>
        WithStorageAsync(parse.GetValue(s_out), ct, action);

    /// <summary>
    /// Runs <paramref name="action"/> on the storage of <c>Drp__Storage__ConnectionString</c>, or on the Azurite of the
    /// demo folder <paramref name="demoOut"/> (default <c>drp-out</c>), started for the action's duration.
    /// </summary>
    internal static async Task<int> WithStorageAsync(string? demoOut, CancellationToken ct, Func<StorageClients, string, Task<int>> action)
    {
        string? connection = Environment.GetEnvironmentVariable("Drp__Storage__ConnectionString");
        AzuriteHost? azurite = null;
        try
        {
            if (string.IsNullOrWhiteSpace(connection))
            {
                var dataDir = Path.GetFullPath(Path.Combine(demoOut ?? "drp-out", "azurite"));
                if (!Directory.Exists(dataDir))
                {
                    Console.Error.WriteLine($"drp: no storage: set Drp__Storage__ConnectionString, or point --out at a demo output folder (no {dataDir})");
                    return 2;
                }
                azurite = await AzuriteHost.StartAsync(AzuriteOptions.Persistent(dataDir), cancellationToken: ct);
                connection = azurite.ConnectionString;
            }
            return await action(new StorageClients(new DrpStorageOptions { ConnectionString = connection }, LocalPlatform.ResilienceFrom(defaults: OperatorDefaults)), connection);
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }
        }
    }
}

/// <summary><c>drp accounting --json</c>, generated at compile time (no reflection: a native build of drp writes it too).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(RunAccountingReport))]
internal sealed partial class OperatorJson : JsonSerializerContext;
