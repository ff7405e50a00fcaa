using Drp.Execution.Jobs;
using Drp.Storage;
using Drp.Workflows.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Drp.Local.Triggers;

/// <summary>
/// The local stand-in for the Functions app's <c>OnJobCompletion</c> queue trigger: relays container jobs'
/// completions from the Storage completions queue to the job orchestrations awaiting them
/// (<see cref="StorageCompletionPump"/>, <see cref="JobCompletionRelay"/>: the code the Functions app runs).
/// </summary>
public sealed class JobCompletionListener(StorageClients storage, IOptions<JobsOptions> jobs, DurableTaskClient client, JobCompletionRelay relay,
    ILoggerFactory loggers) : BackgroundService
{
    private static readonly TimeSpan s_idleDelay = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pump = new StorageCompletionPump(storage.Queues.GetQueueClient(jobs.Value.CompletionsQueue), client, relay, loggers.CreateLogger<StorageCompletionPump>());
        try
        {
            await pump.RunAsync(s_idleDelay, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}
