using Drp.Workflows;

namespace Drp.Cli.Tests;

/// <summary>
/// <c>drp bench step</c>: a synthetic step planned by the real planner and run through the real step / chunk / job
/// orchestrations with stand-in activities; the bench fails unless the fan-in accounts for every job exactly once.
/// </summary>
public sealed class StepBenchTests
{
    [Fact]
    public async Task PlanAsync_TwoThousandJobsInChunksOfThreeHundred_SevenChunksAndOnePlanBlobPerJob()
    {
        var plan = await StepBench.PlanAsync(jobs: 2_000, maxJobsPerChunk: 300);

        Assert.Equal([300, 300, 300, 300, 300, 300, 200], plan.Plan.Chunks.Select(c => c.Jobs));
        Assert.Equal(2_000, plan.Blobs.Count);
        Assert.Equal(2_000, plan.Plan.Quanta); // one fused processFrame quantum: one detector per job
    }

    [Fact]
    public async Task CheckSummary_OneUnitMissingFromTheFanIn_ReportsTheMismatch()
    {
        var plan = await StepBench.PlanAsync(jobs: 10, maxJobsPerChunk: 4);
        var complete = new StepSummary(StepBench.Run, StepBench.Step, 3, 10, 0, new OutcomeCounts(10, 10, 10, 0, 0, 0), []);

        Assert.Null(StepBench.CheckSummary(plan, complete));
        Assert.Contains("does not match the plan", StepBench.CheckSummary(plan, complete with { Counts = new OutcomeCounts(10, 9, 9, 0, 0, 0) }));
        Assert.NotNull(StepBench.CheckSummary(plan, complete with { FailedJobs = 1 }));
    }

    [Fact]
    public async Task BenchStep_TwoThousandJobsInChunksOfThreeHundred_CompletesThroughSevenChunksWithExactCounts()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("bench", "step", "--jobs", "2000", "--max-jobs-per-chunk", "300");

        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("planned 2,000 jobs, 2,000 quanta, 7 chunks (largest 300)", stdout);
        Assert.Contains("1 worker(s): 2,000 jobs, 7 chunks, 2,000 detector units succeeded 2,000, failed jobs 0", stdout);
        Assert.Contains("activities run per worker: 4000;", stdout); // LoadJob and RunQuantum once per job
    }

    [Fact]
    public async Task BenchStep_InProcessWithTwoWorkers_IsRejected()
    {
        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("bench", "step", "--workers", "2");

        Assert.Equal(2, exit);
        Assert.Contains("the in-process engine has one worker", stderr);
    }
}
