using Drp.Local.Triggers;
using Drp.Workflows.Jobs;
using System.Collections.Concurrent;
using Drp.Jobs.Queues;
using Drp.Local;
using Drp.Storage;
using Drp.Core.Datasets;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Drp.Workflows.Orchestrators;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Jobs.Tests;

/// <summary>
/// Container jobs end to end on Azurite: the real <see cref="ProcessJobOrchestrator"/> on the in-process Durable test
/// host dispatches a step-1 job to the Storage queue of its memory class and awaits its completion event raced against
/// the heartbeat timer; real <see cref="JobQueueWorker"/>s per memory class run it; <see cref="StorageCompletionPump"/>
/// relays the completions. The quantum is scripted (the science is not the point) but keeps the ledger the way
/// the <see cref="QuantumRunner"/> does: a terminal row is skipped, every attempt is counted, one row per quantum.
/// A "killed" runner is one cancelled in the middle of a quantum: it never beats, settles or reports again, and its
/// message stays invisible (the visibility timeout is longer than the test), exactly what the queue and the ledger see
/// of a runner whose process was SIGKILLed.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ContainerJobOrchestrationTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_heartbeatTimeout = TimeSpan.FromSeconds(2);
    private static readonly int[] s_detectors = [0, 1, 2];

    [Fact]
    public async Task ContainerJob_AllQuantaSucceed_CompletionRaisedOnTheOrchestrationAndEveryQuantumRunOnce()
    {
        await using var h = await Harness.StartAsync(azurite.Azurite);
        var runs = new Executions();
        h.StartRunner(MemoryClass.Standard, runs, _ => Outcome.Succeed);

        var summary = await h.RunJobAsync();

        Assert.Equal(new OutcomeCounts(s_detectors.Length, 3, 3, 0, 0, 0), summary.Counts);
        Assert.Equal([1, 1, 1], s_detectors.Select(runs.Count));
        Assert.All(await h.LedgerAsync(), r => Assert.Equal((QuantumState.Succeeded, 1), (r.State, r.Attempts)));
    }

    [Fact]
    public async Task ContainerJob_QuantumOutOfMemoryInStandard_EscalatesToHighmemAndOnlyThatQuantumRunsAgain()
    {
        await using var h = await Harness.StartAsync(azurite.Azurite);
        var runs = new Executions();
        h.StartRunner(MemoryClass.Standard, runs, q => q.Detector() == 1 ? Outcome.OutOfMemory : Outcome.Succeed);
        h.StartRunner(MemoryClass.Highmem, runs, _ => Outcome.Succeed);

        var summary = await h.RunJobAsync();

        Assert.Equal((3L, 0L), (summary.Counts.Succeeded, summary.Counts.Failed));
        Assert.Equal([1, 2, 1], s_detectors.Select(runs.Count));
        Assert.Equal([MemoryClass.Standard, MemoryClass.Highmem], runs.Classes(1));
        var ledger = await h.LedgerAsync();
        Assert.All(ledger, r => Assert.Equal(QuantumState.Succeeded, r.State));
        Assert.Equal(2, ledger.Single(r => r.QuantumKey == Harness.Key(1)).Attempts);
        var job = await new JobLedger(h.Storage.Ledger).GetAsync(h.Run, Harness.JobId);
        Assert.Equal(("highmem", JobState.Completed), (job!.MemoryClass, job.State));
    }

    [Fact]
    public async Task ContainerJob_RunnerKilledMidJob_HeartbeatTimerDeclaresItLostAndASecondDispatchFinishesEveryQuantumOnce()
    {
        await using var h = await Harness.StartAsync(azurite.Azurite);
        var runs = new Executions();
        var inQuantum = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomed = h.StartRunner(MemoryClass.Standard, runs, _ => Outcome.Hang, onHang: () => inQuantum.TrySetResult());
        var job = h.StartJobAsync();
        await inQuantum.Task.WaitAsync(s_timeout);
        h.StartRunner(MemoryClass.Standard, runs, _ => Outcome.Succeed); // the healthy runner cannot see dispatch 1: it is leased
        await doomed.KillAsync();

        var summary = await job;

        Assert.Equal((3L, 0L), (summary.Counts.Succeeded, summary.Counts.Failed));
        Assert.Equal([2, 1, 1], s_detectors.Select(runs.Count)); // detector 0 was running when the runner died
        var ledger = await h.LedgerAsync();
        Assert.Equal(3, ledger.Count);
        Assert.All(ledger, r => Assert.Equal(QuantumState.Succeeded, r.State));
        var row = await new JobLedger(h.Storage.Ledger).GetAsync(h.Run, Harness.JobId);
        Assert.Equal((2, JobState.Completed), (row!.Dispatch, row.State));
    }

    [Fact]
    public async Task ContainerJob_LostOnEveryDispatch_GivesUpAndEveryQuantumGetsOneFailedRowWithTheReason()
    {
        await using var h = await Harness.StartAsync(azurite.Azurite);
        var runs = new Executions();
        for (int i = 0; i < ProcessJobOrchestrator.MaxDispatches; i++)
        {
            var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var runner = h.StartRunner(MemoryClass.Standard, runs, _ => Outcome.Hang, onHang: () => hung.TrySetResult());
            var job = i == 0 ? h.StartJobAsync() : null;
            h.PendingJob ??= job;
            await hung.Task.WaitAsync(s_timeout);
            await runner.KillAsync();
        }

        var summary = await h.PendingJob!;

        Assert.Equal(new OutcomeCounts(s_detectors.Length, 3, 0, 3, 0, 0), summary.Counts);
        Assert.Equal([3, 0, 0], s_detectors.Select(runs.Count)); // each dispatch died in detector 0
        var ledger = await h.LedgerAsync();
        Assert.Equal(3, ledger.Count);
        Assert.All(ledger, r => Assert.Equal((QuantumState.Failed, ProcessJobOrchestrator.JobLostErrorClass), (r.State, r.ErrorClass)));
        Assert.All(ledger, r => Assert.Contains("given up after 3 dispatches", r.Message));
    }

    [Fact]
    public async Task ContainerJob_UnprocessableAndTransientQuanta_UnprocessableNeverRetriedTransientRetriedInTheSameClass()
    {
        await using var h = await Harness.StartAsync(azurite.Azurite);
        var runs = new Executions();
        h.StartRunner(MemoryClass.Standard, runs, q =>
            q.Detector() == 0 ? Outcome.Unprocessable
            : q.Detector() == 2 && runs.Count(2) == 1 ? Outcome.Transient
            : Outcome.Succeed);

        var summary = await h.RunJobAsync();

        Assert.Equal(new OutcomeCounts(s_detectors.Length, 3, 2, 0, 1, 2), summary.Counts); // detectors 0 and 1 skipped on the second delivery
        Assert.Equal([1, 1, 2], s_detectors.Select(runs.Count));
        Assert.Equal([MemoryClass.Standard, MemoryClass.Standard], runs.Classes(2));
        var ledger = (await h.LedgerAsync()).ToDictionary(r => r.QuantumKey);
        Assert.Equal(QuantumState.Unprocessable, ledger[Harness.Key(0)].State);
        Assert.Equal((QuantumState.Succeeded, 2), (ledger[Harness.Key(2)].State, ledger[Harness.Key(2)].Attempts));
    }

    private enum Outcome
    {
        Succeed,
        Unprocessable,
        Transient,
        OutOfMemory,
        Hang,
    }

    /// <summary>Counts executions per detector (skips excluded) and the memory classes they ran in.</summary>
    private sealed class Executions
    {
        private readonly ConcurrentDictionary<int, ConcurrentQueue<MemoryClass>> _runs = new();

        public int Count(int detector) => _runs.TryGetValue(detector, out var q) ? q.Count : 0;

        public IReadOnlyList<MemoryClass> Classes(int detector) => _runs.TryGetValue(detector, out var q) ? [.. q] : [];

        public void Record(int detector, MemoryClass memory) => _runs.GetOrAdd(detector, _ => new()).Enqueue(memory);
    }

    /// <summary>A runner loop in a memory class, killable.</summary>
    private sealed class Runner(Task loop, CancellationTokenSource cts)
    {
        public async Task KillAsync()
        {
            await cts.CancelAsync();
            try
            {
                await loop;
            }
            catch (OperationCanceledException)
            {
                // killed
            }
        }
    }

    private sealed class Harness : IAsyncDisposable
    {
        public const long Visit = 7;
        public const string JobId = "step1/instrument=LSSTCam/visit=7";
        private const string PlanPath = "plans/job-0.json";

        private readonly List<(Runner Runner, CancellationTokenSource Cts)> _runners = [];
        private readonly CancellationTokenSource _pump = new();
        private DurableTaskTestHost _host = null!;
        private Task _pumpTask = Task.CompletedTask;

        public StorageClients Storage { get; private init; } = null!;

        public string Run { get; } = "run-" + Guid.NewGuid().ToString("N")[..8];

        /// <summary>The ledger key of detector <paramref name="detector"/>'s quantum.</summary>
        public static string Key(int detector) => new PlannedQuantum("processFrame", new DataId("LSSTCam", Visit, detector, Band: "r")).Key;

        public Task<JobSummary>? PendingJob { get; set; }

        private string Completions { get; } = "done" + Guid.NewGuid().ToString("N")[..8];

        public static async Task<Harness> StartAsync(AzuriteHost azurite)
        {
            var (storage, _) = await azurite.NewIsolatedStorageAsync();
            foreach (var c in MemoryClasses.All)
            {
                await storage.Queues.GetQueueClient(JobsOptions.QueueName(c)).DeleteIfExistsAsync();
                await storage.Queues.GetQueueClient(JobsOptions.QueueName(c) + "-poison").DeleteIfExistsAsync();
            }
            var h = new Harness { Storage = storage };
            await h.WritePlanAsync();
            var load = new LoadJobActivity(storage);
            var dispatch = new DispatchJobActivity(storage, new StorageQueueJobDispatcher(storage.Queues), NullLogger<DispatchJobActivity>.Instance);
            var check = new CheckJobActivity(storage);
            var unfinished = new RecordUnfinishedQuantaActivity(storage);
            h._host = await InProcessTestHosts.StartAsync(tasks =>
            {
                tasks.AddOrchestrator<ProcessJobOrchestrator>();
                tasks.AddActivityFunc<JobInput, JobWork>(nameof(LoadJobActivity), (_, i) => load.ExecuteAsync(i));
                tasks.AddActivityFunc<DispatchJobInput, JobDispatched>(nameof(DispatchJobActivity), (_, i) => dispatch.ExecuteAsync(i));
                tasks.AddActivityFunc<JobCheckInput, JobCheck>(nameof(CheckJobActivity), (_, i) => check.ExecuteAsync(i));
                tasks.AddActivityFunc<RecordUnfinishedInput, int>(nameof(RecordUnfinishedQuantaActivity), (_, i) => unfinished.ExecuteAsync(i));
            });
            var pump = new StorageCompletionPump(storage.Queues.GetQueueClient(h.Completions), h._host.Client,
                new JobCompletionRelay(NullLogger<JobCompletionRelay>.Instance), NullLogger<StorageCompletionPump>.Instance);
            h._pumpTask = pump.RunAsync(TimeSpan.FromMilliseconds(100), h._pump.Token);
            return h;
        }

        private async Task WritePlanAsync()
        {
            var quanta = new List<PlannedQuantum>();
            quanta.AddRange(s_detectors.Select(d => new PlannedQuantum("processFrame", new DataId("LSSTCam", Visit, d, Band: "r"))));
            var job = new PlannedJob("step1", JobId, new DataId("LSSTCam", Visit, Band: "r"), quanta, MemoryClass.Standard,
                TimeSpan.FromMilliseconds(200), s_heartbeatTimeout, JobExecutor.Container);
            await Storage.DataContainer.GetBlobClient(PlanPath).UploadAsync(BinaryData.FromObjectAsJson(job, StepPlanWriter.Json), overwrite: true);
        }

        /// <summary>A worker loop on the queue of <paramref name="memory"/> running the scripted quantum.</summary>
        public Runner StartRunner(MemoryClass memory, Executions executions, Func<QuantumRequest, Outcome> script, Action? onHang = null)
        {
            var options = new JobsOptions
            {
                MemoryClass = memory.Name(),
                CompletionsQueue = Completions,
                VisibilityTimeout = TimeSpan.FromMinutes(10), // longer than the test: a killed runner's message never comes back by itself
                HeartbeatInterval = TimeSpan.FromMilliseconds(200),
                MaxDeliveryCount = 3,
            };
            var ledger = new QuantumLedger(Storage.Ledger);
            var runner = new JobRunner(async (r, ct) =>
            {
                var q = r.Quantum;
                var previous = await ledger.GetAsync(r.Run, q.Key, ct);
                if (previous is { State: QuantumState.Succeeded or QuantumState.Unprocessable })
                {
                    return new QuantumResult(q.Task, q.DataId, previous.State, previous.Attempts, previous.OutputRows, previous.ErrorClass, previous.Message, Skipped: true, 0);
                }
                int attempt = await ledger.StartAttemptAsync(r.Run, q.Key, ct);
                executions.Record(r.Detector(), memory);
                var outcome = script(r);
                if (outcome == Outcome.Hang)
                {
                    onHang?.Invoke();
                    await Task.Delay(Timeout.Infinite, ct);
                }
                if (outcome is Outcome.Transient or Outcome.OutOfMemory)
                {
                    Exception e = outcome == Outcome.Transient ? new IOException("storage went away") : new OutOfMemoryException("needs more than standard");
                    await ledger.CompleteAsync(new QuantumRecord(r.Run, q.Key, QuantumState.Failed, attempt, e.GetType().FullName, e.Message, 1, 0, null), CancellationToken.None);
                    throw e;
                }
                var state = outcome == Outcome.Unprocessable ? QuantumState.Unprocessable : QuantumState.Succeeded;
                await ledger.CompleteAsync(new QuantumRecord(r.Run, q.Key, state, attempt, state == QuantumState.Unprocessable ? "Unprocessable" : null, null, 1, 10, null), ct);
                return new QuantumResult(q.Task, q.DataId, state, attempt, 10, state == QuantumState.Unprocessable ? "Unprocessable" : null, null, Skipped: false, 1);
            }, NullLogger<JobRunner>.Instance);
            var worker = new JobQueueWorker(new StorageJobQueue(Storage.Queues, options), runner, new JobLedger(Storage.Ledger), options,
                new JobRetryPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)), NullLogger<JobQueueWorker>.Instance);
            var cts = new CancellationTokenSource();
            var loop = Task.Run(async () =>
            {
                while (!cts.IsCancellationRequested)
                {
                    if (await worker.RunUntilEmptyAsync(cts.Token) == 0)
                    {
                        await Task.Delay(100, cts.Token);
                    }
                }
            });
            var r = new Runner(loop, cts);
            _runners.Add((r, cts));
            return r;
        }

        public Task<JobSummary> StartJobAsync() => RunJobCoreAsync();

        public Task<JobSummary> RunJobAsync() => RunJobCoreAsync();

        private async Task<JobSummary> RunJobCoreAsync()
        {
            string id = await _host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ProcessJobOrchestrator),
                new JobInput(Run, "LSSTCam", "calib", "step1", PlanPath));
            using var cts = new CancellationTokenSource(s_timeout);
            var done = await _host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
            Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails?.ErrorMessage}");
            return done.ReadOutputAs<JobSummary>()!;
        }

        public async Task<List<QuantumRecord>> LedgerAsync() => await new QuantumLedger(Storage.Ledger).ListAsync(Run);

        public async ValueTask DisposeAsync()
        {
            foreach (var (runner, _) in _runners)
            {
                await runner.KillAsync();
            }
            await _pump.CancelAsync();
            try
            {
                await _pumpTask;
            }
            catch (OperationCanceledException)
            {
            }
            await _host.DisposeAsync();
        }
    }
}
