using Drp.Pipeline.Simulation;

namespace Drp.Cli.Tests;

/// <summary>
/// One simulated 1024 x 1024 frame (visit 1000, band g, seed 11) with its bias, flats, defects, reference catalog and
/// truth below a folder, and <c>process-frame</c>'s arguments for it: the inputs the process-frame tests share.
/// </summary>
internal sealed class SimulatedFrameFiles(string directory)
{
    public string Sim => Path.Combine(directory, "sim");

    public string Raw => Path.Combine(Sim, "raw", "visit_1000_det_0.fits");

    public string Bias => Path.Combine(Sim, "calib", "bias_det_0.fits");

    public string Flat(string band = "g") => Path.Combine(Sim, "calib", $"flat_{band}_det_0.fits");

    public string Defects => Path.Combine(Sim, "calib", "defects_det_0.fits");

    public string RefCat => Path.Combine(Sim, "refcat.csv");

    public string Truth => Path.Combine(Sim, "truth", "visit_1000_det_0.csv");

    public void Simulate(RawFormat format = RawFormat.MultiExtension) =>
        new SurveySimulator(new SimulationOptions
        {
            Seed = 11,
            VisitCount = 1,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = DetectorGeometry.Create(1024, 1024),
            Format = format,
            StarDensityPerArcmin2 = 6.0,
            RefcatMagLimit = 22.0,
        }).WriteTo(Sim);

    /// <summary><c>process-frame</c> on this frame into <paramref name="outDir"/>, with any input replaced.</summary>
    public string[] Arguments(string outDir, string? raw = null, string? bias = null, string? flat = null, string? refcat = null) =>
    [
        "process-frame", "--raw", raw ?? Raw, "--bias", bias ?? Bias, "--flat", flat ?? Flat(), "--defects", Defects,
        "--refcat", refcat ?? RefCat, "--out", outDir,
    ];
}
