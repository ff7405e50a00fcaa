using Azure.Storage.Queues;
using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Drp.Jobs.Queues;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Core.Planning;
using Microsoft.Extensions.Logging.Abstractions;
using static Drp.Jobs.Tests.TestJobs;

namespace Drp.Jobs.Tests;

/// <summary>
/// The Service Bus adapter. Service Bus cannot run on this machine (no emulator, no network to Azure), so these tests
/// drive the real adapter and worker through the SDK's own test seams: messages from
/// <see cref="ServiceBusModelFactory.ServiceBusReceivedMessage"/>, and a <see cref="ServiceBusReceiver"/> and
/// <see cref="ServiceBusSender"/> derived here (their protected constructors and virtual methods exist for this).
/// They cover message mapping and settlement (complete, abandon, dead-letter with the reason, lock renewal while a
/// long job runs); the broker's own behaviour (lock expiry, its maxDeliveryCount) is not exercised. The job ledger
/// rows are real (Azurite).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServiceBusJobQueueTests(AzuriteFixture azurite)
{
    private static readonly JobRetryPolicy NoBackoff = new(TimeSpan.Zero, TimeSpan.Zero);

    private static JobsOptions Options(MemoryClass memory = MemoryClass.Standard, int maxDeliveries = 3) =>
        new() { MemoryClass = memory.Name(), MaxDeliveryCount = maxDeliveries, CompletionsQueue = "done" + Guid.NewGuid().ToString("N")[..8] };

    private sealed class Harness
    {
        public FakeReceiver Receiver { get; }
        public ConcurrentDictionary<string, FakeSender> Senders { get; } = new();
        public ServiceBusJobQueue Queue { get; }
        public JobLedger Ledger { get; }
        public JobsOptions Options { get; }
        public int QuantaRun;

        /// <summary>The Storage queue completions go to (on Azurite): runners report there whatever carries their jobs.</summary>
        public QueueClient CompletionsQueue { get; }

        public Harness(JobLedger ledger, JobsOptions options, QueueClient completions, TimeSpan? lockDuration = null)
        {
            Ledger = ledger;
            Options = options;
            CompletionsQueue = completions;
            Receiver = new FakeReceiver(options.Queue, lockDuration ?? TimeSpan.FromMinutes(5));
            Queue = new ServiceBusJobQueue(Receiver, name => Senders.GetOrAdd(name, n => new FakeSender(n)), completions, TimeSpan.FromSeconds(1));
        }

        public JobQueueWorker Worker(Func<QuantumRequest, CancellationToken, Task<QuantumResult>> run, JobRetryPolicy? policy = null) =>
            new(Queue, new JobRunner((q, ct) => { Interlocked.Increment(ref QuantaRun); return run(q, ct); }, NullLogger<JobRunner>.Instance),
                Ledger, Options, policy ?? NoBackoff, NullLogger<JobQueueWorker>.Instance);

        public List<JobCompletion> Completions() =>
            [.. CompletionsQueue.PeekMessages(32).Value.Select(m => m.Body.ToObjectFromJson<JobCompletion>(JobMessages.Json)!)];
    }

    private async Task<Harness> NewHarnessAsync(JobsOptions? options = null, TimeSpan? lockDuration = null)
    {
        options ??= Options();
        var completions = new QueueClient(azurite.ConnectionString, options.CompletionsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await completions.CreateAsync();
        return new(await NewLedgerAsync(azurite.ConnectionString), options, completions, lockDuration);
    }

    [Fact]
    public async Task ToMessage_JobRoundTripsThroughAReceivedMessage_BodyAndPropertiesMapped()
    {
        var job = Job("run-a", "visit-7", 3, 4) with { HeartbeatInterval = TimeSpan.FromSeconds(90) };
        var sent = ServiceBusJobMessages.ToMessage(MemoryClass.Highmem, job);
        var received = ServiceBusModelFactory.ServiceBusReceivedMessage(body: sent.Body, messageId: sent.MessageId,
            properties: sent.ApplicationProperties, deliveryCount: 2, lockedUntil: DateTimeOffset.UtcNow.AddMinutes(5));
        var h = await NewHarnessAsync(Options(MemoryClass.Highmem));
        h.Receiver.Add(received);

        var lease = await h.Queue.ReceiveAsync();
        var parsed = JobMessages.Parse(lease!.Body);

        Assert.Equal("visit-7@highmem#1", sent.MessageId);
        Assert.Equal("application/json", sent.ContentType);
        Assert.Equal("visit-7", sent.ApplicationProperties[ServiceBusJobMessages.JobIdProperty]);
        Assert.Equal("run-a", sent.ApplicationProperties[ServiceBusJobMessages.RunProperty]);
        Assert.Equal("highmem", sent.ApplicationProperties[ServiceBusJobMessages.MemoryClassProperty]);
        Assert.Equal(2, sent.ApplicationProperties[ServiceBusJobMessages.QuantaProperty]);
        Assert.Equal(2, lease.DeliveryCount);
        Assert.Equal("visit-7@highmem#1", lease.MessageId);
        Assert.Equal(job.JobId, parsed.JobId);
        Assert.Equal(job.Quanta, parsed.Quanta);
        Assert.Equal(TimeSpan.FromSeconds(90), parsed.HeartbeatInterval);
        Assert.Equal("drp-jobs-highmem", h.Queue.Name);
    }

    [Fact]
    public async Task Worker_JobSucceeds_CompletesTheMessageAndSendsACompletion()
    {
        var h = await NewHarnessAsync();
        string run = NewRun();
        h.Receiver.Add(Received(Job(run, "j1", 0, 1)));

        int n = await h.Worker(Failing(() => new IOException())).RunUntilEmptyAsync();

        Assert.Equal(1, n);
        Assert.Equal(["complete:j1@standard#1"], h.Receiver.Settlements);
        var c = Assert.Single(h.Completions());
        Assert.Equal(RetryAction.Done, c.Decision.Action);
        Assert.Equal(2, c.Succeeded);
        Assert.Equal(JobState.Completed, (await h.Ledger.GetAsync(run, "j1"))!.State);
        Assert.Empty(h.Senders); // the completion went to the Storage queue, nothing else was sent
    }

    [Fact]
    public async Task Worker_TransientFailureBeforeTheLastDelivery_AbandonsTheMessage()
    {
        var h = await NewHarnessAsync();
        h.Receiver.Add(Received(Job(NewRun(), "j2", 0, 1), deliveryCount: 1));
        var worker = h.Worker(Failing(() => new TimeoutException("blob read timed out"), 1));

        var completion = await worker.ProcessAsync((await h.Queue.ReceiveAsync())!);

        Assert.Equal(["abandon:j2@standard#1"], h.Receiver.Settlements);
        Assert.Equal(FailureKind.Transient, completion!.Failure);
        Assert.Equal(RetryAction.SameClass, completion.Decision.Action);
        Assert.Equal(MemoryClass.Standard, completion.Decision.MemoryClass);
    }

    [Fact]
    public async Task Worker_TransientFailureUntilTheLastDelivery_DeadLettersWithTheReasonAndTheFailedQuanta()
    {
        var h = await NewHarnessAsync(Options(maxDeliveries: 3));
        h.Receiver.Add(Received(Job(NewRun(), "j3", 0, 1), deliveryCount: 1));

        // The fake redelivers an abandoned message with its delivery count + 1, as Service Bus does.
        int n = await h.Worker(Failing(() => new TimeoutException("blob read timed out"), 1)).RunUntilEmptyAsync();

        Assert.Equal(3, n);
        Assert.Equal(["abandon:j3@standard#1", "abandon:j3@standard#1", "deadletter:j3@standard#1"], h.Receiver.Settlements);
        var (reason, description) = h.Receiver.DeadLetters.Single();
        Assert.Equal("Transient failure on delivery 3 of 3", reason);
        Assert.Contains("processFrame|instrument=LSSTCam/visit=7/detector=1/band=r: System.TimeoutException: blob read timed out", description);
        Assert.Equal([RetryAction.SameClass, RetryAction.SameClass, RetryAction.GiveUp], h.Completions().Select(c => c.Decision.Action));
    }

    [Fact]
    public async Task Worker_DeliveryCountAboveTheMaximum_DeadLettersWithoutRunningTheJob()
    {
        var h = await NewHarnessAsync(Options(maxDeliveries: 3));
        h.Receiver.Add(Received(Job(NewRun(), "j4", 0), deliveryCount: 4));

        await h.Worker(Failing(() => new IOException())).RunUntilEmptyAsync();

        Assert.Equal(0, h.QuantaRun);
        Assert.Equal(["deadletter:j4@standard#1"], h.Receiver.Settlements);
        Assert.Equal("delivered 4 times, more than 3, without completing", h.Receiver.DeadLetters.Single().Reason);
    }

    [Fact]
    public async Task Worker_MessageThatIsNotAJob_IsDeadLetteredAsNotAJob()
    {
        var h = await NewHarnessAsync();
        h.Receiver.Add(ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString("{\"hello\":1"), messageId: "junk", deliveryCount: 1,
            lockedUntil: DateTimeOffset.UtcNow.AddMinutes(5)));

        await h.Worker(Failing(() => new IOException())).RunUntilEmptyAsync();

        Assert.Equal(["deadletter:junk"], h.Receiver.Settlements);
        Assert.Equal("NotAJob", h.Receiver.DeadLetters.Single().Reason);
        Assert.Empty(h.Completions());
    }

    [Fact]
    public async Task Worker_QuantumOutOfMemory_SendsTheFailedQuantaToTheNextClassQueueAndCompletes()
    {
        var h = await NewHarnessAsync();
        string run = NewRun();
        h.Receiver.Add(Received(Job(run, "j5", 0, 1, 2)));

        await h.Worker(Failing(() => new OutOfMemoryException("injected oom"), 1, 2)).RunUntilEmptyAsync();

        Assert.Equal(["complete:j5@standard#1"], h.Receiver.Settlements);
        var escalated = Assert.Single(h.Senders["drp-jobs-highmem"].Sent);
        Assert.Equal("highmem", escalated.ApplicationProperties[ServiceBusJobMessages.MemoryClassProperty]);
        Assert.Equal([1, 2], JobMessages.Parse(escalated.Body).Quanta.Select(q => q.Detector()));
        var c = Assert.Single(h.Completions());
        Assert.Equal(FailureKind.OutOfMemory, c.Failure);
        Assert.Equal(new RetryDecision(RetryAction.NextClass, MemoryClass.Highmem, TimeSpan.Zero, "out of memory in standard: escalated to highmem"), c.Decision);
        Assert.Equal(JobState.Escalated, (await h.Ledger.GetAsync(run, "j5"))!.State);
    }

    [Fact]
    public async Task Worker_OutOfMemoryInExtraHighmem_DeadLettersAndSendsNothingOn()
    {
        var h = await NewHarnessAsync(Options(MemoryClass.ExtraHighmem));
        h.Receiver.Add(Received(Job(NewRun(), "j6", 0), MemoryClass.ExtraHighmem));

        await h.Worker(Failing(() => new OutOfMemoryException("injected oom"), 0)).RunUntilEmptyAsync();

        Assert.Equal(["deadletter:j6@extra-highmem#1"], h.Receiver.Settlements);
        Assert.Equal("out of memory in extra-highmem, the largest memory class", h.Receiver.DeadLetters.Single().Reason);
        Assert.Empty(h.Senders); // no next class: nothing sent on Service Bus
        Assert.Single(h.Completions());
    }

    [Fact]
    public async Task Worker_UnprocessableFailure_CompletesAndIsNeverRetried()
    {
        var h = await NewHarnessAsync();
        h.Receiver.Add(Received(Job(NewRun(), "j7", 0)));

        // ArgumentException is one of RetryPolicies' permanent types.
        await h.Worker(Failing(() => new ArgumentException("bad raw"), 0)).RunUntilEmptyAsync();

        Assert.Equal(["complete:j7@standard#1"], h.Receiver.Settlements);
        Assert.Equal(RetryAction.Never, h.Completions().Single().Decision.Action);
    }

    [Fact]
    public async Task Worker_LongJob_RenewsTheLockAndWritesHeartbeatsWhileItRuns()
    {
        var h = await NewHarnessAsync();
        string run = NewRun();
        h.Receiver.Add(Received(Job(run, "j8", 0) with { HeartbeatInterval = TimeSpan.FromMilliseconds(50) }));
        JobRecord? during = null;

        // The quantum ends only once the lock was renewed three times: the job is "long" in heartbeats, not in seconds.
        await h.Worker(async (q, ct) =>
        {
            await h.Receiver.RenewedAtLeast(3).WaitAsync(TimeSpan.FromMinutes(1), ct);
            during = await h.Ledger.GetAsync(run, "j8", ct);
            return Succeeded(q);
        }).RunUntilEmptyAsync();

        Assert.True(h.Receiver.Renewals >= 3);
        Assert.Equal(JobState.Running, during!.State);
        Assert.True(during.HeartbeatAt > during.StartedAt, "no heartbeat was written while the job ran");
        Assert.Equal(["complete:j8@standard#1"], h.Receiver.Settlements);
    }

    private static ServiceBusReceivedMessage Received(JobMessage job, MemoryClass memory = MemoryClass.Standard, int deliveryCount = 1)
    {
        var m = ServiceBusJobMessages.ToMessage(memory, job);
        return ServiceBusModelFactory.ServiceBusReceivedMessage(body: m.Body, messageId: m.MessageId, properties: m.ApplicationProperties,
            deliveryCount: deliveryCount, lockedUntil: DateTimeOffset.UtcNow.AddMinutes(5));
    }

    /// <summary>A peek-lock receiver over an in-memory list that records settlements and redelivers abandoned messages.</summary>
    private sealed class FakeReceiver(string entityPath, TimeSpan lockDuration) : ServiceBusReceiver
    {
        private readonly ConcurrentQueue<ServiceBusReceivedMessage> _messages = new();
        private readonly List<(int Count, TaskCompletionSource Done)> _renewalWaits = [];
        private int _renewals;

        public override string EntityPath => entityPath;

        public List<string> Settlements { get; } = [];

        public List<(string Reason, string Description)> DeadLetters { get; } = [];

        public int Renewals => Volatile.Read(ref _renewals);

        public void Add(ServiceBusReceivedMessage message) => _messages.Enqueue(message);

        public Task RenewedAtLeast(int count)
        {
            lock (_renewalWaits)
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Renewals >= count) done.SetResult(); else _renewalWaits.Add((count, done));
                return done.Task;
            }
        }

        public override Task<ServiceBusReceivedMessage?> ReceiveMessageAsync(TimeSpan? maxWaitTime = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(_messages.TryDequeue(out var m) ? m : null);

        public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            int n = Interlocked.Increment(ref _renewals);
            lock (_renewalWaits)
            {
                foreach (var w in _renewalWaits.Where(w => n >= w.Count)) w.Done.TrySetResult();
            }
            return Task.CompletedTask;
        }

        public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            Settlements.Add("complete:" + message.MessageId);
            return Task.CompletedTask;
        }

        public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
        {
            Settlements.Add("abandon:" + message.MessageId);
            _messages.Enqueue(ServiceBusModelFactory.ServiceBusReceivedMessage(body: message.Body, messageId: message.MessageId,
                properties: message.ApplicationProperties.ToDictionary(), deliveryCount: message.DeliveryCount + 1,
                lockedUntil: DateTimeOffset.UtcNow + lockDuration));
            return Task.CompletedTask;
        }

        public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, string deadLetterReason, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
        {
            Settlements.Add("deadletter:" + message.MessageId);
            DeadLetters.Add((deadLetterReason, deadLetterErrorDescription ?? ""));
            return Task.CompletedTask;
        }
    }

    /// <summary>A sender that keeps what it was given.</summary>
    private sealed class FakeSender(string entityPath) : ServiceBusSender
    {
        public override string EntityPath => entityPath;

        public ConcurrentQueue<ServiceBusMessage> Sent { get; } = new();

        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            Sent.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
