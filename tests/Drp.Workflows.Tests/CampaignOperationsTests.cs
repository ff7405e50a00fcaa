using Drp.Local;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Workflows.Operations;
using Drp.Workflows.Orchestrators;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace Drp.Workflows.Tests;

/// <summary>
/// <see cref="CampaignOperations"/> on the real <see cref="CampaignOrchestrator"/> in the in-process Durable test host,
/// over stand-in steps (<c>hold</c>: the step waits for the <see cref="ReleaseEvent"/> event, so the campaign stays
/// running) and a real ledger in Azurite (own table per test).
/// </summary>
public sealed class CampaignOperationsTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private const string ReleaseEvent = "release";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private sealed record Harness(DurableTaskTestHost Host, CampaignOperations Operations, QuantumLedger Ledger, string Run) : IAsyncDisposable
    {
        public DurableTaskClient Client => Host.Client;

        public string Id => CampaignOrchestrator.InstanceIdFor(Run);

        public async ValueTask DisposeAsync()
        {
            await Ledger.Table.DeleteAsync();
            await Host.DisposeAsync();
        }
    }

    private async Task<Harness> StartAsync(bool hold = false)
    {
        string suffix = Guid.NewGuid().ToString("N")[..10];
        var storage = new StorageClients(new DrpStorageOptions { ConnectionString = fixture.Azurite.ConnectionString, LedgerTable = "Ledger" + suffix });
        await storage.Ledger.CreateIfNotExistsAsync();
        var ledger = new QuantumLedger(storage.Ledger);
        var host = await InProcessTestHosts.StartAsync(tasks =>
        {
            tasks.AddOrchestrator<CampaignOrchestrator>();
            tasks.AddOrchestratorFunc<StepInput, StepSummary>(nameof(StepOrchestrator), async (context, input) =>
            {
                if (hold)
                {
                    await context.WaitForExternalEvent<bool>(ReleaseEvent);
                }
                return new StepSummary(input.Run, input.Step, 1, 10, 0, new OutcomeCounts(400, 100, 98, 2, 0, 0), []);
            });
            // Stand-in for the catalog QA activity (its own tests run it on Azurite).
            tasks.AddActivityFunc<StepQaInput, StepQaResult>(nameof(CatalogQaActivity), (_, input) =>
                new StepQaResult(input.Step, true, $"{input.Step}: catalog QA passed", null, [], 0));
        });
        return new Harness(host, new CampaignOperations(host.Client, ledger), ledger, "run" + suffix);
    }

    private static CampaignInput Input(string run, bool requireApproval = false) => new(run, "LSSTCam-sim", ["step1"], RequireApproval: requireApproval);

    [Fact]
    public async Task Start_Twice_CreatesOneInstanceAndReturnsItTheSecondTime()
    {
        await using var h = await StartAsync(hold: true);

        var first = await h.Operations.StartAsync(Input(h.Run));
        var second = await h.Operations.StartAsync(Input(h.Run) with { Instrument = "other" });

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(h.Id, first.InstanceId);
        Assert.Equal(first.InstanceId, second.InstanceId);
        var state = await h.Client.GetInstanceAsync(h.Id, getInputsAndOutputs: true);
        Assert.Equal("LSSTCam-sim", state!.ReadInputAs<CampaignInput>()!.Instrument); // the second start changed nothing
    }

    [Theory]
    [InlineData("", "LSSTCam", "step1", "not a valid run name")]
    [InlineData("a/b", "LSSTCam", "step1", "not a valid run name")]
    [InlineData("run", " ", "step1", "instrument is required")]
    [InlineData("run", "LSSTCam", "step9", "has no step 'step9'")]
    [InlineData("run", "LSSTCam", "step3", "has no task classes yet")]
    [InlineData("run", "LSSTCam", "step1,step1", "named twice")]
    public async Task Start_BadInput_IsRefusedWithTheReasonAndStartsNothing(string run, string instrument, string steps, string reason)
    {
        await using var h = await StartAsync();

        var e = await Assert.ThrowsAsync<ArgumentException>(() => h.Operations.StartAsync(new CampaignInput(run, instrument, steps.Split(','))));

        Assert.Contains(reason, e.Message);
        await foreach (var instance in h.Client.GetAllInstancesAsync(new OrchestrationQuery()))
        {
            Assert.Fail($"started {instance.InstanceId}");
        }
    }

    [Fact]
    public async Task Start_NoSteps_RunsEveryStepWithTaskClasses()
    {
        await using var h = await StartAsync();

        await h.Operations.StartAsync(new CampaignInput(h.Run, "LSSTCam-sim", []));
        var done = await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        Assert.Equal(["step1", "step2", "step7"], done.ReadOutputAs<CampaignResult>()!.Steps.Select(s => s.Step));
    }

    [Fact]
    public async Task RescueStep_AfterTheCampaignStopped_RunsTheStepAgainWithTheCampaignsInputAndRefusesWhileActive()
    {
        await using var h = await StartAsync();
        await Assert.ThrowsAsync<CampaignNotFoundException>(() => h.Operations.RescueStepAsync(h.Run, "step1"));
        await h.Operations.StartAsync(Input(h.Run) with { Executor = Drp.Core.Planning.JobExecutor.Container, CalibCollection = "calib/v2" });
        await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        var rescue = await h.Operations.RescueStepAsync(h.Run, "step1");
        using var cts = new CancellationTokenSource(s_timeout);
        var done = await h.Client.WaitForInstanceCompletionAsync(rescue.InstanceId, getInputsAndOutputs: true, cts.Token);

        Assert.Equal(CampaignOperations.RescueInstanceIdFor(h.Run, "step1"), rescue.InstanceId);
        Assert.StartsWith(h.Id + ":", rescue.InstanceId); // in the campaign's family: terminate and purge reach it
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(new StepInput(h.Run, "LSSTCam-sim", "step1", "calib/v2", Executor: Drp.Core.Planning.JobExecutor.Container), done.ReadInputAs<StepInput>());
        var again = await h.Operations.RescueStepAsync(h.Run, "step1"); // a finished rescue is purged and run anew
        Assert.Equal(rescue.InstanceId, again.InstanceId);
        await Assert.ThrowsAsync<ArgumentException>(() => h.Operations.RescueStepAsync(h.Run, "step3"));
    }

    [Fact]
    public async Task RescueStep_WhileTheCampaignRuns_IsRefused()
    {
        await using var h = await StartAsync(hold: true);
        await h.Operations.StartAsync(Input(h.Run));
        await WaitForPhaseAsync(h, CampaignProgress.Running);

        var e = await Assert.ThrowsAsync<CampaignStateException>(() => h.Operations.RescueStepAsync(h.Run, "step1"));

        Assert.Contains("after the campaign stopped", e.Message);
    }

    [Fact]
    public async Task Approve_WaitingGate_CompletesTheCampaign()
    {
        await using var h = await StartAsync();
        await h.Operations.StartAsync(Input(h.Run, requireApproval: true));
        await WaitForPhaseAsync(h, CampaignProgress.WaitingForApproval);

        await h.Operations.ApproveAsync(h.Run, approved: true);
        var done = await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        Assert.True(done.ReadOutputAs<CampaignResult>()!.Completed);
        var status = await h.Operations.GetStatusAsync(h.Run);
        Assert.Equal(CampaignProgress.Completed, status!.Progress!.Phase);
        Assert.Equal("Completed", status.RuntimeStatus);
    }

    [Fact]
    public async Task Reject_WaitingGate_StopsWithTheOperatorsReason()
    {
        await using var h = await StartAsync();
        await h.Operations.StartAsync(Input(h.Run, requireApproval: true));
        await WaitForPhaseAsync(h, CampaignProgress.WaitingForApproval);

        await h.Operations.ApproveAsync(h.Run, approved: false, "PSF residuals look wrong");
        var done = await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.False(result.Completed);
        Assert.Equal("step1", result.StoppedAfter);
        Assert.Equal("rejected by the operator: PSF residuals look wrong", result.Reason);
        var status = await h.Operations.GetStatusAsync(h.Run);
        Assert.Equal(CampaignProgress.Stopped, status!.Progress!.Phase);
        Assert.Equal(result.Reason, status.Progress.Reason);
    }

    [Fact]
    public async Task Approve_CampaignRunningAStep_IsRefusedSayingItIsNotWaitingAndRaisesNothing()
    {
        await using var h = await StartAsync(hold: true);
        await h.Operations.StartAsync(Input(h.Run, requireApproval: true));
        await WaitForPhaseAsync(h, CampaignProgress.Running);

        var e = await Assert.ThrowsAsync<CampaignStateException>(() => h.Operations.ApproveAsync(h.Run, approved: true));

        Assert.Contains("not waiting for approval", e.Message);
        Assert.Contains("phase running at step1", e.Message);
        // The refused approval was not kept for later: once the step ends, the campaign still waits at its gate.
        await h.Client.RaiseEventAsync(CampaignOperations.StepInstanceIdFor(h.Run, "step1"), ReleaseEvent, true);
        await WaitForPhaseAsync(h, CampaignProgress.WaitingForApproval);
    }

    [Fact]
    public async Task Approve_NoCampaign_IsNotFound()
    {
        await using var h = await StartAsync();

        await Assert.ThrowsAsync<CampaignNotFoundException>(() => h.Operations.ApproveAsync(h.Run, approved: true));
    }

    [Fact]
    public async Task Terminate_RunningCampaign_TerminatesItAndItsRunningStep()
    {
        await using var h = await StartAsync(hold: true);
        await h.Operations.StartAsync(Input(h.Run));
        await WaitForPhaseAsync(h, CampaignProgress.Running);
        await WaitForStepAsync(h);

        int terminated = await h.Operations.TerminateAsync(h.Run, "wrong calibrations");
        await WaitAsync(h, OrchestrationRuntimeStatus.Terminated);

        Assert.Equal(2, terminated);
        using var cts = new CancellationTokenSource(s_timeout);
        var step = await h.Client.WaitForInstanceCompletionAsync(CampaignOperations.StepInstanceIdFor(h.Run, "step1"), cts.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, step.RuntimeStatus);
        var status = await h.Operations.GetStatusAsync(h.Run);
        Assert.Equal("Terminated", status!.RuntimeStatus);
        Assert.Contains("wrong calibrations", status.Failure);
        await Assert.ThrowsAsync<CampaignStateException>(() => h.Operations.TerminateAsync(h.Run, "again"));
    }

    [Fact]
    public async Task Purge_CompletedCampaign_RemovesItAndItsStepsAndAllowsANewStart()
    {
        await using var h = await StartAsync();
        await h.Operations.StartAsync(Input(h.Run));
        await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        int purged = await h.Operations.PurgeAsync(h.Run);

        Assert.Equal(2, purged);
        Assert.Null(await h.Client.GetInstanceAsync(h.Id));
        Assert.Null(await h.Client.GetInstanceAsync(CampaignOperations.StepInstanceIdFor(h.Run, "step1")));
        Assert.Null(await h.Operations.GetStatusAsync(h.Run));
        await Assert.ThrowsAsync<CampaignNotFoundException>(() => h.Operations.PurgeAsync(h.Run));
        Assert.True((await h.Operations.StartAsync(Input(h.Run))).Created);
    }

    [Fact]
    public async Task Purge_RunningCampaign_IsRefusedAndRemovesNothing()
    {
        await using var h = await StartAsync(hold: true);
        await h.Operations.StartAsync(Input(h.Run));
        await WaitForStepAsync(h);

        var e = await Assert.ThrowsAsync<CampaignStateException>(() => h.Operations.PurgeAsync(h.Run));

        Assert.Contains("terminate it first", e.Message);
        Assert.NotNull(await h.Client.GetInstanceAsync(h.Id));
        Assert.NotNull(await h.Client.GetInstanceAsync(CampaignOperations.StepInstanceIdFor(h.Run, "step1")));
    }

    [Fact]
    public async Task Purge_OtherRunWithALongerName_IsLeftAlone()
    {
        await using var h = await StartAsync();
        await h.Operations.StartAsync(Input(h.Run));
        await h.Operations.StartAsync(Input(h.Run + "b"));
        await WaitAsync(h, OrchestrationRuntimeStatus.Completed);
        using (var cts = new CancellationTokenSource(s_timeout))
        {
            await h.Client.WaitForInstanceCompletionAsync(CampaignOrchestrator.InstanceIdFor(h.Run + "b"), cts.Token);
        }

        await h.Operations.PurgeAsync(h.Run);

        Assert.NotNull(await h.Client.GetInstanceAsync(CampaignOrchestrator.InstanceIdFor(h.Run + "b")));
    }

    [Fact]
    public async Task Status_WaitingCampaign_ShowsPhaseStepReasonAndLedgerCountsPerStepAndState()
    {
        await using var h = await StartAsync();
        await Record(h, "step1|visit=1|detector=0", QuantumState.Succeeded, 1);
        await Record(h, "step1|visit=1|detector=1", QuantumState.Succeeded, 2);
        await Record(h, "step1|visit=1|detector=2", QuantumState.Failed, 3, "DatasetUnavailable");
        await Record(h, "step1|visit=1|detector=3", QuantumState.Unprocessable, 1, "TooFewStars");
        await h.Operations.StartAsync(Input(h.Run, requireApproval: true));
        await WaitForPhaseAsync(h, CampaignProgress.WaitingForApproval);

        var status = await h.Operations.GetStatusAsync(h.Run);

        Assert.Equal("Running", status!.RuntimeStatus);
        Assert.Equal("step1", status.Progress!.Step);
        Assert.Contains("98 succeeded, 2 failed", status.Progress.Reason);
        Assert.Equal(["step1"], status.Steps);
        Assert.Equal([new StepQuantumCounts("step1", 4, 0, 2, 1, 1, 2)], status.Quanta);
        var failures = await h.Operations.GetFailuresAsync(h.Run);
        Assert.Equal(2, failures.FailedOrUnprocessable);
        Assert.Equal(["DatasetUnavailable", "TooFewStars"], failures.Classes.Select(c => c.ErrorClass).Order());
        Assert.Equal("step1|visit=1|detector=2", failures.Classes.Single(c => c.State == "Failed").Examples.Single().QuantumKey);
    }

    [Fact]
    public async Task Status_LedgerTableNotYetCreated_ShowsTheCampaignWithNoQuanta()
    {
        await using var h = await StartAsync();
        await h.Ledger.Table.DeleteAsync();
        await h.Operations.StartAsync(Input(h.Run));
        await WaitAsync(h, OrchestrationRuntimeStatus.Completed);

        var status = await h.Operations.GetStatusAsync(h.Run);
        var failures = await h.Operations.GetFailuresAsync(h.Run);

        Assert.Equal("Completed", status!.RuntimeStatus);
        Assert.Empty(status.Quanta);
        Assert.Equal(0, failures.Quanta);
    }

    [Fact]
    public async Task Status_UnknownRun_IsNull()
    {
        await using var h = await StartAsync();

        Assert.Null(await h.Operations.GetStatusAsync(h.Run));
    }

    private static Task Record(Harness h, string key, QuantumState state, int attempts, string? errorClass = null) =>
        h.Ledger.CompleteAsync(new QuantumRecord(h.Run, key, state, attempts, errorClass, errorClass is null ? null : $"{errorClass} happened", 10, 0, null));

    private static async Task WaitForStepAsync(Harness h)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        while ((await h.Client.GetInstanceAsync(CampaignOperations.StepInstanceIdFor(h.Run, "step1"), cts.Token))?.RuntimeStatus != OrchestrationRuntimeStatus.Running)
        {
            await Task.Delay(50, cts.Token);
        }
    }

    private static async Task WaitForPhaseAsync(Harness h, string phase)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        while ((await h.Client.GetInstanceAsync(h.Id, getInputsAndOutputs: true, cts.Token))?.ReadCustomStatusAs<CampaignProgress>()?.Phase != phase)
        {
            await Task.Delay(50, cts.Token);
        }
    }

    private static async Task<OrchestrationMetadata> WaitAsync(Harness h, OrchestrationRuntimeStatus expected)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var state = await h.Client.WaitForInstanceCompletionAsync(h.Id, getInputsAndOutputs: true, cts.Token);
        Assert.True(state.RuntimeStatus == expected, $"{state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
        return state;
    }
}
