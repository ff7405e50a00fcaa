using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace Drp.Local.TestWorker;

/// <summary>The orchestrations and activities the engine tests run, in-process and in the test worker.</summary>
public static class TestTasks
{
    /// <summary>The external event <see cref="AwaitApprovalOrchestrator"/> waits for.</summary>
    public const string ApprovalEvent = "Approval";

    /// <summary>Registers every test task.</summary>
    public static void Register(DurableTaskRegistry tasks) => tasks
        .AddOrchestrator<SumSquaresOrchestrator>()
        .AddOrchestrator<SquareFanOutOrchestrator>()
        .AddActivity<RecordSquareActivity>()
        .AddOrchestrator<AwaitApprovalOrchestrator>();
}

/// <summary>Input of the fan-out: squares of 1..<paramref name="Count"/>, each activity taking <paramref name="DelayMs"/>.</summary>
public sealed record FanOutInput(int Count, int DelayMs);

/// <summary>One activity's input.</summary>
public sealed record SquareInput(int Value, int DelayMs);

/// <summary>Sums squares through a sub-orchestration (with tags, so both engine mends are exercised).</summary>
public sealed class SumSquaresOrchestrator : TaskOrchestrator<FanOutInput, long>
{
    public override async Task<long> RunAsync(TaskOrchestrationContext context, FanOutInput input)
    {
        context.SetCustomStatus("fanning out");
        var options = new SubOrchestrationOptions(
            new TaskOptions(retry: null, tags: new Dictionary<string, string> { ["step"] = "test" }),
            instanceId: $"{context.InstanceId}-fanout");
        var sum = await context.CallSubOrchestratorAsync<long>(nameof(SquareFanOutOrchestrator), input, options);
        context.SetCustomStatus("done");
        return sum;
    }
}

/// <summary>Runs one <see cref="RecordSquareActivity"/> per value and sums the results.</summary>
public sealed class SquareFanOutOrchestrator : TaskOrchestrator<FanOutInput, long>
{
    public override async Task<long> RunAsync(TaskOrchestrationContext context, FanOutInput input)
    {
        var squares = await Task.WhenAll(Enumerable.Range(1, input.Count)
            .Select(i => context.CallActivityAsync<long>(nameof(RecordSquareActivity), new SquareInput(i, input.DelayMs))));
        return squares.Sum();
    }
}

/// <summary>Records its side effect in the <see cref="SideEffectLedger"/>, waits, and returns the square.</summary>
public sealed class RecordSquareActivity(SideEffectLedger ledger, ILogger<RecordSquareActivity> logger)
    : TaskActivity<SquareInput, long>
{
    public override async Task<long> RunAsync(TaskActivityContext context, SquareInput input)
    {
        ledger.Record(input.Value);
        if (input.DelayMs > 0)
        {
            await Task.Delay(input.DelayMs);
        }

        logger.LogDebug("Squared {Value}", input.Value);
        return (long)input.Value * input.Value;
    }
}

/// <summary>Shows a custom status, waits for the <see cref="TestTasks.ApprovalEvent"/> event and returns its payload.</summary>
public sealed class AwaitApprovalOrchestrator : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        context.SetCustomStatus($"waiting for approval of {input}");
        var approver = await context.WaitForExternalEvent<string>(TestTasks.ApprovalEvent);
        context.SetCustomStatus("approved");
        return $"{input} approved by {approver}";
    }
}

/// <summary>
/// Counts executions per activity input. In memory by default; with a folder, each execution also leaves a file
/// there, so executions by a process that was killed are still counted.
/// </summary>
public sealed class SideEffectLedger(string? folder = null)
{
    private readonly ConcurrentDictionary<int, int> _executions = new();

    /// <summary>Executions per input, in this process.</summary>
    public IReadOnlyDictionary<int, int> Executions => _executions;

    /// <summary>Records one execution for <paramref name="key"/>.</summary>
    public void Record(int key)
    {
        _executions.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (folder is not null)
        {
            File.WriteAllBytes(Path.Combine(folder, $"{key}.{Guid.NewGuid():N}"), []);
        }
    }

    /// <summary>Executions per input recorded as files in <paramref name="folder"/> (by any process).</summary>
    public static Dictionary<int, int> ReadFolder(string folder) =>
        Directory.EnumerateFiles(folder)
            .Select(path => int.Parse(Path.GetFileName(path).Split('.')[0], System.Globalization.CultureInfo.InvariantCulture))
            .GroupBy(key => key)
            .ToDictionary(g => g.Key, g => g.Count());
}
