using System.Diagnostics;
using Drp.Local.TestWorker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Drp.Local.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class LocalDurableEngineTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(50)]
    [InlineData(200)]
    public async Task FanOutThroughSubOrchestration_CompletesWithSumOfSquares(int count)
    {
        var ledger = new SideEffectLedger();
        using var host = await EngineHost.StartAsync(output, azurite.ConnectionString,
            EngineHost.UniqueTaskHub("fanout"), ledger);
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        using var timeout = new CancellationTokenSource(RunTimeout);

        var stopwatch = Stopwatch.StartNew();
        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(SumSquaresOrchestrator),
            new FanOutInput(count, DelayMs: 0), timeout.Token);
        var result = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        stopwatch.Stop();

        output.WriteLine($"MEASURED fan-out of {count} activities via a sub-orchestration: {stopwatch.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(SumOfSquares(count), result.ReadOutputAs<long>());
        Assert.Equal("done", result.ReadCustomStatusAs<string>());
        Assert.Equal(Enumerable.Range(1, count), ledger.Executions.Keys.Order());
        Assert.All(ledger.Executions.Values, n => Assert.Equal(1, n));
        await host.StopAsync();
    }

    [Fact]
    public async Task EngineStoppedMidRun_NewEngineOnSameHubFinishesWithEachActivityRunOnce()
    {
        const int count = 40;
        var taskHub = EngineHost.UniqueTaskHub("restart");
        var ledger = new SideEffectLedger();
        void Configure(LocalDurableEngineOptions o) => o.MaxConcurrentActivities = 4;
        using var timeout = new CancellationTokenSource(RunTimeout);

        string id;
        using (var first = await EngineHost.StartAsync(output, azurite.ConnectionString, taskHub, ledger, Configure))
        {
            var client = first.Services.GetRequiredService<DurableTaskClient>();
            id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(SumSquaresOrchestrator),
                new FanOutInput(count, DelayMs: 300), timeout.Token);
            await WaitUntilAsync(() => ledger.Executions.Count >= 10, timeout.Token);
            await first.StopAsync(timeout.Token);
        }

        var doneBeforeRestart = ledger.Executions.Count;
        output.WriteLine($"Stopped the first engine after {doneBeforeRestart} of {count} activities");
        Assert.InRange(doneBeforeRestart, 10, count - 1);

        var stopwatch = Stopwatch.StartNew();
        using var second = await EngineHost.StartAsync(output, azurite.ConnectionString, taskHub, ledger, Configure);
        var secondClient = second.Services.GetRequiredService<DurableTaskClient>();
        var result = await secondClient.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        output.WriteLine($"MEASURED restart: the second engine finished the remaining {count - doneBeforeRestart} activities in {stopwatch.Elapsed.TotalSeconds:0.0} s");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(SumOfSquares(count), result.ReadOutputAs<long>());
        Assert.Equal(Enumerable.Range(1, count), ledger.Executions.Keys.Order());
        Assert.All(ledger.Executions, e => Assert.True(e.Value == 1, $"activity {e.Key} ran {e.Value} times"));
        await second.StopAsync();
    }

    [Fact]
    public async Task CustomStatusAndExternalEvent_FlowThroughTheClient()
    {
        using var host = await EngineHost.StartAsync(output, azurite.ConnectionString, EngineHost.UniqueTaskHub("event"));
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        using var timeout = new CancellationTokenSource(RunTimeout);

        var id = await client.ScheduleNewOrchestrationInstanceAsync(nameof(AwaitApprovalOrchestrator), "step1",
            timeout.Token);
        OrchestrationMetadata? waiting = null;
        await WaitUntilAsync(async () =>
        {
            waiting = await client.GetInstanceAsync(id, getInputsAndOutputs: true, timeout.Token);
            return waiting?.SerializedCustomStatus is not null;
        }, timeout.Token);
        await client.RaiseEventAsync(id, TestTasks.ApprovalEvent, "operator", timeout.Token);
        var result = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Running, waiting!.RuntimeStatus);
        Assert.Equal("waiting for approval of step1", waiting.ReadCustomStatusAs<string>());
        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("step1 approved by operator", result.ReadOutputAs<string>());
        Assert.Equal("approved", result.ReadCustomStatusAs<string>());
        await host.StopAsync();
    }

    internal static long SumOfSquares(int count) => Enumerable.Range(1, count).Sum(i => (long)i * i);

    internal static Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken) =>
        WaitUntilAsync(() => Task.FromResult(condition()), cancellationToken);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            await Task.Delay(100, cancellationToken);
        }
    }
}
