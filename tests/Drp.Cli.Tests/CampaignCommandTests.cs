using Drp.Workflows;
using Drp.Workflows.Operations;

namespace Drp.Cli.Tests;

/// <summary>
/// The campaign commands' argument checks (they exit 2 naming the problem before any storage is opened: no Azurite and
/// no connection string here), and the status view's progress bars.
/// </summary>
public sealed class CampaignCommandTests
{
    private static readonly Dictionary<string, string> s_noStorage = new() { ["Drp__Storage__ConnectionString"] = "" };

    [Theory]
    [InlineData("has no step 'step9'", "campaign", "start", "--run", "r1", "--steps", "step1,step9")]
    [InlineData("has no task classes yet", "campaign", "start", "--run", "r1", "--steps", "step3")]
    [InlineData("maxFailedFraction must be between 0 and 1", "campaign", "start", "--run", "r1", "--max-failed-fraction", "1.5")]
    [InlineData("not a valid run name", "campaign", "start", "--run", "a/b")]
    [InlineData("--reason is required with --reject", "approve", "--run", "r1", "--reject")]
    [InlineData("--reason is required", "terminate", "--run", "r1")]
    [InlineData("not a valid run name", "purge", "--run", "../x")]
    [InlineData("--interval must be between", "status", "--run", "r1", "--watch", "--interval", "0")]
    public async Task CampaignCommand_BadArguments_ExitsUsageNamingTheProblem(string message, params string[] args)
    {
        // --out points at a folder with no Azurite data: reaching storage would fail differently ("no storage").
        string empty = Path.Combine(Path.GetTempPath(), "drp-nostorage-" + Guid.NewGuid().ToString("N"));
        var (exit, _, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(s_noStorage, [.. args, "--out", empty]);

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("no storage", stderr);
    }

    [Fact]
    public async Task Approve_GoodArgumentsButNoStorage_ReachesTheStorageCheck()
    {
        string empty = Path.Combine(Path.GetTempPath(), "drp-nostorage-" + Guid.NewGuid().ToString("N"));
        var (exit, _, stderr) = await DrpProcess.RunDrpWithEnvironmentAsync(s_noStorage, "approve", "--run", "r1", "--out", empty);

        Assert.Equal(2, exit);
        Assert.Contains("no storage", stderr);
    }

    [Theory]
    [InlineData(0, 20, 10, "[----------]  0/20  0%")]
    [InlineData(9, 20, 10, "[####------]  9/20  45%")]
    [InlineData(20, 20, 10, "[##########]  20/20  100%")]
    [InlineData(0, 0, 4, "[----]  0/0")]
    public void ProgressBar_FillsInProportionToDone(long done, long total, int width, string expected)
    {
        Assert.Equal(expected, CampaignView.ProgressBar(done, total, width));
    }

    [Fact]
    public void Render_RunningCampaign_ShowsPhaseStepJobBarAndLedgerCounts()
    {
        var status = new CampaignStatus("r1", "campaign-r1", "Running", ["step1"],
            new CampaignProgress(CampaignProgress.Running, "step1", 0, 1, null),
            new ChunkedStepProgress(2, 1, 40, 10, 3, 1), null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch,
            [new StepQuantumCounts("step1", 12, 2, 7, 1, 2, 3)]);

        var text = string.Join('\n', CampaignView.Render(status));

        Assert.Contains("phase running at step1", text);
        Assert.Contains("step1 jobs   [#######-----------------------]  10/40  25%", text);
        Assert.Contains("(3 failed, 1 unprocessable so far)", text);
        Assert.Contains("run r1: 12 quanta in the ledger", text);
        Assert.Matches(@"step1\s+12\s+2\s+7\s+1\s+2\s+3", text);
    }

    [Fact]
    public void Render_WaitingCampaign_SaysHowToApprove()
    {
        var status = new CampaignStatus("r1", "campaign-r1", "Running", ["step1"],
            new CampaignProgress(CampaignProgress.WaitingForApproval, "step1", 1, 1, "step1: 98 succeeded"),
            null, null, null, null, []);

        var text = string.Join('\n', CampaignView.Render(status));

        Assert.Contains("reason: step1: 98 succeeded", text);
        Assert.Contains("drp approve --run r1", text);
    }
}
