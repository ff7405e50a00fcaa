using Drp.Jobs;
using Drp.Storage;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The container job runner: takes jobs (clusters of quanta) from its memory class's queue until the queue is empty,
// runs each quantum with the same activity code the Functions app runs, reports each job on the completions queue.
// Settings: the Drp:Storage keys (a connection string, or service URIs + managed identity), Drp__Jobs__Queue (default
// drp-jobs-standard), Drp__Jobs__CompletionsQueue (default drp-job-completions).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddDrpServices(builder.Configuration);
using var host = builder.Build();
var config = host.Services.GetRequiredService<IConfiguration>();
// The queue clients come from StorageClients: a connection string locally, the managed identity in Azure.
var queues = host.Services.GetRequiredService<StorageClients>().Queues;
string jobsQueue = config["Drp:Jobs:Queue"] ?? "drp-jobs-standard";
var jobs = queues.GetQueueClient(jobsQueue);
var completions = queues.GetQueueClient(config["Drp:Jobs:CompletionsQueue"] ?? "drp-job-completions");
var poison = queues.GetQueueClient(jobsQueue + "-poison");
var activity = host.Services.GetRequiredService<ProcessDetectorActivity>();
var runner = new JobRunner(activity.ExecuteAsync, host.Services.GetRequiredService<ILogger<JobRunner>>());
var worker = new JobQueueWorker(jobs, completions, poison, runner, host.Services.GetRequiredService<ILogger<JobQueueWorker>>());
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
int n = await worker.RunUntilEmptyAsync(TimeSpan.FromMinutes(10), cts.Token);
Console.WriteLine($"drp-jobs: {n} jobs run from {jobsQueue}");
return 0;
