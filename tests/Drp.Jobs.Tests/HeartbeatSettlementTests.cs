using Drp.Jobs.Queues;
using Drp.Core.Planning;
using Microsoft.Extensions.Logging.Abstractions;
using static Drp.Jobs.Tests.TestJobs;

namespace Drp.Jobs.Tests;

/// <summary>
/// A job that ends while a heartbeat's renewal is in flight: the renewal is finished, not cancelled, before the
/// message is settled. (A cancelled renewal the queue service had applied left the lease's receipt stale, and on
/// Azurite the settlement then failed with PopReceiptMismatch and the runner died holding a finished job.)
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HeartbeatSettlementTests(AzuriteFixture azurite)
{
    /// <summary>A lease whose renewals take a while; it records whether one was cancelled or overlapped the settlement.</summary>
    private sealed class SlowLease(BinaryData body) : IJobLease
    {
        private int _renewing;

        public string MessageId => "m1";

        public int DeliveryCount => 1;

        public BinaryData Body => body;

        public TimeSpan LockDuration => TimeSpan.FromMilliseconds(40);

        public int Renewals;

        public bool RenewalCancelled;

        public bool SettledDuringRenewal;

        public bool Completed;

        public async Task RenewAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Exchange(ref _renewing, 1);
            try
            {
                await Task.Delay(60, cancellationToken);
                Interlocked.Increment(ref Renewals);
            }
            catch (OperationCanceledException)
            {
                RenewalCancelled = true;
                throw;
            }
            finally
            {
                Interlocked.Exchange(ref _renewing, 0);
            }
        }

        public Task CompleteAsync(CancellationToken cancellationToken = default)
        {
            SettledDuringRenewal |= Volatile.Read(ref _renewing) == 1;
            Completed = true;
            return Task.CompletedTask;
        }

        public Task AbandonAsync(TimeSpan delay, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private sealed class NoQueue : IJobQueue
    {
        public string Name => "test";

        public Task<IJobLease?> ReceiveAsync(CancellationToken cancellationToken = default) => Task.FromResult<IJobLease?>(null);

        public Task SendAsync(MemoryClass memory, JobMessage job, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendCompletionAsync(JobCompletion completion, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    [Fact]
    public async Task Process_JobEndsWhileARenewalIsInFlight_RenewalFinishesBeforeTheSettlement()
    {
        string run = NewRun();
        var job = Job(run, "slow-beats", 0, 1, 2) with { HeartbeatInterval = TimeSpan.FromMilliseconds(10) };
        var lease = new SlowLease(JobMessages.Serialize(job));
        // Each quantum takes long enough for renewals to be in flight whenever the job ends.
        var runner = new JobRunner(async (r, ct) => { await Task.Delay(45, ct); return Succeeded(r); }, NullLogger<JobRunner>.Instance);
        var worker = new JobQueueWorker(new NoQueue(), runner, await NewLedgerAsync(azurite.ConnectionString), new JobsOptions(),
            JobRetryPolicy.Default, NullLogger<JobQueueWorker>.Instance);

        var completion = await worker.ProcessAsync(lease);

        Assert.Equal(RetryAction.Done, completion!.Decision.Action);
        Assert.True(lease.Renewals > 0, "no renewal ran");
        Assert.False(lease.RenewalCancelled, "a renewal in flight was cancelled when the job ended");
        Assert.False(lease.SettledDuringRenewal, "the message was settled while a renewal was in flight");
        Assert.True(lease.Completed);
    }
}
