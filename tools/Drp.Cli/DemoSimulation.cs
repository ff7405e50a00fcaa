using Drp.Pipeline.Simulation;
using Drp.Storage;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;

namespace Drp.Cli;

/// <summary>One simulated raw file and the blob name it is uploaded under.</summary>
public sealed record DemoRaw(string LocalPath, string BlobName, int Visit, int Detector);

/// <summary>A simulated campaign on disk.</summary>
public sealed record DemoCampaign(string Instrument, string Folder, IReadOnlyList<DemoRaw> Raws, IReadOnlyList<int> Detectors, IReadOnlyList<string> Bands);

/// <summary>The demo's survey: simulated into <c>{out}/sim</c>, calibrations uploaded into the calib collection.</summary>
public static class DemoSimulation
{
    public static SimulationOptions OptionsFor(DemoSettings settings)
    {
        if (settings.Visits < 1 || settings.Detectors < 1)
        {
            throw new DemoException("--visits and --detectors must be at least 1");
        }
        if (settings.DetectorSize < 128 || settings.DetectorSize % 2 != 0)
        {
            throw new DemoException("--detector-size must be an even number of pixels, at least 128");
        }
        // Detectors on a grid as square as possible: 3 -> 3 x 1, 4 -> 2 x 2, 6 -> 3 x 2.
        int rows = (int)Math.Floor(Math.Sqrt(settings.Detectors));
        while (settings.Detectors % rows != 0)
        {
            rows--;
        }
        return new SimulationOptions
        {
            Seed = settings.Seed,
            VisitCount = settings.Visits,
            DetectorColumns = settings.Detectors / rows,
            DetectorRows = rows,
            Detector = DetectorGeometry.Create(settings.DetectorSize, settings.DetectorSize),
            Format = RawFormat.MultiExtension,
            // Small demo detectors see a few square arcminutes: a denser star field and a deeper reference catalog
            // give every detector enough reference stars for photometric calibration.
            StarDensityPerArcmin2 = 6.0,
            RefcatMagLimit = 23.0,
        };
    }

    public static DemoCampaign Simulate(DemoSettings settings, Action<string> say, CancellationToken cancellationToken = default)
    {
        var sim = new SurveySimulator(OptionsFor(settings));
        var folder = Path.Combine(settings.OutDir, "sim");
        var summary = sim.WriteTo(folder, new SyncProgress(line =>
        {
            // Ctrl+C between files: the simulation is the demo's one long stretch without I/O.
            cancellationToken.ThrowIfCancellationRequested();
            say("  " + line);
        }));
        say($"simulated {summary.RawFrames} raws, {summary.CalibrationFiles} calibrations, {summary.TruthSources} truth sources, {summary.ReferenceStars} reference stars in {summary.Elapsed.TotalSeconds:F1} s");
        var raws = sim.Visits
            .SelectMany(v => sim.Detectors.Select(d => new DemoRaw(
                Path.Combine(folder, "raw", $"visit_{v.Visit}_det_{d}.fits"),
                $"{SurveySimulator.InstrumentName}/{v.Visit}/raw_{v.Visit}_{d:D3}.fits",
                v.Visit, d)))
            .ToList();
        return new DemoCampaign(SurveySimulator.InstrumentName, folder, raws, sim.Detectors, sim.Options.Bands);
    }

    /// <summary>Bias, flats, defects and the reference catalog, at their <see cref="DatasetPaths"/> in the calib collection.</summary>
    public static async Task UploadCalibrationsAsync(DemoCampaign campaign, StorageClients storage, CancellationToken cancellationToken)
    {
        var store = storage.Data;
        string calib = Path.Combine(campaign.Folder, "calib");
        async Task Put(string local, DatasetType type, DataId id) =>
            await store.WriteAsync(DatasetPaths.For(type, id, DatasetPaths.CalibCollection), await File.ReadAllBytesAsync(local, cancellationToken), cancellationToken: cancellationToken);
        foreach (int d in campaign.Detectors)
        {
            var id = new DataId(campaign.Instrument, Detector: d);
            await Put(Path.Combine(calib, $"bias_det_{d}.fits"), DatasetType.Bias, id);
            await Put(Path.Combine(calib, $"defects_det_{d}.fits"), DatasetType.Defects, id);
            foreach (var band in campaign.Bands)
            {
                await Put(Path.Combine(calib, $"flat_{band}_det_{d}.fits"), DatasetType.Flat, id with { Band = band });
            }
        }
        await Put(Path.Combine(campaign.Folder, "refcat.csv"), DatasetType.RefCat, new DataId(campaign.Instrument));
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
