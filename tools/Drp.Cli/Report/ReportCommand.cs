using System.CommandLine;
using System.Text;

namespace Drp.Cli.Report;

/// <summary>
/// <c>drp report --run R --out report.html</c>: gathers the run's outputs from storage (<see cref="RunReportGatherer"/>),
/// builds the page (<see cref="RunReportBuilder"/>) and writes it. Exit 0 written, 2 no storage or bad options,
/// 3 nothing to report (the run has no quanta in the ledger) or an unreadable truth file.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run collection.", DefaultValueFactory = _ => "demo" };
        var output = new Option<string>("--page") { Description = "The HTML file to write.", DefaultValueFactory = _ => "report.html" };
        // --out names the demo folder, as in every other command.
        var demoOut = new Option<string>("--out") { Description = "A demo output folder whose Azurite data to open (when Drp__Storage__ConnectionString is not set), and whose sim/truth.csv is the default truth.", DefaultValueFactory = _ => "drp-out" };
        var instrument = new Option<string>("--instrument") { Description = "Instrument of the run's raws.", DefaultValueFactory = _ => "LSSTCam-sim" };
        var truth = new Option<string?>("--truth") { Description = "Truth catalog CSV (ra, dec, {band}_flux in nJy; the simulator's truth.csv). Default: {out}/sim/truth.csv if it exists." };
        var radius = new Option<double>("--match-radius") { Description = "Match radius against the truth, arcsec.", DefaultValueFactory = _ => 0.5 };
        var cmd = new Command("report", "Write a run's report: one static HTML page with plots (source density, NaN fraction per column, zero points, photometry against the truth, failures on the sky) and the QA findings.")
        {
            run, output, demoOut, instrument, truth, radius,
        };
        cmd.SetAction((parse, ct) => OperatorCommands.WithStorageAsync(parse.GetValue(demoOut), ct, async (storage, _) =>
        {
            string runName = parse.GetValue(run)!;
            if (!(parse.GetValue(radius) is > 0 and <= 60))
            {
                Console.Error.WriteLine($"drp report: --match-radius must be in (0, 60] arcsec, not {parse.GetValue(radius)}");
                return 2;
            }
            try
            {
                var input = await new RunReportGatherer(storage).GatherAsync(runName, parse.GetValue(instrument)!, ct);
                string? truthPath = parse.GetValue(truth);
                var defaultTruth = Path.Combine(parse.GetValue(demoOut)!, "sim", "truth.csv");
                if (truthPath is null && File.Exists(defaultTruth))
                {
                    truthPath = defaultTruth;
                }
                if (truthPath is not null)
                {
                    var notes = input.Notes.ToList();
                    var bands = input.Sources.Rows.Select(r => r[input.Sources.IndexOf("band")] as string).OfType<string>();
                    input = input with
                    {
                        Truth = RunReportGatherer.LoadTruth(truthPath, bands, notes),
                        TruthSource = Path.GetFullPath(truthPath),
                        Notes = notes,
                    };
                }
                input = input with { MatchRadiusArcsec = parse.GetValue(radius), GeneratedAt = DateTimeOffset.UtcNow };
                string path = Path.GetFullPath(parse.GetValue(output)!);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, RunReportBuilder.Build(input), new UTF8Encoding(false), ct);
                Console.WriteLine($"run {runName}: {input.Sources.Rows.Count} Source rows, {input.CcdVisits.Count} detector-visits, {input.Failures.Count} failed or unprocessable quanta, {input.Notes.Count} notes");
                Console.WriteLine($"wrote {path}");
                return 0;
            }
            catch (ReportException e)
            {
                Console.Error.WriteLine($"drp report: {e.Message}");
                return 3;
            }
        }));
        return cmd;
    }
}
