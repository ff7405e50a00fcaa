using System.Diagnostics;
using System.Text.Json;
using Azure.Data.Tables;
using Drp.Local;
using Drp.Pipeline.Catalogs;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Caching;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Registry;
using Drp.Storage.Resilience;
using Drp.Workflows;
using Drp.Workflows.Activities;
using Drp.Workflows.Operations;
using Drp.Workflows.Orchestrators;
using Drp.Core.Tasks;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drp.Cli;

/// <summary>Settings of one demo run.</summary>
public sealed record DemoSettings
{
    public required string OutDir { get; init; }
    public int Visits { get; init; } = 4;
    public int Detectors { get; init; } = 3;
    public int DetectorSize { get; init; } = 1024;
    public int Seed { get; init; } = 42;
    public string Run { get; init; } = "demo";
    public string TaskHub { get; init; } = "drp";
    public bool Verbose { get; init; }

    /// <summary>A storage connection string; null starts Azurite with its data in <c>{OutDir}/azurite</c>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Extra arrival events to deliver again (tests: a duplicated event must change nothing).</summary>
    public int DuplicateEvents { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>Fraction of the workers' Blob and Table requests that get an injected fault (0 = none).</summary>
    public double InjectFaults { get; init; }

    /// <summary>Seed of the injected faults.</summary>
    public int FaultSeed { get; init; } = 1;

    /// <summary>Byte budget of the workers' dataset cache (in <c>{OutDir}/cache</c>); 0 switches it off.</summary>
    public long CacheMaxBytes { get; init; } = 1L << 30;

    /// <summary>Configuration laid over the environment's (e.g. <c>Drp:Storage:Resilience:AttemptTimeout</c>), for the demo's clients and its host alike.</summary>
    public IReadOnlyDictionary<string, string?> Configuration { get; init; } = new Dictionary<string, string?>();
}

/// <summary>The demo could not run (bad settings, storage unreachable, a stage timed out); the message says which.</summary>
public sealed class DemoException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The first end-to-end run: simulate, upload raws (each upload delivers a BlobCreated event to the arrivals queue),
/// let the arrival listener ingest them, run the campaign (steps 1, 2 and 7 with their gates), export the catalogs and write
/// <c>summary.json</c>. Restarted after a kill, it resumes: the task hub and the ledger live in storage.
/// </summary>
public sealed class DemoRunner(DemoSettings settings, TextWriter console)
{
    public async Task<DemoSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        if (!(settings.InjectFaults is >= 0 and <= 1))
        {
            throw new DemoException($"--inject-faults must be a rate in [0, 1], not {settings.InjectFaults}");
        }
        var total = Stopwatch.StartNew();
        var timings = new Dictionary<string, double>();
        Directory.CreateDirectory(settings.OutDir);
        AzuriteHost? azurite = null;
        try
        {
            string connectionString;
            string storageLocation;
            if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
            {
                connectionString = settings.ConnectionString;
                storageLocation = "the configured storage account (Drp__Storage__ConnectionString)";
            }
            else
            {
                var dataDir = Path.Combine(settings.OutDir, "azurite");
                Say($"starting Azurite (data in {dataDir})");
                azurite = await AzuriteHost.StartAsync(AzuriteOptions.Persistent(dataDir), cancellationToken: cancellationToken);
                connectionString = azurite.ConnectionString;
                storageLocation = dataDir;
            }

            var storageOptions = new DrpStorageOptions { ConnectionString = connectionString };
            // The demo's own clients (uploads, events, polling) take the same resilience settings as the workers'.
            var resilience = LocalPlatform.ResilienceFrom(settings.Configuration);
            var storage = new StorageClients(storageOptions, resilience);
            await Stage("storage", timings, () => storage.EnsureCreatedAsync(cancellationToken));

            var campaign = await Stage("simulate", timings, () => Task.Run(() => DemoSimulation.Simulate(settings, Say, cancellationToken), cancellationToken));
            await Stage("upload calibrations", timings, () => DemoSimulation.UploadCalibrationsAsync(campaign, storage, cancellationToken));

            var faults = new FaultInjectionOptions { Rate = settings.InjectFaults, Seed = settings.FaultSeed };
            var cacheOptions = new DatasetCacheOptions { Root = Path.Combine(settings.OutDir, "cache"), MaxBytes = settings.CacheMaxBytes };
            StorageClients? workerStorage = null;
            // The workers' clients: the store's pipeline, cache and (if asked) fault injection; the metrics go to summary.json.
            using var host = LocalPlatform.BuildHost(connectionString, settings.TaskHub, settings.Verbose, services =>
                services.AddSingleton(sp => workerStorage = new StorageClients(storageOptions, resilience, cacheOptions, faults,
                    sp.GetService<ILoggerFactory>())),
                // Raws process themselves as they arrive: each detector's step 1 at once, each visit's step 2 once its detectors are done.
                new Dictionary<string, string?>(settings.Configuration)
                {
                    ["Drp:Processing:ArrivalRun"] = settings.Run,
                    ["Drp:Processing:ExpectedDetectors"] = settings.Detectors.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["Drp:Processing:VisitQuietTime"] = "00:00:10",
                });
            await host.StartAsync(cancellationToken);
            try
            {
                var client = host.Services.GetRequiredService<DurableTaskClient>();
                var grid = new LocalEventGrid(storage);
                int duplicates = 0;
                await Stage("upload raws", timings, async () =>
                {
                    int i = 0;
                    foreach (var raw in campaign.Raws)
                    {
                        await grid.UploadRawAsync(raw.LocalPath, raw.BlobName, cancellationToken);
                        Progress($"uploaded {++i}/{campaign.Raws.Count} raws");
                    }
                    foreach (var raw in campaign.Raws.Take(settings.DuplicateEvents))
                    {
                        var blob = storage.RawContainer.GetBlobClient(raw.BlobName);
                        var props = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
                        await grid.PublishAsync(storageOptions.RawContainer, raw.BlobName, blob.Uri, props.ETag.ToString(), props.ContentLength, Guid.NewGuid().ToString(), cancellationToken);
                        duplicates++;
                    }
                    EndProgress();
                });

                var registry = new RegistryTable(storage.Registry);
                await Stage("ingest", timings, () => WaitForIngestAsync(registry, campaign, cancellationToken));
                var tasks = host.Services.GetRequiredService<TaskRegistry>();
                await Stage("arrivals", timings, () => WaitForArrivalsAsync(storage, registry, tasks, campaign, cancellationToken));

                var result = await Stage("campaign", timings, () => RunCampaignAsync(client, storage, tasks, campaign.Instrument, cancellationToken));

                // The campaign's gates ran each step's catalog QA; the summary shows what they stored.
                var qa = await Stage("catalog qa", timings, () => ReadQaAsync(storage, result, campaign.Instrument, cancellationToken));
                var summary = await Stage("export", timings, () => ExportAsync(storage, registry, campaign, result, duplicates, cancellationToken));
                summary = summary with
                {
                    CatalogQa = qa.FirstOrDefault(q => q.Step == "step1"),
                    StepQa = qa,
                    DatasetAccess = DatasetAccessSummary.From(workerStorage, settings.InjectFaults),
                    Resilience = new Dictionary<string, ClientResilience>
                    {
                        ["uploads"] = ClientResilience.From(storage.Metrics),
                        ["workers"] = ClientResilience.From(workerStorage?.Metrics ?? new DatasetStoreMetrics()),
                        ["taskHub"] = ClientResilience.From(host.Services.GetRequiredService<LocalDurableEngine>().TaskHubMetrics),
                    },
                    StorageLocation = storageLocation,
                    TimingsSeconds = timings,
                    ElapsedSeconds = total.Elapsed.TotalSeconds,
                };
                var path = Path.Combine(settings.OutDir, "summary.json");
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(summary, DemoSummary.JsonOptions), cancellationToken);
                PrintSummary(summary, path);
                return summary;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }
        }
    }

    private Task WaitForIngestAsync(RegistryTable registry, DemoCampaign campaign, CancellationToken ct)
    {
        var expected = campaign.Raws.Select(r => r.BlobName).ToHashSet(StringComparer.Ordinal);
        return PollAsync("ingest", async () =>
        {
            var registered = (await registry.ListAsync(campaign.Instrument, ct)).Count(r => expected.Contains(r.BlobName));
            var rejected = (await registry.ListRejectedAsync(ct)).Count(r => expected.Contains(r.BlobName));
            return (registered + rejected >= expected.Count, $"ingest: {registered} registered, {rejected} rejected of {expected.Count}");
        }, ct);
    }

    /// <summary>
    /// Until the arrivals have processed themselves: every registered detector with an outcome of the pipeline's first
    /// step, and every visit with one of each of its second step's tasks (the ledger says, as the campaign will).
    /// </summary>
    private Task WaitForArrivalsAsync(StorageClients storage, RegistryTable registry, TaskRegistry tasks, DemoCampaign campaign, CancellationToken ct)
    {
        var (detectorStep, visitStep) = (tasks.Pipeline.Steps[0], tasks.Pipeline.Steps[1]);
        return PollAsync("the arrivals' processing", async () =>
        {
            var raws = await registry.ListAsync(campaign.Instrument, ct);
            int visits = raws.Select(r => r.Visit).Distinct().Count();
            var done = (await new QuantumLedger(storage.Ledger).ListAsync(settings.Run, ct)).Where(q => q.State != QuantumState.Running).ToList();
            int detectors = done.Count(q => q.Provenance?.Step == detectorStep.Name) / detectorStep.Units.Count;
            int closed = done.Count(q => q.Provenance?.Step == visitStep.Name) / visitStep.Units.Count;
            return (detectors >= raws.Count && closed >= visits,
                $"arrivals: {detectors}/{raws.Count} detectors through {detectorStep.Name}, {closed}/{visits} visits through {visitStep.Name}");
        }, ct);
    }

    /// <summary>Polls every 500 ms, showing its progress line, until it says done; past the demo's timeout, a <see cref="DemoException"/> with the last line.</summary>
    private async Task PollAsync(string stage, Func<Task<(bool Done, string Progress)>> poll, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var (done, progress) = await poll();
            Progress(progress);
            if (done)
            {
                EndProgress();
                return;
            }
            if (deadline.Elapsed > settings.Timeout)
            {
                EndProgress();
                throw new DemoException($"{stage} did not finish within {settings.Timeout}: {progress}");
            }
            await Task.Delay(500, ct);
        }
    }

    /// <summary>
    /// The run's campaign over every step that can run (steps 1, 2 and 7 today), through the same operations as
    /// <c>drp campaign start</c>: a campaign still running (a demo killed and started again) is waited for; a finished
    /// one is purged and started again, and the ledger skips every quantum already done.
    /// </summary>
    private async Task<CampaignResult> RunCampaignAsync(DurableTaskClient client, StorageClients storage, TaskRegistry tasks, string instrument, CancellationToken ct)
    {
        var ops = new CampaignOperations(client, storage, tasks);
        string instanceId = CampaignOrchestrator.InstanceIdFor(settings.Run);
        var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct);
        if (existing is { IsRunning: true } || existing?.RuntimeStatus == OrchestrationRuntimeStatus.Pending)
        {
            Say($"resuming the campaign ({instanceId}, {existing.RuntimeStatus})");
        }
        else
        {
            if (existing is not null)
            {
                await ops.PurgeAsync(settings.Run, ct);
            }
            await ops.StartAsync(new CampaignInput(settings.Run, instrument, tasks.RunnableSteps), ct);
        }
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct)
                ?? throw new DemoException($"orchestration {instanceId} vanished");
            if (state.ReadCustomStatusAs<CampaignProgress>() is { Step: { } step } p)
            {
                var counts = CampaignOperations.CountByStep(await new QuantumLedger(storage.Ledger).ListAsync(settings.Run, ct));
                Progress($"campaign: {p.Phase} {step} ({p.StepsDone}/{p.StepsTotal} steps done); quanta "
                    + string.Join(", ", counts.Select(c => $"{c.Step} {c.Total - c.Running}/{c.Total} done, {c.Failed} failed, {c.Unprocessable} unprocessable")));
            }
            switch (state.RuntimeStatus)
            {
                case OrchestrationRuntimeStatus.Completed:
                    EndProgress();
                    var result = state.ReadOutputAs<CampaignResult>() ?? throw new DemoException($"{instanceId} completed without a result");
                    return result.Completed ? result : throw new DemoException($"the campaign stopped after {result.StoppedAfter}: {result.Reason}");
                case OrchestrationRuntimeStatus.Failed:
                case OrchestrationRuntimeStatus.Terminated:
                    EndProgress();
                    throw new DemoException($"{instanceId} {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
            }
            if (deadline.Elapsed > settings.Timeout)
            {
                EndProgress();
                throw new DemoException($"the campaign did not finish within {settings.Timeout}");
            }
            await Task.Delay(500, ct);
        }
    }

    private async Task<DemoSummary> ExportAsync(StorageClients storage, RegistryTable registry, DemoCampaign campaign, CampaignResult result, int duplicates, CancellationToken ct)
    {
        var data = storage.Data;
        var catalogDir = Path.Combine(settings.OutDir, "catalogs");
        Directory.CreateDirectory(catalogDir);
        var files = new List<string>();
        long parquetRows = 0;
        var ccdVisitIds = new HashSet<long>();
        var sourceIds = new HashSet<long>();
        long duplicateSourceIds = 0;
        foreach (var path in await data.ListAsync(DatasetType.SourceTableVisit, settings.Run, ct))
        {
            var bytes = await data.ReadAllAsync(path, ct);
            var local = Path.Combine(catalogDir, "source_visit_" + Path.GetFileNameWithoutExtension(path).Split('_')[^1] + ".parquet");
            await File.WriteAllBytesAsync(local, bytes, ct);
            files.Add(local);
            using var ms = new MemoryStream(bytes);
            var table = await ParquetCatalogWriter.ReadAsync(ms, SourceSchema.TableName, SourceSchema.Columns, ct);
            parquetRows += table.Rows.Count;
            int idCol = table.IndexOf(CatalogTableKeys.Source.RowKeyColumn), ccdCol = table.IndexOf(CatalogTableKeys.Source.PartitionColumns.Single());
            foreach (var row in table.Rows)
            {
                ccdVisitIds.Add((long)row[ccdCol]!);
                if (!sourceIds.Add((long)row[idCol]!))
                {
                    duplicateSourceIds++;
                }
            }
        }
        long tableRows = 0;
        foreach (long ccd in ccdVisitIds)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {CatalogTableKeys.Source.PartitionKeyOf(ccd)}");
            await foreach (var _ in storage.Sources.QueryAsync<TableEntity>(filter, select: ["PartitionKey"], cancellationToken: ct))
            {
                tableRows++;
            }
        }
        var tables = new Dictionary<string, TableCounts>
        {
            [SourceSchema.TableName] = new(tableRows, parquetRows, sourceIds.Count, duplicateSourceIds),
        };
        // The survey-wide tables of step 7: the Parquet file (copied beside the Source files) against the serving table.
        foreach (var (type, keys, serving) in new[] { (DatasetType.CcdVisitTable, CatalogTableKeys.CcdVisit, storage.CcdVisits), (DatasetType.VisitTable, CatalogTableKeys.Visit, storage.Visits) })
        {
            var id = new DataId(campaign.Instrument);
            if (!await data.ExistsAsync(type, id, settings.Run, ct))
            {
                continue;
            }
            var bytes = await data.ReadAsync(type, id, settings.Run, ct);
            var local = Path.Combine(catalogDir, type.Name + ".parquet");
            await File.WriteAllBytesAsync(local, bytes, ct);
            var table = (CatalogTable)await DatasetFormats.ReadAsync(type, bytes, [], ct);
            var ids = table.Rows.Select(r => r[table.IndexOf(keys.RowKeyColumn)]).ToList();
            long served = 0;
            await foreach (var _ in serving.QueryAsync<TableEntity>(select: ["PartitionKey"], cancellationToken: ct))
            {
                served++;
            }
            tables[keys.Catalog] = new(served, table.Rows.Count, ids.Distinct().Count(), ids.Count - ids.Distinct().Count());
        }
        var blobNames = campaign.Raws.Select(r => r.BlobName).ToHashSet(StringComparer.Ordinal);
        var registered = (await registry.ListAsync(campaign.Instrument, ct)).Count(r => blobNames.Contains(r.BlobName));
        var rejected = (await registry.ListRejectedAsync(ct)).Where(r => blobNames.Contains(r.BlobName)).ToList();
        var ledger = await new QuantumLedger(storage.Ledger).ListAsync(settings.Run, ct);
        static QuantumCounts CountsOf(OutcomeCounts c) => new((int)c.Units, (int)c.Succeeded, (int)c.Unprocessable, (int)c.Failed, (int)c.Skipped);
        var all = result.Steps.Aggregate(OutcomeCounts.Zero, (sum, s) => sum.Add(s.Counts));
        return new DemoSummary
        {
            SoftwareVersions = VersionCount.Merge(result.Steps.SelectMany(s => s.SoftwareVersions)),
            Accounting = RunAccountingReport.From(settings.Run, ledger),
            Run = settings.Run,
            Instrument = campaign.Instrument,
            Raws = new RawCounts(campaign.Raws.Count, registered, rejected.Count, duplicates),
            Quanta = CountsOf(all),
            Steps = result.Steps.ToDictionary(s => s.Step, s => CountsOf(s.Counts)),
            Failures = ledger.Where(q => q.State is QuantumState.Failed or QuantumState.Unprocessable)
                .Select(q => $"{q.QuantumKey}: {q.State}: {q.Message}")
                .Concat(rejected.Select(r => $"{r.BlobName}: rejected: {r.ErrorClass}: {r.Reason}"))
                .ToList(),
            Tables = tables,
            Outputs = new OutputLocations(settings.OutDir, catalogDir, files, storage.Options.DataContainer, $"{settings.Run}/"),
        };
    }

    /// <summary>Each step's catalog QA as its gate stored it (a step with no catalog tables stores none).</summary>
    private static async Task<List<StepQaResult>> ReadQaAsync(StorageClients storage, CampaignResult result, string instrument, CancellationToken ct)
    {
        var list = new List<StepQaResult>();
        foreach (var step in result.Steps.Select(s => s.Step))
        {
            var type = DatasetType.CatalogQaOf(step);
            if (!await storage.Data.ExistsAsync(type, new DataId(instrument), result.Run, ct))
            {
                list.Add(new StepQaResult(step, true, $"{step}: no catalog tables produced by this step", null, [], 0));
                continue;
            }
            var doc = JsonSerializer.Deserialize<StepQaDocument>(await storage.Data.ReadAsync(type, new DataId(instrument), result.Run, ct))
                ?? throw new DemoException($"{step}: empty QA results");
            list.Add(new StepQaResult(step, doc.Passed, doc.Summary, DatasetPaths.For(type, new DataId(instrument), result.Run),
                doc.Reports.Select(r => new TableQaSummary(r.Table, r.Rows, r.ChecksRun, r.Findings.Count)).ToList(), doc.Warnings.Count));
        }
        return list;
    }

    private void PrintSummary(DemoSummary s, string path)
    {
        console.WriteLine();
        console.WriteLine($"run {s.Run} ({s.Instrument}) finished in {s.ElapsedSeconds:F1} s");
        console.WriteLine($"  raws:   {s.Raws.Uploaded} uploaded, {s.Raws.Registered} registered, {s.Raws.Rejected} rejected, {s.Raws.DuplicateEvents} duplicate events ignored");
        console.WriteLine($"  quanta: {s.Quanta.Total} total: {s.Quanta.Succeeded} succeeded, {s.Quanta.Unprocessable} unprocessable, {s.Quanta.Failed} failed ({s.Quanta.Skipped} skipped as already done)");
        foreach (var (step, q) in s.Steps)
        {
            console.WriteLine($"    {step}: {q.Total}: {q.Succeeded} succeeded, {q.Unprocessable} unprocessable, {q.Failed} failed ({q.Skipped} skipped)");
        }
        foreach (var (name, t) in s.Tables)
        {
            console.WriteLine($"  {name}: {t.AzureTableRows} rows in the Azure Table, {t.ParquetRows} in Parquet ({t.DuplicateIds} duplicate ids)");
        }
        console.WriteLine("  software: " + string.Join(", ", s.SoftwareVersions.Select(v => $"{v.SoftwareVersion} ({v.Quanta} quanta)")));
        foreach (var t in s.Accounting?.TaskTypes ?? [])
        {
            console.WriteLine($"  compute: {t.Step} {t.TaskType}: {t.Quanta} quanta, {t.CoreSeconds:F1} core-s, {t.WallSeconds:F1} wall-s, peak {t.PeakWorkingSetBytes / 1048576.0:F0} MiB, {t.Gets} GETs, {t.BytesRead / 1e6:F1} MB read");
        }
        foreach (var qa in s.StepQa)
        {
            console.WriteLine($"  catalog QA: {(qa.Passed ? "passed" : "FAILED")}: {qa.Summary}{(qa.ResultsPath is null ? "" : $" (results in {qa.ResultsPath})")}");
        }
        foreach (var f in s.Failures)
        {
            console.WriteLine($"  ! {f}");
        }
        if (s.Resilience.Values.Sum(r => r.Retries) > 0)
        {
            console.WriteLine("  storage faults retried: " + string.Join("; ", s.Resilience.Select(kv =>
                $"{kv.Key} {kv.Value.Retries} ({string.Join(", ", kv.Value.FaultsSeen.Select(f => $"{f.Value} {f.Key}"))})")));
        }
        if (s.DatasetAccess is { } d)
        {
            console.WriteLine($"  data access: fault rate {d.FaultRate:P0}, {d.InjectedFaults.Values.Sum()} faults injected, "
                + string.Join("; ", d.ByDatasetType.Select(kv => $"{kv.Key}: {kv.Value.Gets} GETs, {kv.Value.BytesRead / 1e6:F1} MB, {kv.Value.CacheHits} hits / {kv.Value.CacheMisses} misses, {kv.Value.Retries} retries")));
        }
        console.WriteLine("  timings: " + string.Join(", ", s.TimingsSeconds.Select(kv => $"{kv.Key} {kv.Value:F1} s")));
        console.WriteLine($"  catalogs: {s.Outputs.CatalogFolder}");
        console.WriteLine($"  storage:  {s.StorageLocation} (container {s.Outputs.DataContainer}, collection {s.Outputs.Collection})");
        console.WriteLine($"  summary:  {path}");
    }

    private async Task<T> Stage<T>(string name, Dictionary<string, double> timings, Func<Task<T>> action)
    {
        Say(name + " ...");
        var sw = Stopwatch.StartNew();
        var result = await action();
        timings[name] = Math.Round(sw.Elapsed.TotalSeconds, 2);
        return result;
    }

    private Task Stage(string name, Dictionary<string, double> timings, Func<Task> action) =>
        Stage<bool>(name, timings, async () => { await action(); return true; });

    private string? _lastProgress;

    private void Say(string line)
    {
        EndProgress();
        console.WriteLine($"[drp] {line}");
    }

    /// <summary>One updating progress line on a terminal; a new line only when the text changes otherwise.</summary>
    private void Progress(string line)
    {
        if (line == _lastProgress)
        {
            return;
        }
        _lastProgress = line;
        if (!Console.IsOutputRedirected && ReferenceEquals(console, Console.Out))
        {
            console.Write("\r[drp]   " + line.PadRight(90));
        }
        else
        {
            console.WriteLine("[drp]   " + line);
        }
    }

    private void EndProgress()
    {
        if (_lastProgress is not null && !Console.IsOutputRedirected && ReferenceEquals(console, Console.Out))
        {
            console.WriteLine();
        }
        _lastProgress = null;
    }
}
