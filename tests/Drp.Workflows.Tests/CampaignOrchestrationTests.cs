using Drp.Local;
using System.Collections.Concurrent;
using Drp.Workflows.Activities;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace Drp.Workflows.Tests;

/// <summary>The real <see cref="CampaignOrchestrator"/> on the in-process Durable test host, over recorded stand-in steps.</summary>
public sealed class CampaignOrchestrationTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private static StepSummary Summary(string step, long units, long failed, int failedJobs = 0) =>
        new("run", step, 1, 10, failedJobs, new OutcomeCounts(units * 4, units, units - failed, failed, 0, 0), []);

    private static Task<DurableTaskTestHost> StartAsync(ConcurrentQueue<string> ran, Func<string, StepSummary> step, Func<string, StepQaResult>? qa = null) =>
        InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<CampaignOrchestrator>();
            tasks.AddOrchestratorFunc<StepInput, StepSummary>(nameof(StepOrchestrator), (_, input) =>
            {
                ran.Enqueue(input.Step);
                return step(input.Step);
            });
            // Stand-in for the catalog QA activity (its own tests run it on Azurite): passes unless told otherwise.
            tasks.AddActivityFunc<StepQaInput, StepQaResult>(nameof(CatalogQaActivity), (_, input) =>
                qa?.Invoke(input.Step) ?? new StepQaResult(input.Step, true, $"{input.Step}: catalog QA passed", null, [], 0));
        });

    [Fact]
    public async Task Campaign_CatalogQaFailsAfterStep1_StopsNamingTableAndColumnAndStep2NeverStarts()
    {
        var ran = new ConcurrentQueue<string>();
        await using var host = await StartAsync(ran, s => Summary(s, 100, 0), qa => qa == "step1"
            ? new StepQaResult(qa, false, "step1: catalog QA failed: Source.coord_dec: 1 of 400 rows are NaN or infinite", "p", [], 0)
            : new StepQaResult(qa, true, "ok", null, [], 0));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), new CampaignInput("run", "LSSTCam", ["step1", "step2"]));
        var (result, progress) = await WaitAsync(host.Client, id);

        Assert.Equal(["step1"], ran);
        Assert.False(result.Completed);
        Assert.Equal("step1", result.StoppedAfter);
        Assert.Contains("Source.coord_dec: 1 of 400 rows are NaN or infinite", result.Reason);
        Assert.Equal(CampaignProgress.Stopped, progress.Phase);
    }

    [Fact]
    public async Task Campaign_AllGatesPass_RunsTheStepsInOrderAndCompletes()
    {
        var ran = new ConcurrentQueue<string>();
        await using var host = await StartAsync(ran, s => Summary(s, 100, 1));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), new CampaignInput("run", "LSSTCam", ["step1", "step2", "step3"]));
        var (result, progress) = await WaitAsync(host.Client, id);

        Assert.Equal(["step1", "step2", "step3"], ran);
        Assert.True(result.Completed);
        Assert.Equal(["step1", "step2", "step3"], result.Steps.Select(s => s.Step));
        Assert.Equal(CampaignProgress.Completed, progress.Phase);
    }

    [Fact]
    public async Task Campaign_TooManyFailuresInStep2_StopsAtItsGateAndStep3NeverStarts()
    {
        var ran = new ConcurrentQueue<string>();
        await using var host = await StartAsync(ran, s => Summary(s, 100, s == "step2" ? 6 : 0));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), new CampaignInput("run", "LSSTCam", ["step1", "step2", "step3"], MaxFailedFraction: 0.05));
        var (result, progress) = await WaitAsync(host.Client, id);

        Assert.Equal(["step1", "step2"], ran);
        Assert.False(result.Completed);
        Assert.Equal("step2", result.StoppedAfter);
        Assert.Contains("6 of 100 units failed", result.Reason);
        Assert.Equal(new CampaignProgress(CampaignProgress.Stopped, "step2", 2, 3, result.Reason), progress);
    }

    [Theory]
    [InlineData(100, 0, 1, "1 of 10 jobs failed as a whole")]
    [InlineData(0, 0, 0, "no quanta ran")]
    [InlineData(100, 5, 0, null)]
    [InlineData(100, 6, 0, "6 of 100 units failed")]
    public void Gate_Checks_FailOnlyWithTheirReason(long units, long failed, int failedJobs, string? reason)
    {
        var (pass, why) = CampaignOrchestrator.Gate(Summary("s", units, failed, failedJobs), 0.05);

        Assert.Equal(reason is null, pass);
        if (reason is not null)
        {
            Assert.Contains(reason, why);
        }
    }

    [Fact]
    public async Task Campaign_RequireApproval_WaitsWithTheReasonThenContinuesOnApprovalAndStopsOnRejection()
    {
        var ran = new ConcurrentQueue<string>();
        await using var host = await StartAsync(ran, s => Summary(s, 100, 2));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(CampaignOrchestrator), new CampaignInput("run", "LSSTCam", ["step1", "step2", "step3"], RequireApproval: true));
        var waiting = await WaitForPhaseAsync(host.Client, id, "step1");
        Assert.Equal(["step1"], ran); // nothing after the gate before the operator decides
        await host.Client.RaiseEventAsync(id, CampaignOrchestrator.ApprovalEvent, new GateDecision(true));
        await WaitForPhaseAsync(host.Client, id, "step2");
        await host.Client.RaiseEventAsync(id, CampaignOrchestrator.ApprovalEvent, new GateDecision(false, "PSF residuals look wrong"));
        var (result, _) = await WaitAsync(host.Client, id);

        Assert.Contains("2 failed", waiting.Reason);
        Assert.Equal(["step1", "step2"], ran);
        Assert.False(result.Completed);
        Assert.Equal("step2", result.StoppedAfter);
        Assert.Equal("rejected by the operator: PSF residuals look wrong", result.Reason);
    }

    private static async Task<CampaignProgress> WaitForPhaseAsync(DurableTaskClient client, string id, string step)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        while (true)
        {
            var state = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cts.Token);
            if (state?.ReadCustomStatusAs<CampaignProgress>() is { Phase: CampaignProgress.WaitingForApproval } p && p.Step == step)
            {
                return p;
            }
            await Task.Delay(50, cts.Token);
        }
    }

    private static async Task<(CampaignResult Result, CampaignProgress Progress)> WaitAsync(DurableTaskClient client, string id)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
        Assert.True(state.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
        return (state.ReadOutputAs<CampaignResult>()!, state.ReadCustomStatusAs<CampaignProgress>()!);
    }
}
