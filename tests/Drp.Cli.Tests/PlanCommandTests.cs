namespace Drp.Cli.Tests;

/// <summary><c>drp plan</c> plans DP0.2's scale from pipelines/drp.yaml and counts quanta per unit of execution.</summary>
public sealed class PlanCommandTests
{
    [Fact]
    public async Task Plan_Dp02Steps127_CountsEveryUnitsQuantaAndJobs()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("plan", "--simulate-survey", "dp02", "--steps", "step1,step2,step7");

        Assert.True(exit == 0, stdout + stderr);
        // 19,852 visits x 150 detectors: one fused processFrame quantum per (visit, detector), one job per visit.
        Assert.Contains("step1: 2,977,800 quanta, 19,852 jobs (cluster instrument, visit; largest 150 quanta)", stdout);
        Assert.Contains("quanta per unit (task or fused group): processFrame 2,977,800", stdout);
        Assert.Contains("step2: 39,704 quanta, 19,852 jobs", stdout);
        Assert.Contains("quanta per unit (task or fused group): consolidateSourceTable 19,852, consolidateVisitSummary 19,852", stdout);
        Assert.Contains("step7: 2 quanta, 1 jobs", stdout);
    }
}
