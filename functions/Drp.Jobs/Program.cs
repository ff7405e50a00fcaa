using Azure.Storage.Queues;
using Drp.Jobs;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The container job runner: takes jobs (clusters of quanta) from its memory class's queue until the queue is empty,
// runs each quantum with the same activity code the Functions app runs, reports each job on the completions queue.
// Settings: Drp__Storage__ConnectionString (and the other Drp:Storage keys), Drp__Jobs__Queue (default
// drp-jobs-standard), Drp__Jobs__CompletionsQueue (default drp-job-completions).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddDrpServices(builder.Configuration);
using var host = builder.Build();
var config = host.Services.GetRequiredService<IConfiguration>();
var connection = config["Drp:Storage:ConnectionString"]!;
var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
string jobsQueue = config["Drp:Jobs:Queue"] ?? "drp-jobs-standard";
var jobs = new QueueClient(connection, jobsQueue, queueOptions);
var completions = new QueueClient(connection, config["Drp:Jobs:CompletionsQueue"] ?? "drp-job-completions", queueOptions);
var poison = new QueueClient(connection, jobsQueue + "-poison", queueOptions);
var activity = host.Services.GetRequiredService<ProcessDetectorActivity>();
var runner = new JobRunner(activity.ExecuteAsync, host.Services.GetRequiredService<ILogger<JobRunner>>());
var worker = new JobQueueWorker(jobs, completions, poison, runner, host.Services.GetRequiredService<ILogger<JobQueueWorker>>());
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
int n = await worker.RunUntilEmptyAsync(TimeSpan.FromMinutes(10), cts.Token);
Console.WriteLine($"drp-jobs: {n} jobs run from {jobsQueue}");
return 0;
