using Azure.Storage.Queues;
using Drp.Jobs.Queues;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Core.Planning;
using Microsoft.Extensions.Logging.Abstractions;
using static Drp.Jobs.Tests.TestJobs;

namespace Drp.Jobs.Tests;

/// <summary>
/// The Storage-queue adapter and the worker on Azurite: visibility renewal, the poison queue with the reason, and a
/// killed runner's job coming back after the visibility timeout to be run again. Job queue names are fixed per
/// memory class, so each test empties them first (the collection runs its tests one at a time).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class StorageJobQueueTests(AzuriteFixture azurite)
{
    private static readonly JobRetryPolicy NoBackoff = new(TimeSpan.Zero, TimeSpan.Zero);

    private readonly QueueServiceClient _queues = new(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private async Task<(StorageJobQueue Queue, JobLedger Ledger, JobsOptions Options)> NewAsync(TimeSpan visibility, int maxDeliveries = 3)
    {
        foreach (var c in MemoryClasses.All)
        {
            await _queues.GetQueueClient(JobsOptions.QueueName(c)).DeleteIfExistsAsync();
            await _queues.GetQueueClient(JobsOptions.QueueName(c) + "-poison").DeleteIfExistsAsync();
        }
        var options = new JobsOptions
        {
            MemoryClass = "standard",
            MaxDeliveryCount = maxDeliveries,
            VisibilityTimeout = visibility,
            CompletionsQueue = "done" + Guid.NewGuid().ToString("N")[..8],
        };
        var queue = new StorageJobQueue(_queues, options);
        await queue.Completions.CreateIfNotExistsAsync();
        return (queue, await NewLedgerAsync(azurite.ConnectionString), options);
    }

    private static JobQueueWorker Worker(IJobQueue queue, JobLedger ledger, JobsOptions options, Func<QuantumRequest, CancellationToken, Task<QuantumResult>> run) =>
        new(queue, new JobRunner(run, NullLogger<JobRunner>.Instance), ledger, options, NoBackoff, NullLogger<JobQueueWorker>.Instance);

    private static async Task<List<T>> DrainAsync<T>(QueueClient queue)
    {
        var list = new List<T>();
        foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value)
        {
            list.Add(m.Body.ToObjectFromJson<T>(JobMessages.Json)!);
        }
        return list;
    }

    [Fact]
    public async Task Worker_TwoJobsAndAMessageThatIsNotAJob_RunsTheJobsReportsThemAndPoisonsTheOther()
    {
        var (queue, ledger, options) = await NewAsync(TimeSpan.FromSeconds(30));
        string run = NewRun();
        var jobs = _queues.GetQueueClient(options.Queue);
        await jobs.CreateIfNotExistsAsync();
        await jobs.SendMessageAsync(JobMessages.Serialize(Job(run, "a", 0, 1)));
        await jobs.SendMessageAsync("this is not a job");
        await jobs.SendMessageAsync(JobMessages.Serialize(Job(run, "b", 2)));

        int n = await Worker(queue, ledger, options, Failing(() => new IOException())).RunUntilEmptyAsync();

        Assert.Equal(3, n);
        var done = (await DrainAsync<JobCompletion>(queue.Completions)).OrderBy(c => c.JobId).ToList();
        Assert.Equal(["a", "b"], done.Select(c => c.JobId));
        Assert.Equal([2, 1], done.Select(c => c.Succeeded));
        var poison = Assert.Single(await DrainAsync<PoisonMessage>(queue.Poison));
        Assert.Equal("NotAJob", poison.Reason);
        Assert.Equal("this is not a job", poison.Body);
        Assert.Empty((await jobs.PeekMessagesAsync(10)).Value);
    }

    [Fact]
    public async Task Worker_JobLongerThanTheVisibilityTimeout_StaysInvisibleWhileHeartbeatsRenewIt()
    {
        var visibility = TimeSpan.FromSeconds(2);
        var (queue, ledger, options) = await NewAsync(visibility);
        string run = NewRun();
        var jobs = _queues.GetQueueClient(options.Queue);
        await jobs.CreateIfNotExistsAsync();
        await jobs.SendMessageAsync(JobMessages.Serialize(Job(run, "long", 0) with { HeartbeatInterval = TimeSpan.FromMilliseconds(250) }));
        var seenWhileRunning = new List<int>();

        // The quantum runs for three visibility timeouts and looks at the queue as another runner would.
        int n = await Worker(queue, ledger, options, async (q, ct) =>
        {
            for (int i = 0; i < 3; i++)
            {
                await Task.Delay(visibility, ct);
                seenWhileRunning.Add((await jobs.PeekMessagesAsync(10, ct)).Value.Length);
            }
            return Succeeded(q);
        }).RunUntilEmptyAsync();

        Assert.Equal(1, n);
        Assert.Equal([0, 0, 0], seenWhileRunning);
        var c = Assert.Single(await DrainAsync<JobCompletion>(queue.Completions));
        Assert.Equal(1, c.Delivery);
        Assert.Equal(RetryAction.Done, c.Decision.Action);
        var row = await ledger.GetAsync(run, "long");
        Assert.Equal(JobState.Completed, row!.State);
        Assert.Empty((await jobs.PeekMessagesAsync(10)).Value);
    }

    [Fact]
    public async Task Worker_TransientFailureOnEveryDelivery_GoesToThePoisonQueueWithTheReasonAfterTheMaximum()
    {
        var (queue, ledger, options) = await NewAsync(TimeSpan.FromSeconds(30), maxDeliveries: 2);
        string run = NewRun();
        await queue.SendAsync(MemoryClass.Standard, Job(run, "flaky", 0, 1));

        int n = await Worker(queue, ledger, options, Failing(() => new TimeoutException("table write timed out"), 0)).RunUntilEmptyAsync();

        Assert.Equal(2, n);
        var poison = Assert.Single(await DrainAsync<PoisonMessage>(queue.Poison));
        Assert.Equal("Transient failure on delivery 2 of 2", poison.Reason);
        Assert.Contains("processFrame|instrument=LSSTCam/visit=7/detector=0/band=r: System.TimeoutException: table write timed out", poison.Description);
        Assert.Equal(2, poison.DeliveryCount);
        Assert.Equal("flaky", JobMessages.Parse(BinaryData.FromString(poison.Body)).JobId);
        Assert.Equal([RetryAction.SameClass, RetryAction.GiveUp], (await DrainAsync<JobCompletion>(queue.Completions)).OrderBy(c => c.Delivery).Select(c => c.Decision.Action));
        Assert.Equal(JobState.GaveUp, (await ledger.GetAsync(run, "flaky"))!.State);
        Assert.Empty((await _queues.GetQueueClient(options.Queue).PeekMessagesAsync(10)).Value);
    }

    [Fact]
    public async Task Worker_OutOfMemory_PutsTheFailedQuantaOnTheHighmemQueue()
    {
        var (queue, ledger, options) = await NewAsync(TimeSpan.FromSeconds(30));
        await queue.SendAsync(MemoryClass.Standard, Job(NewRun(), "big", 0, 1));

        await Worker(queue, ledger, options, Failing(() => new OutOfMemoryException("injected oom"), 0)).RunUntilEmptyAsync();

        var highmem = (await _queues.GetQueueClient("drp-jobs-highmem").ReceiveMessagesAsync(10)).Value;
        var escalated = JobMessages.Parse(Assert.Single(highmem).Body);
        Assert.Equal("big", escalated.JobId);
        Assert.Equal([0], escalated.Quanta.Select(q => q.Detector()));
        Assert.Empty((await _queues.GetQueueClient(options.Queue).PeekMessagesAsync(10)).Value);
    }

    [Fact]
    public async Task KilledRunner_JobReappearsAfterTheVisibilityTimeout_IsDeclaredLostAndRunAgain()
    {
        var visibility = TimeSpan.FromSeconds(1);
        var (queue, ledger, options) = await NewAsync(visibility);
        string run = NewRun();
        await queue.SendAsync(MemoryClass.Standard, Job(run, "orphan", 0, 1));

        // Runner 1 dies in the middle of its job: it neither settles the message nor beats again.
        using var killed = new CancellationTokenSource();
        var dying = Worker(queue, ledger, options, async (q, ct) =>
        {
            await killed.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return Succeeded(q);
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dying.RunUntilEmptyAsync(killed.Token));
        Assert.Equal(JobState.Running, (await ledger.GetAsync(run, "orphan"))!.State);

        // Runner 2 starts once the message is visible again (its visibility timeout has passed).
        var jobs = _queues.GetQueueClient(options.Queue);
        for (int i = 0; i < 300 && (await jobs.PeekMessagesAsync(1)).Value.Length == 0; i++)
        {
            await Task.Delay(100);
        }
        int n = await Worker(queue, ledger, options, Failing(() => new IOException())).RunUntilEmptyAsync();

        Assert.Equal(1, n);
        var c = Assert.Single(await DrainAsync<JobCompletion>(queue.Completions));
        Assert.Equal(2, c.Delivery);
        Assert.True(c.PreviousDeliveryLost);
        Assert.Equal(2, c.Succeeded);
        var row = await ledger.GetAsync(run, "orphan");
        Assert.Equal((JobState.Completed, 2), (row!.State, row.Delivery));
        Assert.Empty((await jobs.PeekMessagesAsync(10)).Value);
    }
}
