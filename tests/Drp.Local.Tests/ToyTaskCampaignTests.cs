using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Core.Tasks;
using Drp.Pipeline.Fits;
using Drp.Storage;
using Drp.Storage.Datasets;
using Drp.Storage.Registry;
using Drp.Workflows;
using Drp.Workflows.Operations;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Drp.Local.Tests;

/// <summary>The toy task's config: how much to scale the count by, and a label written into the output.</summary>
public sealed record CountHdusConfig
{
    public int Scale { get; init; } = 1;

    public string Label { get; init; } = "none";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CountHdusConfig))]
public sealed partial class ToyTaskJson : JsonSerializerContext;

/// <summary>A task that exists only in this test project: counts a raw's HDUs into a header-only FITS.</summary>
public sealed class CountHdusTask : PipelineTask<CountHdusConfig>
{
    public override string Name => "countHdus";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("raw", DatasetType.Raw)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("counted", DatasetType.PostIsrExposure)];

    public override JsonTypeInfo<CountHdusConfig> Config => ToyTaskJson.Default.CountHdusConfig;

    public override TaskResult Run(DataId dataId, TaskInputs inputs, CountHdusConfig config)
    {
        var raw = inputs.Single<Drp.Pipeline.SingleFrame.RawFrame>("raw");
        var header = new FitsHeader().Set("NHDU", (long)(raw.Hdus.Count * config.Scale)).Set("LABEL", config.Label);
        return Produced(("counted", dataId, (IReadOnlyList<FitsImage>)[FitsImage.HeaderOnly(header)]));
    }
}

/// <summary>
/// A task added in a test project alone (a class above and a YAML entry below) runs through a real campaign on the
/// persistent local engine: the registry finds the class, the loader binds its config, the planner, the job
/// orchestration and the quantum runner take it with nothing else changed.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ToyTaskCampaignTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-toy-").FullName;

    private const string Pipeline = """
        name: toy
        inputs: [raw]
        steps:
          - name: toyStep
            cluster: [instrument, visit]
            maxJobsPerChunk: 10
            tasks:
              - name: countHdus
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: raw, datasetType: raw, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: counted, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                config:
                  scale: 3
                  label: toy
                execution: { memory: standard, heartbeatInterval: 1m, heartbeatTimeout: 10m }
        """;

    [Fact]
    public async Task Campaign_ToyTaskOfThisTestProject_RunsEveryQuantumThroughTheRunnerWithItsConfig()
    {
        var (storage, suffix) = await azurite.Azurite.NewIsolatedStorageAsync();
        string instrument = "ToyCam" + suffix, run = "toy" + suffix;
        string pipelineFile = Path.Combine(_dir, "toy.yaml");
        await File.WriteAllTextAsync(pipelineFile, Pipeline);
        var registry = new RegistryTable(storage.Registry);
        foreach (var (visit, detector) in new[] { (1L, 0), (1L, 1), (2L, 0) })
        {
            using var fits = new MemoryStream();
            FitsFile.Write(fits, [FitsImage.HeaderOnly(new FitsHeader()), new FitsImage(4, 4), new FitsImage(4, 4)]);
            string blob = $"{instrument}/raw_{visit}_{detector}.fits";
            await storage.RawContainer.UploadBlobAsync(blob, new BinaryData(fits.ToArray()));
            await registry.RegisterAsync(new RawRecord(instrument, visit, detector, "r", 30, 60000, storage.Options.RawContainer, blob, null));
        }
        var settings = new Dictionary<string, string?>
        {
            ["Drp:Processing:PipelineFile"] = pipelineFile,
        };
        foreach (var (key, value) in StorageSettings(storage.Options))
        {
            settings[key] = value;
        }
        using var host = LocalPlatform.BuildHost(azurite.ConnectionString, EngineHost.UniqueTaskHub("toy"), settings: settings);
        await host.StartAsync();
        var tasks = host.Services.GetRequiredService<TaskRegistry>();
        var ops = new CampaignOperations(host.Services.GetRequiredService<DurableTaskClient>(), storage, tasks);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var started = await ops.StartAsync(new CampaignInput(run, instrument, []), timeout.Token);
        var done = await host.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(started.InstanceId, getInputsAndOutputs: true, timeout.Token);

        var result = done.ReadOutputAs<CampaignResult>()!;
        Assert.True(result.Completed, result.Reason);
        Assert.Equal(["toyStep"], result.Steps.Select(s => s.Step)); // the only step this pipeline has
        Assert.Equal(new OutcomeCounts(3, 3, 3, 0, 0, 0), result.Steps[0].Counts);
        var bound = tasks.Bind("toyStep", "countHdus");
        Assert.IsType<CountHdusTask>(bound.Task);
        var ledger = await new QuantumLedger(storage.Ledger).ListAsync(run);
        Assert.Equal(3, ledger.Count);
        Assert.All(ledger, r => Assert.Equal(new Drp.Core.Provenance.QuantumProvenance("toyStep", "countHdus", bound.ConfigHash), r.Provenance));
        foreach (var r in ledger)
        {
            Assert.True(PlannedQuantum.TryParseKey(r.QuantumKey, out var q));
            var bytes = await storage.Data.ReadAsync(DatasetType.PostIsrExposure, q.DataId with { Band = null }, run);
            var header = FitsFile.Read(new MemoryStream(bytes))[0].Header;
            Assert.Equal((9L, "toy"), ((long)header["NHDU"]!, header.GetString("LABEL")));
        }
        await host.StopAsync();
    }

    /// <summary>The isolated storage's own names, as the host reads them from its settings.</summary>
    private static IEnumerable<KeyValuePair<string, string?>> StorageSettings(DrpStorageOptions o) =>
    [
        new("Drp:Storage:RawContainer", o.RawContainer), new("Drp:Storage:DataContainer", o.DataContainer), new("Drp:Storage:ArrivalsQueue", o.ArrivalsQueue),
        new("Drp:Storage:RegistryTable", o.RegistryTable), new("Drp:Storage:LedgerTable", o.LedgerTable), new("Drp:Storage:SourceTable", o.SourceTable),
        new("Drp:Storage:CcdVisitTable", o.CcdVisitTable), new("Drp:Storage:VisitTable", o.VisitTable),
    ];

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
