using System.Runtime.CompilerServices;
using Drp.Core.Datasets;
using Drp.Core.Planning;

namespace Drp.Workflows.Tests.Planning;

/// <summary>The planner against small known inputs: counts, clustering, order, chunking, and that it streams.</summary>
public sealed class QuantumPlannerTests
{
    private static readonly PipelineDefinition s_mini = PipelineDefinitionLoader.Parse(PipelineDefinitionLoaderTests.Valid, "mini.yaml");
    private static readonly PipelineDefinition s_drp = PipelineDefinitionLoader.Load(PipelineDefinitionLoaderTests.RepositoryPipelinePath);

    /// <summary>A known registry: visit 10 (r) has detectors 0, 1, 2; visit 11 (g) has detectors 1, 2.</summary>
    private static ListReader KnownRegistry() => new(
    [
        new("TestCam", 10, 0, Band: "r"), new("TestCam", 10, 1, Band: "r"), new("TestCam", 10, 2, Band: "r"),
        new("TestCam", 11, 1, Band: "g"), new("TestCam", 11, 2, Band: "g"),
    ]);

    [Fact]
    public async Task PlanAsync_Step1OfKnownRegistry_OneJobPerVisitWithEachTaskPerDetector()
    {
        var jobs = await ToListAsync(new QuantumPlanner(s_mini).PlanAsync("step1", "TestCam", KnownRegistry()));

        Assert.Equal(["step1/instrument=TestCam/visit=10/band=r", "step1/instrument=TestCam/visit=11/band=g"], jobs.Select(j => j.JobId));
        Assert.Equal([6, 4], jobs.Select(j => j.Quanta.Count)); // 2 tasks x detectors
        Assert.Equal(
            ["isr@instrument=TestCam/visit=10/detector=0/band=r", "isr@instrument=TestCam/visit=10/detector=1/band=r", "isr@instrument=TestCam/visit=10/detector=2/band=r",
             "calibrate@instrument=TestCam/visit=10/detector=0/band=r", "calibrate@instrument=TestCam/visit=10/detector=1/band=r", "calibrate@instrument=TestCam/visit=10/detector=2/band=r"],
            jobs[0].Quanta.Select(q => $"{q.Task}@{q.DataId}"));
        // the job asks for the largest memory class, the shortest interval and the longest timeout of its tasks
        Assert.Equal(MemoryClass.Highmem, jobs[0].Memory);
        Assert.Equal(TimeSpan.FromSeconds(30), jobs[0].HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMinutes(90), jobs[0].HeartbeatTimeout);
        Assert.Equal(JobExecutor.Activity, jobs[0].Executor); // no task asks for a container
    }

    [Fact]
    public async Task PlanAsync_Step2OfKnownRegistry_AsksForVisitsAndPlansOneQuantumPerVisit()
    {
        var reader = KnownRegistry();

        var jobs = await ToListAsync(new QuantumPlanner(s_mini).PlanAsync("step2", "TestCam", reader));

        Assert.Equal(["instrument", "visit"], reader.LastQuery!.Dimensions);
        Assert.Equal(["calexp"], reader.LastQuery.Inputs.Select(t => t.Name)); // produced by step 1: the step's external input
        Assert.Equal(["consolidate@instrument=TestCam/visit=10/band=r", "consolidate@instrument=TestCam/visit=11/band=g"], jobs.SelectMany(j => j.Quanta).Select(q => $"{q.Task}@{q.DataId}"));
    }

    [Fact]
    public async Task PlanAsync_IdsShuffledWithinClusters_GivesTheSameJobsInTheSameOrder()
    {
        var sorted = await ToListAsync(new QuantumPlanner(s_mini).PlanAsync("step1", "TestCam", KnownRegistry()));
        var shuffled = new ListReader(
        [
            new("TestCam", 10, 2, Band: "r"), new("TestCam", 10, 0, Band: "r"), new("TestCam", 10, 1, Band: "r"),
            new("TestCam", 11, 2, Band: "g"), new("TestCam", 11, 1, Band: "g"),
        ]);

        var again = await ToListAsync(new QuantumPlanner(s_mini).PlanAsync("step1", "TestCam", shuffled));

        Assert.Equal(Describe(sorted), Describe(again));
    }

    [Fact]
    public async Task PlanAsync_ClustersOutOfOrder_Throws()
    {
        var reader = new ListReader([new("TestCam", 11, 0, Band: "g"), new("TestCam", 10, 0, Band: "r")]);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ToListAsync(new QuantumPlanner(s_mini).PlanAsync("step1", "TestCam", reader)));

        Assert.Contains("cluster instrument=TestCam/visit=10/band=r after instrument=TestCam/visit=11/band=g", e.Message);
    }

    [Fact]
    public async Task PlanAsync_FirstJob_ReadsOnlyThatClusterAndOneIdBeyond()
    {
        var reader = new SyntheticSurveyReader(SmallSurvey);
        var counting = new CountingReader(reader);

        await using var jobs = new QuantumPlanner(s_drp).PlanAsync("step1", "LSSTCam", counting).GetAsyncEnumerator();
        Assert.True(await jobs.MoveNextAsync());

        Assert.Equal(SmallSurvey.DetectorsPerVisit, jobs.Current.Quanta.Count); // one fused processFrame quantum per detector
        Assert.Equal(SmallSurvey.DetectorsPerVisit + 1, counting.Read); // the second visit's first id closes the first cluster
    }

    [Fact]
    public async Task PlanAsync_Step3OfSyntheticSurvey_OneJobPerPatchWithWarpsCoaddsAndMerges()
    {
        var survey = SmallSurvey;

        var jobs = await ToListAsync(new QuantumPlanner(s_drp).PlanAsync("step3", "LSSTCam", new SyntheticSurveyReader(survey)));

        Assert.Equal(survey.Tracts * survey.PatchesPerTract, jobs.Count);
        var job = jobs[0];
        Assert.Equal("step3/instrument=LSSTCam/tract=2723/patch=0", job.JobId);
        int bands = survey.Bands.Count;
        Assert.Equal(bands * survey.VisitsPerPatchBand, job.Quanta.Count(q => q.Task == "makeWarp"));
        // per-band tasks: assembleCoadd, detection, measure, forcedPhotCoadd; per-patch: mergeDetections, deblend, mergeMeasurements, writeObjectTable
        Assert.Equal(bands, job.Quanta.Count(q => q.Task == "assembleCoadd"));
        Assert.Equal(1, job.Quanta.Count(q => q.Task == "deblend"));
        Assert.Equal(bands * survey.VisitsPerPatchBand + 4 * bands + 4, job.Quanta.Count);
        Assert.Equal(MemoryClass.Highmem, job.Memory); // the largest of step 3's task classes
        Assert.Equal(JobExecutor.Container, job.Executor); // deblend and friends ask for a container: the whole job runs in one
        Assert.Equal(
            s_drp.Step("step3").Tasks.Select(t => t.Name),
            job.Quanta.Select(q => q.Task).Distinct()); // quanta in task order
        Assert.Equal(jobs.Select(j => j.JobId).Order(StringComparer.Ordinal).Count(), jobs.Select(j => j.JobId).Distinct().Count());
    }

    [Fact]
    public async Task SyntheticSurvey_Step1_HasTheStatedDetectorsPerVisit()
    {
        var survey = SmallSurvey;
        var reader = new SyntheticSurveyReader(survey);

        var jobs = await ToListAsync(new QuantumPlanner(s_drp).PlanAsync("step1", "LSSTCam", reader));

        Assert.Equal(survey.Visits, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(survey.DetectorsPerVisit, j.Quanta.Count)); // one fused processFrame quantum per detector
        Assert.All(jobs, j => Assert.All(j.Quanta, q => Assert.InRange(q.DataId.Detector!.Value, 0, survey.Detectors - 1)));
        Assert.NotEqual( // windows differ between visits
            jobs[0].Quanta.Select(q => q.DataId.Detector),
            jobs[1].Quanta.Select(q => q.DataId.Detector));
    }

    [Theory]
    [InlineData(25, 10, new[] { 10, 10, 5 })]
    [InlineData(20, 10, new[] { 10, 10 })]
    [InlineData(3, 10, new[] { 3 })]
    [InlineData(0, 10, new int[0])]
    public async Task ChunkAsync_Jobs_ChunksOfAtMostMaxJobsInOrder(int jobCount, int max, int[] sizes)
    {
        async IAsyncEnumerable<PlannedJob> Jobs()
        {
            for (int i = 0; i < jobCount; i++)
            {
                await Task.Yield();
                yield return new PlannedJob("s", $"s/{i}", new DataId("TestCam", i), [], MemoryClass.Standard, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
            }
        }

        var chunks = await ToListAsync(QuantumPlanner.ChunkAsync(Jobs(), max));

        Assert.Equal(sizes, chunks.Select(c => c.Jobs.Count));
        Assert.Equal(Enumerable.Range(0, sizes.Length), chunks.Select(c => c.Index));
        Assert.Equal(Enumerable.Range(0, jobCount).Select(i => $"s/{i}"), chunks.SelectMany(c => c.Jobs).Select(j => j.JobId));
    }

    [Fact]
    public async Task ChunkAsync_FirstChunk_ReadsNoMoreJobsThanItHolds()
    {
        int pulled = 0;
        async IAsyncEnumerable<PlannedJob> Jobs()
        {
            for (int i = 0; i < 1000; i++)
            {
                await Task.Yield();
                pulled++;
                yield return new PlannedJob("s", $"s/{i}", new DataId("TestCam", i), [], MemoryClass.Standard, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
            }
        }

        await using var chunks = QuantumPlanner.ChunkAsync(Jobs(), 10).GetAsyncEnumerator();
        Assert.True(await chunks.MoveNextAsync());

        Assert.Equal(10, chunks.Current.Jobs.Count);
        Assert.Equal(10, pulled);
    }

    private static SyntheticSurvey SmallSurvey { get; } = new("LSSTCam", Visits: 24, Detectors: 9, DetectorsPerVisit: 7, Tracts: 2, PatchesPerTract: 4, Bands: ["g", "r", "i"], VisitsPerPatchBand: 3);

    private static IEnumerable<string> Describe(List<PlannedJob> jobs) =>
        jobs.Select(j => $"{j.JobId}:{string.Join(";", j.Quanta.Select(q => $"{q.Task}@{q.DataId}"))}");

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }
        return list;
    }

    /// <summary>A registry held in a list, in the order given; remembers the last query.</summary>
    private sealed class ListReader(IReadOnlyList<DataId> ids) : IDataIdReader
    {
        public PlanningQuery? LastQuery { get; private set; }

        public async IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            LastQuery = query;
            DataId? last = null;
            foreach (var id in ids)
            {
                await Task.Yield();
                var p = DataIdComparer.Project(id, query.Dimensions);
                if (p != last)
                {
                    last = p;
                    yield return p;
                }
            }
        }
    }

    /// <summary>Counts the ids the planner has pulled so far.</summary>
    private sealed class CountingReader(IDataIdReader inner) : IDataIdReader
    {
        public int Read { get; private set; }

        public async IAsyncEnumerable<DataId> ReadAsync(PlanningQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var id in inner.ReadAsync(query, cancellationToken))
            {
                Read++;
                yield return id;
            }
        }
    }
}
