using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Drp.Cli;
using Drp.Local;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Orchestrators;
using Drp.Core.Planning;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// Steps 1, 2 and 7 in container jobs with real processes and real science: a <c>drp worker</c> (the local host: engine,
/// orchestrations, completions listener) dispatches each visit's job to the Storage queue of its memory class; job
/// runner processes (the built <c>Drp.Jobs</c>, started one after another like a scale-out of container jobs, each
/// living until the queue is empty) run the quanta through the same quantum runner. One runner is SIGKILLed in the middle of
/// a job: its lease lapses (5 s visibility), the next runner receives the job again, sees the dead runner's row and
/// runs it (completed quanta skipped by the ledger). The campaign finishes, every quantum ends exactly once (succeeded,
/// or unprocessable where a detector has too few reference stars), the quanta that had completed before the kill are
/// untouched, and the Source table has each row once.
/// </summary>
public sealed partial class ContainerJobsEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-jobs-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Campaign_Steps127InContainerJobs_RunnerKilledMidJob_JobRedeliveredAndEveryQuantumEndsOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = timeout.Token;
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        string taskHub = "jobs" + Guid.NewGuid().ToString("N")[..8];
        const string run = "jobsrun";
        var settings = new DemoSettings { OutDir = _dir, Visits = 3, Detectors = 5, DetectorSize = 512, Seed = 12, Run = run, TaskHub = taskHub };
        int n = settings.Visits * settings.Detectors;

        var (storage, campaign) = await LocalSurvey.SimulateAsync(azurite, settings, output, ct);
        using var worker = ChildProcess.DrpWorker(output, "worker", azurite.ConnectionString, taskHub);
        await LocalSurvey.IngestAsync(storage, campaign, ct);
        var (clientHost, client, id) = await LocalSurvey.StartCampaignAsync(azurite, taskHub, new CampaignInput(run, campaign.Instrument, ["step1", "step2", "step7"], Executor: JobExecutor.Container), ct);
        using var disposeClient = clientHost;

        using var pool = new RunnerPool(output, azurite.ConnectionString, "standard");
        // Steps 2 and 7 ask for highmem (pipelines/drp.yaml): that queue has runners of its own, as each class's scaler starts them.
        using var highmem = new RunnerPool(output, azurite.ConnectionString, "highmem");
        var ledger = new QuantumLedger(storage.Ledger);
        var jobs = storage.Ledger;
        string? killedJob = null;
        // Five detectors a job: the window between a job's first succeeded quantum and its end spans several polls.
        await ChildProcess.WaitUntilAsync(async () =>
        {
            // Mid-job: a job row running whose visit already has a succeeded quantum.
            var succeeded = (await ledger.ListAsync(run, ct)).Where(q => q.State == QuantumState.Succeeded).Select(q => q.QuantumKey).ToList();
            await foreach (var row in jobs.QueryAsync<TableEntity>(e => e.PartitionKey == JobLedger.PartitionOf(run), cancellationToken: ct))
            {
                string visit = VisitOf().Match(row.GetString("JobId")).Groups[1].Value;
                if (row.GetString("State") == nameof(JobState.Running) && succeeded.Any(k => k.Contains($"/visit={visit}/", StringComparison.Ordinal)))
                {
                    killedJob = row.GetString("JobId");
                    return true;
                }
            }
            return false;
        }, ct);
        pool.KillCurrent();
        var before = await new QuantumLedger(storage.Ledger).ListAsync(run, ct);
        var succeededBefore = before.Where(r => r.State == QuantumState.Succeeded).ToDictionary(r => r.QuantumKey);
        output.WriteLine($"killed the runner (SIGKILL) in job {killedJob} with {succeededBefore.Count} of {n} quanta succeeded");

        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, ct);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.True(result.Completed, result.Reason);
        // A detector with too few reference stars is unprocessable (an outcome, never retried); none failed.
        var counts = result.Steps.Single(s => s.Step == "step1").Counts;
        Assert.Equal((n, 0L), (counts.Succeeded + counts.Unprocessable, counts.Failed));
        // Steps 2 and 7 ran in container jobs too: two quanta per visit, then the two survey-wide tables.
        Assert.Equal(["step1", "step2", "step7"], result.Steps.Select(s => s.Step));
        Assert.Equal((2L * settings.Visits, 0L), (result.Steps[1].Counts.Succeeded + result.Steps[1].Counts.Unprocessable, result.Steps[1].Counts.Failed));
        Assert.Equal((2L, 0L), (result.Steps[2].Counts.Succeeded, result.Steps[2].Counts.Failed));
        var all = await ledger.ListAsync(run, ct);
        Assert.Equal(n + 2 * settings.Visits + 2, all.Count);
        var after = all.Where(r => r.Provenance?.Step == "step1").ToList();
        Assert.Equal(n, after.Count);
        Assert.All(after, r => Assert.Contains(r.State, new[] { QuantumState.Succeeded, QuantumState.Unprocessable }));
        Assert.Equal(counts.Unprocessable, after.Count(r => r.State == QuantumState.Unprocessable));
        foreach (var r in after.Where(r => succeededBefore.ContainsKey(r.QuantumKey)))
        {
            Assert.Equal(1, r.Attempts); // completed before the kill: not executed again
        }
        var killed = await new JobLedger(storage.Ledger).GetAsync(run, killedJob!, ct);
        Assert.Equal((JobState.Completed, 2), (killed!.State, killed.Delivery)); // the lost delivery and the one that finished
        await LocalSurvey.AssertSourceRowsOnceAsync(storage, after.Sum(r => r.OutputRows), ct);
        Assert.True(pool.Started >= 2, $"{pool.Started} runner processes");
    }

    /// <summary>
    /// The same path with the <c>drp worker</c> process and every <c>Drp.Jobs</c> process reaching the storage through
    /// the wire fault proxy at 30 % (ordinary connection string): step 1 in container jobs ends with every quantum once
    /// and each Source row once.
    /// </summary>
    [Fact]
    public async Task Campaign_Step1InContainerJobs_WorkerAndRunnersBehindThirtyPercentWireFaults_EveryQuantumEndsOnce()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = timeout.Token;
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        await using var proxy = Drp.Local.Faults.WireFaultNetwork.Start(azurite, new Drp.Local.Faults.WireFaultOptions { Rate = 0.3, Seed = 4, StallTime = TimeSpan.FromSeconds(1.5) });
        var quick = WireFaultTrial.QuickResilience.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value!);
        string taskHub = "wirejobs" + Guid.NewGuid().ToString("N")[..6];
        const string run = "wirejobsrun";
        var settings = new DemoSettings { OutDir = _dir, Visits = 2, Detectors = 2, DetectorSize = 512, Seed = 12, Run = run, TaskHub = taskHub };
        int n = settings.Visits * settings.Detectors;

        var (storage, campaign) = await LocalSurvey.SimulateAsync(azurite, settings, output, ct);
        using var worker = ChildProcess.DrpWorker(output, "worker", proxy.ConnectionString, taskHub, quick);
        await LocalSurvey.IngestAsync(storage, campaign, ct);
        var (clientHost, client, id) = await LocalSurvey.StartCampaignAsync(azurite, taskHub, new CampaignInput(run, campaign.Instrument, ["step1"], Executor: JobExecutor.Container), ct);
        using var disposeClient = clientHost;
        using var pool = new RunnerPool(output, proxy.ConnectionString, "standard", quick);

        var done = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, ct);
        output.WriteLine($"{proxy.Counters.Requests} requests through the proxy, {proxy.Counters.TotalFaults} faults: "
            + string.Join(", ", proxy.Counters.Faults.Select(kv => $"{kv.Key} {kv.Value}")) + $"; {pool.Started} runner processes");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.True(result.Completed, result.Reason);
        var counts = result.Steps.Single().Counts;
        Assert.Equal((n, 0L), (counts.Succeeded + counts.Unprocessable, counts.Failed));
        var all = await new QuantumLedger(storage.Ledger).ListAsync(run, ct);
        Assert.Equal(n, all.Count);
        Assert.All(all, r => Assert.Contains(r.State, new[] { QuantumState.Succeeded, QuantumState.Unprocessable }));
        await LocalSurvey.AssertSourceRowsOnceAsync(storage, all.Sum(r => r.OutputRows), ct);
        Assert.True(proxy.Counters.TotalFaults > 0);
    }

    [GeneratedRegex(@"visit=(\d+)")]
    private static partial Regex VisitOf();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// Job runners of one memory class, one at a time: a new one starts whenever the last has exited (its queue was empty)
    /// or was killed, as a queue-driven scaler starts container jobs.
    /// </summary>
    private sealed class RunnerPool : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private volatile ChildProcess? _current;
        private int _started;

        public RunnerPool(ITestOutputHelper output, string connectionString, string memoryClass, IReadOnlyDictionary<string, string>? settings = null)
        {
            var env = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
            {
                ["Drp__Storage__ConnectionString"] = connectionString,
                ["Drp__Jobs__MemoryClass"] = memoryClass,
                ["Drp__Jobs__VisibilityTimeout"] = "00:00:05", // a dead runner's job comes back after 5 s
            };
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    int i = Interlocked.Increment(ref _started);
                    using var runner = ChildProcess.Start(output, $"{memoryClass}-runner-{i}", "Drp.Jobs.dll", [], env);
                    _current = runner;
                    try
                    {
                        await runner.WaitForExitAsync(_stop.Token);
                        await Task.Delay(500, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            });
        }

        public int Started => Volatile.Read(ref _started);

        /// <summary>SIGKILL of the runner now running; the pool starts the next.</summary>
        public void KillCurrent() => _current?.Kill();

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
            }
            _current?.Kill();
        }
    }
}
