using System.Diagnostics;
using Drp.Local.TestWorker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Drp.Local.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class WorkerCrashTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task WorkerProcessKilledMidRun_RestartedWorkerFinishesTheRun()
    {
        const int count = 30;
        const int maxConcurrentActivities = 2;
        var taskHub = EngineHost.UniqueTaskHub("kill");
        var ledger = Directory.CreateTempSubdirectory("drp-ledger-");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            // The test only starts and watches the run: a client-only engine leases no partition.
            using var clientHost = await EngineHost.StartAsync(output, azurite.ConnectionString, taskHub,
                configure: o => o.ProcessWork = false);
            var client = clientHost.Services.GetRequiredService<DurableTaskClient>();
            using var first = TestWorkerProcess.Start(output, "worker-1", azurite.ConnectionString, taskHub,
                ledger.FullName, maxConcurrentActivities);
            await first.WaitUntilReadyAsync(timeout.Token);

            var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(SumSquaresOrchestrator),
                new FanOutInput(count, DelayMs: 400), timeout.Token);
            await LocalDurableEngineTests.WaitUntilAsync(
                () => SideEffectLedger.ReadFolder(ledger.FullName).Count >= 8, timeout.Token);
            first.Kill();
            var beforeKill = SideEffectLedger.ReadFolder(ledger.FullName).Count;
            output.WriteLine($"Killed worker-1 (SIGKILL) after {beforeKill} of {count} activities had started");

            var stopwatch = Stopwatch.StartNew();
            using var second = TestWorkerProcess.Start(output, "worker-2", azurite.ConnectionString, taskHub,
                ledger.FullName, maxConcurrentActivities);
            await second.WaitUntilReadyAsync(timeout.Token);
            var result = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
            var executions = SideEffectLedger.ReadFolder(ledger.FullName);
            var reruns = executions.Values.Sum(n => n - 1);
            output.WriteLine($"MEASURED crash recovery: worker-2 finished the run {stopwatch.Elapsed.TotalSeconds:0.0} s after the kill; {reruns} activities ran twice");

            Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
            Assert.Equal(LocalDurableEngineTests.SumOfSquares(count), result.ReadOutputAs<long>());
            Assert.Equal(Enumerable.Range(1, count), executions.Keys.Order());
            // At-least-once: only the activities worker-1 held when it died may run again.
            Assert.InRange(reruns, 0, maxConcurrentActivities);
        }
        finally
        {
            ledger.Delete(recursive: true);
        }
    }
}
