using Drp.Workflows;
using Drp.Core.Planning;

namespace Drp.Jobs.Tests;

public sealed class JobMessagesTests
{
    private static async Task<PlannedJob> FirstJobAsync(string step)
    {
        var planner = new QuantumPlanner(PipelineDefinitionLoader.LoadDefault());
        var reader = new SyntheticSurveyReader(new SyntheticSurvey("LSSTCam", 3, 10, 4, 1, 2, ["r"], 2));
        await foreach (var job in planner.PlanAsync(step, "LSSTCam", reader))
        {
            return job;
        }
        throw new InvalidOperationException("no job planned");
    }

    [Fact]
    public async Task For_PlannedStep1Job_CarriesItsDetectorsAndThePipelinesHeartbeatSettings()
    {
        var planned = await FirstJobAsync("step1");
        var step = PipelineDefinitionLoader.LoadDefault().Step("step1");

        var (memory, job) = JobMessages.For(new JobInput("run-x", "LSSTCam", "calib/v1", "step1", "plan.json"), planned);

        Assert.Equal(planned.JobId, job.JobId);
        Assert.Equal(step.Tasks.Min(t => t.Execution.HeartbeatInterval), job.HeartbeatInterval);
        Assert.Equal(step.Tasks.Max(t => t.Execution.HeartbeatTimeout), job.HeartbeatTimeout);
        Assert.Equal(step.Tasks.Max(t => t.Execution.Memory), memory);
        Assert.Equal(planned.Quanta.Select(q => q.DataId.Detector!.Value).Distinct().Order(), job.Quanta.Select(q => q.Detector));
        Assert.All(job.Quanta, q => Assert.Equal(("run-x", "calib/v1", planned.Cluster.Visit!.Value), (q.Run, q.CalibCollection, q.Visit)));
    }

    [Fact]
    public async Task For_StepWithoutAnExecutor_IsATypedError()
    {
        var planned = await FirstJobAsync("step2");

        var e = Assert.Throws<NotSupportedException>(() => JobMessages.For(new JobInput("r", "LSSTCam", "c", "step2", "p"), planned));

        Assert.Contains("no executor", e.Message);
    }

    [Fact]
    public void Parse_JobRoundTripsThroughJson()
    {
        var job = TestJobs.Job("run-y", "j", 1, 2) with { HeartbeatInterval = TimeSpan.FromSeconds(75) };

        var parsed = JobMessages.Parse(JobMessages.Serialize(job));

        Assert.Equal((job.JobId, job.HeartbeatInterval, job.HeartbeatTimeout, "run-y"), (parsed.JobId, parsed.HeartbeatInterval, parsed.HeartbeatTimeout, parsed.Run));
        Assert.Equal(job.Quanta, parsed.Quanta);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{}")]
    [InlineData("{\"jobId\":\"j\",\"quanta\":[]}")]
    [InlineData("null")]
    public void Parse_NotAJob_IsAJobMessageFormatException(string body)
    {
        Assert.Throws<JobMessageFormatException>(() => JobMessages.Parse(BinaryData.FromString(body)));
    }
}
