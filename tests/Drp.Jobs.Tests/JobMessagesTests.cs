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

        var (memory, job) = JobMessages.For("run-x", "LSSTCam", "calib/v1", planned);

        Assert.Equal(planned.JobId, job.JobId);
        Assert.Equal(step.Tasks.Min(t => t.Execution.HeartbeatInterval), job.HeartbeatInterval);
        Assert.Equal(step.Tasks.Max(t => t.Execution.HeartbeatTimeout), job.HeartbeatTimeout);
        Assert.Equal(step.Tasks.Max(t => t.Execution.Memory), memory);
        Assert.Equal(planned.Quanta.Select(q => q.DataId.Detector!.Value).Distinct().Order(), job.Quanta.Select(q => q.Detector()));
        Assert.All(job.Quanta, q => Assert.Equal(("processFrame", planned.Cluster.Visit!.Value), (q.Task, q.DataId.Visit!.Value)));
        Assert.Equal(("run-x", "LSSTCam", "calib/v1", "step1"), (job.Run, job.Instrument, job.CalibCollection, job.Step));
    }

    [Fact]
    public async Task For_PlannedStep2Job_CarriesTheVisitsQuantaOfBothTasks()
    {
        var planned = await FirstJobAsync("step2");

        var (_, job) = JobMessages.For("r", "LSSTCam", "c", planned);

        Assert.Equal(["consolidateSourceTable", "consolidateVisitSummary"], job.Quanta.Select(q => q.Task));
        Assert.All(job.Quanta, q => Assert.Equal((planned.Cluster.Visit, (int?)null), (q.DataId.Visit, q.DataId.Detector)));
        Assert.Equal(job.Quanta.Select(q => q.Key), JobMessages.Parse(JobMessages.Serialize(job)).Quanta.Select(q => q.Key));
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
