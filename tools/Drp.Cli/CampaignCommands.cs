using System.CommandLine;
using Drp.Local;
using Drp.Workflows;
using Drp.Core.Planning;
using Drp.Workflows.Operations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Drp.Cli;

/// <summary>
/// Campaign commands over <see cref="CampaignOperations"/> (the class the Functions app's operator API calls):
/// <c>drp campaign start</c>, <c>drp approve</c>, <c>drp terminate</c>, <c>drp purge</c>. Arguments are checked before
/// storage is opened. Exit codes: 0 done, 1 internal error, 2 usage or bad input, 3 no campaign, 4 the campaign's
/// state does not allow it (not waiting for approval, already finished, still running).
/// </summary>
internal static class CampaignCommands
{
    internal static class ExitCodes
    {
        public const int Done = 0;

        public const int Usage = 2;

        public const int NotFound = 3;

        public const int WrongState = 4;
    }

    private static Option<string> s_run => OperatorCommands.Run;
    private static Option<string?> s_out => OperatorCommands.Out;
    private static Option<string> s_taskHub => OperatorCommands.TaskHub;

    public static IEnumerable<Command> Create()
    {
        var steps = new Option<string?>("--steps") { Description = "Comma-separated pipeline steps in order (default: every step that can run today)." };
        var instrument = new Option<string>("--instrument") { Description = "Instrument of the raws.", DefaultValueFactory = _ => "LSSTCam-sim" };
        var requireApproval = new Option<bool>("--require-approval") { Description = "Wait for drp approve after each step's QA gate." };
        var maxFailed = new Option<double>("--max-failed-fraction") { Description = "A step's gate fails above this fraction of failed units.", DefaultValueFactory = _ => 0.05 };
        var executor = new Option<JobExecutor?>("--executor")
        {
            Description = "Where every step's jobs run: Activity (in the worker) or Container (sent to the memory-class queues for job runners, functions/Drp.Jobs). Default: as the pipeline declares.",
        };
        var start = new Command("start", "Start the run's campaign (instance campaign-RUN); starting it again while it exists starts nothing. Needs a worker (drp worker) on the task hub.")
        {
            s_run, s_out, s_taskHub, steps, instrument, requireApproval, maxFailed, executor,
        };
        start.SetAction((parse, ct) =>
        {
            var input = new CampaignInput(
                parse.GetValue(s_run)!,
                parse.GetValue(instrument)!,
                parse.GetValue(steps) is { } list ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [],
                MaxFailedFraction: parse.GetValue(maxFailed),
                RequireApproval: parse.GetValue(requireApproval),
                Executor: parse.GetValue(executor));
            return RunAsync(parse, "campaign start", ct, () => CampaignOperations.Validate(input), async (ops, storage) =>
            {
                // On a fresh account (a new Azurite) the containers, queues and tables the steps use do not exist yet.
                await storage.EnsureCreatedAsync(ct);
                var started = await ops.StartAsync(input, ct);
                Console.WriteLine(started.Created
                    ? $"started {started.InstanceId}; follow it with: drp status --run {input.Run} --watch"
                    : $"{started.InstanceId} already exists ({started.RuntimeStatus}); nothing started (drp purge --run {input.Run} to start anew)");
                return ExitCodes.Done;
            });
        });
        var campaign = new Command("campaign", "Campaigns: the pipeline's steps in order with a QA gate after each.") { start };

        var reject = new Option<bool>("--reject") { Description = "Reject instead of approving: the campaign stops with the reason." };
        var reason = new Option<string?>("--reason") { Description = "Why (required with --reject)." };
        var approve = new Command("approve", "Decide the gate the run's campaign waits at.") { s_run, s_out, s_taskHub, reject, reason };
        approve.SetAction((parse, ct) =>
        {
            string run = parse.GetValue(s_run)!;
            bool rejected = parse.GetValue(reject);
            string? why = parse.GetValue(reason);
            return RunAsync(parse, "approve", ct,
                () =>
                {
                    CampaignOperations.ValidateRun(run);
                    if (rejected && string.IsNullOrWhiteSpace(why))
                    {
                        throw new ArgumentException("--reason is required with --reject");
                    }
                },
                async (ops, _) =>
                {
                    var gate = await ops.ApproveAsync(run, !rejected, why, ct);
                    Console.WriteLine($"{(rejected ? "rejected" : "approved")} the gate after {gate.Step} of run {run}");
                    return ExitCodes.Done;
                });
        });

        var terminateReason = new Option<string?>("--reason") { Description = "Why (required)." };
        var terminate = new Command("terminate", "Terminate the run's campaign and its running steps.") { s_run, s_out, s_taskHub, terminateReason };
        terminate.SetAction((parse, ct) =>
        {
            string run = parse.GetValue(s_run)!;
            string? why = parse.GetValue(terminateReason);
            return RunAsync(parse, "terminate", ct,
                () =>
                {
                    CampaignOperations.ValidateRun(run);
                    if (string.IsNullOrWhiteSpace(why))
                    {
                        throw new ArgumentException("--reason is required");
                    }
                },
                async (ops, _) =>
                {
                    int n = await ops.TerminateAsync(run, why!, ct);
                    Console.WriteLine($"terminated {n} instance(s) of run {run}'s campaign");
                    return ExitCodes.Done;
                });
        });

        var purge = new Command("purge", "Remove the run's finished campaign and its sub-orchestrations from the task hub (the ledger and data stay).") { s_run, s_out, s_taskHub };
        purge.SetAction((parse, ct) =>
        {
            string run = parse.GetValue(s_run)!;
            return RunAsync(parse, "purge", ct, () => CampaignOperations.ValidateRun(run), async (ops, _) =>
            {
                int n = await ops.PurgeAsync(run, ct);
                Console.WriteLine($"purged {n} instance(s) of run {run}'s campaign");
                return ExitCodes.Done;
            });
        });
        return [campaign, approve, terminate, purge];
    }

    /// <summary>
    /// Checks the arguments (<paramref name="validate"/>), then runs <paramref name="action"/> on the storage and task
    /// hub of <paramref name="parse"/>'s options, mapping the operations' typed errors to exit codes.
    /// </summary>
    internal static async Task<int> RunAsync(ParseResult parse, string name, CancellationToken ct, Action validate, Func<CampaignOperations, Drp.Storage.StorageClients, Task<int>> action)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"drp {name}: {e.Message}");
            return ExitCodes.Usage;
        }
        return await WithOperationsAsync(parse.GetValue(s_out), parse.GetValue(s_taskHub)!, ct, async (ops, storage) =>
        {
            try
            {
                return await action(ops, storage);
            }
            catch (Exception e) when (ExitCodeFor(e) is { } code)
            {
                await Console.Error.WriteLineAsync($"drp {name}: {e.Message}");
                return code;
            }
        });
    }

    /// <summary>The exit code for an operation's typed error; null for any other.</summary>
    internal static int? ExitCodeFor(Exception e) => e switch
    {
        ArgumentException => ExitCodes.Usage,
        CampaignNotFoundException => ExitCodes.NotFound,
        CampaignStateException => ExitCodes.WrongState,
        _ => null,
    };

    /// <summary>Runs <paramref name="action"/> with <see cref="CampaignOperations"/> on the storage (see <see cref="OperatorCommands.WithStorageAsync"/>) and task hub.</summary>
    internal static Task<int> WithOperationsAsync(string? demoOut, string taskHub, CancellationToken ct, Func<CampaignOperations, Drp.Storage.StorageClients, Task<int>> action) =>
        OperatorCommands.WithStorageAsync(demoOut, ct, async (storage, connection) =>
        {
            using var host = LocalPlatform.BuildClientHost(connection, taskHub);
            await host.StartAsync(ct);
            try
            {
                return await action(new CampaignOperations(host.Services.GetRequiredService<DurableTaskClient>(), storage), storage);
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        });

}
