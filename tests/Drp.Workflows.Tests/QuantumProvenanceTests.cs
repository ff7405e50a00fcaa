using System.Text.RegularExpressions;
using Drp.Pipeline.Simulation;
using Drp.Storage;
using Drp.Storage.Catalogs;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Core.Provenance;
using Drp.Storage.Registry;
using Drp.Core.Planning;
using Drp.Execution;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Workflows.Tests;

/// <summary>
/// Provenance and accounting of real quanta: the <see cref="QuantumRunner"/> on a simulated detector against Azurite
/// records the software version, the hash of the config that ran and its usage in the ledger row, and its outputs carry
/// the version and config hash in their blob metadata. Then the visit's step 2 through the same runner.
/// </summary>
public sealed partial class QuantumProvenanceTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-provenance-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Execute_RealQuantum_LedgerRowAndOutputsCarryVersionConfigHashAndUsage()
    {
        var (storage, run) = await fixture.NewRunStorageAsync();
        var options = storage.Options;
        var sim = new SurveySimulator(new SimulationOptions
        {
            Seed = 11,
            VisitCount = 1,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = DetectorGeometry.Create(512, 512),
            Format = RawFormat.MultiExtension,
            StarDensityPerArcmin2 = 6.0,
            RefcatMagLimit = 23.0,
        });
        sim.WriteTo(_dir);
        var visit = sim.Visits[0];
        string instrument = SurveySimulator.InstrumentName;
        long bytesIn = 0;
        async Task PutCalib(string local, DatasetType type, DataId id)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_dir, local));
            bytesIn += bytes.Length;
            await storage.Data.WriteAsync(DatasetPaths.For(type, id, DatasetPaths.CalibCollection), bytes);
        }
        var calibId = new DataId(instrument, Detector: 0);
        await PutCalib("calib/bias_det_0.fits", DatasetType.Bias, calibId);
        await PutCalib("calib/defects_det_0.fits", DatasetType.Defects, calibId);
        await PutCalib($"calib/flat_{visit.Band}_det_0.fits", DatasetType.Flat, calibId with { Band = visit.Band });
        await PutCalib("refcat.csv", DatasetType.RefCat, new DataId(instrument));
        var raw = await File.ReadAllBytesAsync(Path.Combine(_dir, "raw", $"visit_{visit.Visit}_det_0.fits"));
        bytesIn += raw.Length;
        await storage.RawContainer.UploadBlobAsync("raw.fits", BinaryData.FromBytes(raw));
        await new RegistryTable(storage.Registry).RegisterAsync(
            new RawRecord(instrument, visit.Visit, 0, visit.Band, visit.ExposureTimeSeconds, visit.Mjd, options.RawContainer, "raw.fits", null));
        // A second detector of the visit is registered but never processed: step 2 must say it left it out.
        await new RegistryTable(storage.Registry).RegisterAsync(
            new RawRecord(instrument, visit.Visit, 1, visit.Band, visit.ExposureTimeSeconds, visit.Mjd, options.RawContainer, "raw-1.fits", null));
        var tasks = ExecutionServices.DefaultRegistry;
        var runner = new QuantumRunner(storage, new TableCatalogWriter(), tasks, NullLogger<QuantumRunner>.Instance);
        var request = new QuantumRequest(run, instrument, DatasetPaths.CalibCollection, "step1",
            new PlannedQuantum("processFrame", new DataId(instrument, visit.Visit, 0, Band: visit.Band)));

        var result = await runner.RunAsync(request);

        Assert.Equal(QuantumState.Succeeded, result.State);
        Assert.Equal(SoftwareVersion.Current.Label, result.SoftwareVersion);
        var row = await new QuantumLedger(storage.Ledger).GetAsync(run, request.Quantum.Key);
        Assert.NotNull(row);
        Assert.Equal($"processFrame|instrument={instrument}/visit={visit.Visit}/detector=0/band={visit.Band}", row.QuantumKey);
        Assert.Equal(SoftwareVersion.Current.Label, row.SoftwareVersion);
        Assert.Equal(new QuantumProvenance("step1", "processFrame", tasks.Bind("step1", "processFrame").ConfigHash), row.Provenance);
        Assert.Matches(HexHash(), row.Provenance!.ConfigHash);
        Assert.NotNull(row.Usage);
        Assert.True(row.Usage.CpuSeconds > 0, $"cpu {row.Usage.CpuSeconds}");
        Assert.True(row.Usage.PeakWorkingSetBytes > 0);
        // Raw, bias, defects, flat and reference catalog: one GET each, whole objects (StorageClients has no cache unless given one).
        Assert.Equal(5, row.Usage.Gets);
        Assert.Equal(bytesIn, row.Usage.BytesRead);
        Assert.True(row.ElapsedMs > 0);

        var id = new DataId(instrument, visit.Visit, 0);
        foreach (var type in new[] { DatasetType.Calexp, DatasetType.SourceTable, DatasetType.CcdVisitSummary })
        {
            var props = (await storage.DataContainer.GetBlobClient(DatasetPaths.For(type, id, run)).GetPropertiesAsync()).Value;
            Assert.Equal(SoftwareVersion.Current.Label, props.Metadata[DatasetStore.SoftwareVersionMetadataKey]);
            Assert.Equal(row.Provenance.ConfigHash, props.Metadata[DatasetStore.ConfigHashMetadataKey]);
            Assert.Equal(row.Provenance.TaskType, props.Metadata[DatasetStore.TaskTypeMetadataKey]);
        }
        // A calibration written outside any quantum carries the version but no config hash.
        var calib = (await storage.DataContainer.GetBlobClient(DatasetPaths.For(DatasetType.Bias, calibId, DatasetPaths.CalibCollection)).GetPropertiesAsync()).Value;
        Assert.Equal(SoftwareVersion.Current.Label, calib.Metadata[DatasetStore.SoftwareVersionMetadataKey]);
        Assert.False(calib.Metadata.ContainsKey(DatasetStore.ConfigHashMetadataKey));

        // Run again: skipped, and the result still says which version processed it.
        var again = await runner.RunAsync(request);
        Assert.True(again.Skipped);
        Assert.Equal(SoftwareVersion.Current.Label, again.SoftwareVersion);

        // Step 2 of the visit through the same runner: detector 0's table and summary consolidated, detector 1 named as left out.
        var visitId = new DataId(instrument, visit.Visit, Band: visit.Band);
        var sources = await runner.RunAsync(request with { Step = "step2", Quantum = new PlannedQuantum("consolidateSourceTable", visitId) });
        var summary = await runner.RunAsync(request with { Step = "step2", Quantum = new PlannedQuantum("consolidateVisitSummary", visitId) });
        Assert.Equal((QuantumState.Succeeded, result.OutputRows), (sources.State, sources.OutputRows));
        Assert.Equal((QuantumState.Succeeded, 1L), (summary.State, summary.OutputRows));
        Assert.Contains($"source_table instrument={instrument}/visit={visit.Visit}/detector=1", sources.Message);
        var table = (Drp.Pipeline.Catalogs.CatalogTable)await Drp.Pipeline.Catalogs.DatasetFormats.ReadAsync(DatasetType.SourceTableVisit,
            await storage.Data.ReadAsync(DatasetType.SourceTableVisit, new DataId(instrument, visit.Visit), run), []);
        Assert.Equal(result.OutputRows, table.Rows.Count);
    }

    [Fact]
    public void SoftwareVersion_Current_IsTheCommitThisBuildCameFrom()
    {
        var current = SoftwareVersion.Current;
        var git = GitHead();

        // CI builds a clean clone, so git is there and the commit is embedded; a build without .git says unknown.
        Assert.Equal(git ?? SoftwareVersion.UnknownCommit, current.Commit);
        Assert.Equal(current, SoftwareVersion.Parse(current.Label));
    }

    private static string? GitHead()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("git", ["rev-parse", "HEAD"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        try
        {
            using var p = System.Diagnostics.Process.Start(psi)!;
            string head = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? head : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex HexHash();
}
