using System.Text.Json;
using Azure.Storage.Queues;
using Drp.Local;
using Drp.Storage.Registry;
using Drp.Workflows;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Jobs.Tests;

public sealed class JobRunnerTests : IAsyncLifetime
{
    private AzuriteHost _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    private static DetectorQuantum Q(int detector) => new("run", "LSSTCam", "calib", 7, detector, "r");

    private static Task<QuantumResult> Run(DetectorQuantum q, CancellationToken ct) =>
        q.Detector == 1
            ? throw new IOException("detector 1 is cursed")
            : Task.FromResult(new QuantumResult(q.Visit, q.Detector, QuantumState.Succeeded, 1, 5, null, null, false, 1));

    [Fact]
    public async Task Run_OneQuantumThrows_EveryOtherQuantumIsStillAttempted()
    {
        var runner = new JobRunner(Run, NullLogger<JobRunner>.Instance);

        var result = await runner.RunAsync(new JobMessage("j1", [Q(0), Q(1), Q(2), Q(3)]));

        Assert.Equal([0, 1, 2, 3], result.Quanta.Select(q => q.Detector));
        Assert.Equal(QuantumState.Failed, result.Quanta[1].State);
        Assert.Equal(typeof(IOException).FullName, result.Quanta[1].ErrorClass);
        Assert.Equal(3, result.Quanta.Count(q => q.State == QuantumState.Succeeded));
    }

    [Fact]
    public async Task Worker_TwoJobsAndAPoisonMessage_RunsJobsReportsCompletionsAndPoisonsTheBadOne()
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        string s = Guid.NewGuid().ToString("N")[..8];
        var jobs = new QueueClient(_azurite.ConnectionString, "jobs" + s, options);
        var completions = new QueueClient(_azurite.ConnectionString, "done" + s, options);
        var poison = new QueueClient(_azurite.ConnectionString, "jobs" + s + "-poison", options);
        await jobs.CreateAsync();
        await jobs.SendMessageAsync(JsonSerializer.Serialize(new JobMessage("a", [Q(0), Q(1)]), JobQueueWorker.Json));
        await jobs.SendMessageAsync("this is not a job");
        await jobs.SendMessageAsync(JsonSerializer.Serialize(new JobMessage("b", [Q(2)]), JobQueueWorker.Json));
        var worker = new JobQueueWorker(jobs, completions, poison, new JobRunner(Run, NullLogger<JobRunner>.Instance), NullLogger<JobQueueWorker>.Instance);

        int n = await worker.RunUntilEmptyAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, n);
        var done = (await completions.ReceiveMessagesAsync(10)).Value
            .Select(m => JsonSerializer.Deserialize<JobResult>(m.Body.ToString(), JobQueueWorker.Json)!)
            .OrderBy(r => r.JobId).ToList();
        Assert.Equal(["a", "b"], done.Select(r => r.JobId));
        Assert.Equal(2, done[0].Quanta.Count);
        Assert.Single((await poison.ReceiveMessagesAsync(10)).Value);
        Assert.Empty((await jobs.PeekMessagesAsync(10)).Value);
    }
}
