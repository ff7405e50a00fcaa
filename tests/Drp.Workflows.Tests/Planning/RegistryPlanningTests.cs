using Drp.Local;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.Workflows.Activities;
using Drp.Core.Planning;
using Drp.Workflows.Planning;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests.Planning;

/// <summary>The planner from the Registry table, and plan blobs written and read back, against Azurite (own table and container per test).</summary>
public sealed class RegistryPlanningTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private async Task<StorageClients> StorageAsync()
    {
        string suffix = Guid.NewGuid().ToString("N")[..10];
        var storage = new StorageClients(new DrpStorageOptions
        {
            ConnectionString = fixture.Azurite.ConnectionString,
            RegistryTable = "Reg" + suffix,
            DataContainer = "data-" + suffix,
        });
        await storage.Registry.CreateIfNotExistsAsync();
        await storage.DataContainer.CreateIfNotExistsAsync();
        return storage;
    }

    private static async Task RegisterAsync(StorageClients storage, params (long Visit, int Detector, string Band)[] raws)
    {
        var registry = new RegistryTable(storage.Registry);
        foreach (var (v, d, b) in raws)
        {
            await registry.RegisterAsync(new RawRecord("TestCam", v, d, b, 30, 60000, "raw", $"raw_{v}_{d}.fits", null));
        }
        await registry.RegisterAsync(new RawRecord("OtherCam", 1, 1, "g", 30, 60000, "raw", "other.fits", null)); // another instrument: not planned
    }

    [Fact]
    public async Task RegistryReader_Step1Query_StreamsRawsInVisitDetectorOrderWithTheirBand()
    {
        var storage = await StorageAsync();
        await RegisterAsync(storage, (12, 1, "g"), (11, 2, "r"), (11, 0, "r"), (12, 0, "g"));
        var reader = new RegistryDataIdReader(storage.Registry);

        var ids = new List<string>();
        await foreach (var id in reader.ReadAsync(new PlanningQuery("TestCam", ["instrument", "visit", "detector"], ["instrument", "visit"], [])))
        {
            ids.Add(id.ToString());
        }

        Assert.Equal(
            ["instrument=TestCam/visit=11/detector=0/band=r", "instrument=TestCam/visit=11/detector=2/band=r",
             "instrument=TestCam/visit=12/detector=0/band=g", "instrument=TestCam/visit=12/detector=1/band=g"],
            ids);
    }

    [Fact]
    public async Task RegistryReader_TractQuery_IsRefusedWithTheReason()
    {
        var storage = await StorageAsync();
        var reader = new RegistryDataIdReader(storage.Registry);

        var e = await Assert.ThrowsAsync<NotSupportedException>(async () =>
        {
            await foreach (var _ in reader.ReadAsync(new PlanningQuery("TestCam", ["instrument", "tract", "patch"], ["instrument", "tract", "patch"], [])))
            {
            }
        });

        Assert.Contains("not sky-map overlaps", e.Message);
    }

    [Fact]
    public async Task PlanStepActivity_ThreeVisits_WritesPlanBlobsThatLoadJobActivityReadsBack()
    {
        var storage = await StorageAsync();
        await RegisterAsync(storage, (11, 0, "r"), (11, 1, "r"), (12, 0, "g"), (13, 0, "i"), (13, 2, "i"));

        var plan = await new PlanStepActivity(storage, Drp.Execution.ExecutionServices.DefaultRegistry, NullLogger<PlanStepActivity>.Instance)
            .ExecuteAsync(new StepInput("run", "TestCam", "step1", MaxJobsPerChunk: 2));
        var jobs = new List<JobWork>();
        foreach (var chunk in plan.Chunks)
        {
            for (int j = 0; j < chunk.Jobs; j++)
            {
                jobs.Add(await new LoadJobActivity(storage).ExecuteAsync(new JobInput("run", "TestCam", "calib", "step1", StepPlanWriter.JobPath(chunk, j))));
            }
        }

        Assert.Equal([2, 1], plan.Chunks.Select(c => c.Jobs));
        Assert.Equal(5, plan.Quanta); // one fused processFrame quantum per (visit, detector)
        Assert.Equal([11L, 12L, 13L], jobs.Select(j => j.Quanta[0].DataId.Visit!.Value));
        Assert.Equal(["r", "g", "i"], jobs.Select(j => j.Quanta[0].DataId.Band));
        Assert.Equal([0, 2], jobs[2].Quanta.Select(q => q.DataId.Detector!.Value));
        Assert.Equal("step1/instrument=TestCam/visit=13/band=i", jobs[2].JobId);
    }
}
