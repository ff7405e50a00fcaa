using System.CommandLine;
using Drp.Pipeline.Simulation;

namespace Drp.Cli;

/// <summary><c>drp simulate</c>: write a DC2-like simulated campaign (raws, calibrations, reference and truth catalogs) to a folder.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "drp-sim" };
        var seed = new Option<long>("--seed") { Description = "Seed: the same seed gives identical files.", DefaultValueFactory = _ => 1 };
        var visits = new Option<int>("--visits") { Description = "Visits.", DefaultValueFactory = _ => 3 };
        var columns = new Option<int>("--detector-columns") { Description = "Detectors per row on the focal plane.", DefaultValueFactory = _ => 2 };
        var rows = new Option<int>("--detector-rows") { Description = "Detector rows on the focal plane.", DefaultValueFactory = _ => 1 };
        var size = new Option<string>("--detector") { Description = "'lsstcam' (4072 x 4000, 16 amplifiers) or a size in pixels such as 1024 (2 x 2 amplifiers).", DefaultValueFactory = _ => "1024" };
        var format = new Option<string>("--format") { Description = "'mef' (one HDU per amplifier) or 'single' (one HDU, one overscan strip).", DefaultValueFactory = _ => "mef" };
        var bands = new Option<string>("--bands") { Description = "Bands, cycled over visits, comma-separated.", DefaultValueFactory = _ => "g,r,i" };
        var cmd = new Command("simulate", "Simulate a small DC2-like survey: raw frames, master bias/flats, defects, reference catalog, truth.")
        {
            outDir, seed, visits, columns, rows, size, format, bands,
        };
        cmd.SetAction((parse, ct) =>
        {
            string sizeText = parse.GetValue(size)!;
            DetectorGeometry geometry;
            if (sizeText.Equals("lsstcam", StringComparison.OrdinalIgnoreCase))
            {
                geometry = DetectorGeometry.LsstCamItl;
            }
            else if (int.TryParse(sizeText, out int px) && px >= 128 && px % 2 == 0)
            {
                geometry = DetectorGeometry.Create(px, px);
            }
            else
            {
                Console.Error.WriteLine($"drp simulate: --detector must be 'lsstcam' or an even size >= 128, not '{sizeText}'");
                return Task.FromResult(2);
            }
            RawFormat rawFormat = parse.GetValue(format)!.ToLowerInvariant() switch
            {
                "mef" => RawFormat.MultiExtension,
                "single" => RawFormat.SingleHdu,
                var f => (RawFormat)(-1),
            };
            if (!Enum.IsDefined(rawFormat))
            {
                Console.Error.WriteLine($"drp simulate: --format must be 'mef' or 'single'");
                return Task.FromResult(2);
            }
            var options = new SimulationOptions
            {
                Seed = parse.GetValue(seed),
                VisitCount = parse.GetValue(visits),
                DetectorColumns = parse.GetValue(columns),
                DetectorRows = parse.GetValue(rows),
                Detector = geometry,
                Format = rawFormat,
                Bands = parse.GetValue(bands)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            try
            {
                var summary = new SurveySimulator(options).WriteTo(parse.GetValue(outDir)!, new ConsoleProgress(), ct);
                Console.WriteLine($"wrote {summary.RawFrames} raws, {summary.CalibrationFiles} calibrations, {summary.TruthSources} truth sources, {summary.ReferenceStars} reference stars to {summary.OutputDirectory} in {summary.Elapsed.TotalSeconds:F1} s");
                return Task.FromResult(0);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"drp simulate: {e.Message}");
                return Task.FromResult(2);
            }
        });
        return cmd;
    }

    private sealed class ConsoleProgress : IProgress<string>
    {
        public void Report(string value) => Console.WriteLine(value);
    }
}
