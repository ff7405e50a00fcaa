using System.CommandLine;
using System.Diagnostics;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;

namespace Drp.Cli;

/// <summary>
/// <c>drp bench frame</c>: times the per-frame stages on full LSSTCam-size frames, side by side in one run — simulate
/// one 4072 x 4000 raw (16 amplifiers), write it as FITS, read it back, and process it (step 1) — and prints
/// mean / min / max seconds and allocated megabytes per stage. Figures go to docs/benchmarks.md.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var repeat = new Option<int>("--repeat") { Description = "Frames per stage (different visits).", DefaultValueFactory = _ => 3 };
        var size = new Option<string>("--detector") { Description = "'lsstcam' (4072 x 4000) or a size in pixels.", DefaultValueFactory = _ => "lsstcam" };
        var frame = new Command("frame", "Time simulate / FITS write / FITS read / single-frame processing of full-size frames.") { repeat, size };
        frame.SetAction(parse =>
        {
            int n = Math.Max(1, parse.GetValue(repeat));
            string sizeText = parse.GetValue(size)!;
            var geometry = sizeText == "lsstcam" ? DetectorGeometry.LsstCamItl
                : int.TryParse(sizeText, out int px) ? DetectorGeometry.Create(px, px) : null;
            if (geometry is null)
            {
                Console.Error.WriteLine($"drp bench: --detector must be 'lsstcam' or a size, not '{sizeText}'");
                return 2;
            }
            Run(n, geometry);
            return 0;
        });
        return new Command("bench", "Benchmarks that print figures.")
        {
            frame, DataAccessBenchCommand.Create(), WireFaultBenchCommand.Create(), SextractorBenchCommand.Create(), TableWriterBenchCommand.Create(), StepBenchCommand.Create(), StepBenchCommand.CreateWorker(),
        };
    }

    private static void Run(int n, DetectorGeometry geometry)
    {
        var sim = new SurveySimulator(new SimulationOptions
        {
            Seed = 1,
            VisitCount = n,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = geometry,
            StarDensityPerArcmin2 = 6.0,
            RefcatMagLimit = 23.0,
        });
        var stages = new Dictionary<string, List<(double Seconds, double MegaBytes)>>
        {
            ["simulate"] = [], ["fits write"] = [], ["fits read"] = [], ["process (step 1)"] = [],
        };
        var bias = sim.CreateMasterBias(0);
        var defects = DefectMap.FromImage(sim.CreateDefectMask(0));
        var refcat = sim.CreateReferenceCatalog();
        List<ReferenceObject> RefsIn(string band)
        {
            int b = sim.Options.Bands.ToList().IndexOf(band);
            return refcat.Select(r => new ReferenceObject(r.Star.Ra, r.Star.Dec, ReferenceCatalog.MagToNJy(r.Mags[b]))).ToList();
        }
        Console.WriteLine($"frames: {geometry.Width} x {geometry.Height} science pixels, {geometry.AmpColumns * geometry.AmpRows} amplifiers; {n} per stage; {Environment.ProcessorCount} cores");
        foreach (var v in sim.Visits)
        {
            var frame = Measure(stages["simulate"], () => sim.SimulateFrame(v.Visit, 0));
            var bytes = Measure(stages["fits write"], () =>
            {
                using var ms = new MemoryStream();
                FitsFile.Write(ms, frame.Hdus);
                return ms.ToArray();
            });
            var hdus = Measure(stages["fits read"], () => FitsFile.Read(new MemoryStream(bytes, writable: false)));
            var flat = sim.CreateMasterFlat(0, v.Band);
            var result = Measure(stages["process (step 1)"], () => ProcessFrameTask.Run(new ProcessFrameInputs(
                RawFrame.FromImages(hdus), bias, flat, defects, RefsIn(v.Band), v.Visit, 0, v.Band)));
            Console.WriteLine($"  visit {v.Visit}: {frame.Sources.Count} sources simulated, {bytes.Length / 1e6:F1} MB FITS, "
                + (result.Unprocessable is null ? $"{result.Sources!.Rows.Count} sources measured" : "unprocessable: " + result.Unprocessable));
        }
        Console.WriteLine();
        Console.WriteLine($"{"stage",-18} {"mean s",8} {"min s",8} {"max s",8} {"alloc MB",9}");
        foreach (var (name, runs) in stages)
        {
            Console.WriteLine($"{name,-18} {runs.Average(r => r.Seconds),8:F2} {runs.Min(r => r.Seconds),8:F2} {runs.Max(r => r.Seconds),8:F2} {runs.Average(r => r.MegaBytes),9:F0}");
        }
    }

    private static T Measure<T>(List<(double, double)> into, Func<T> action)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var result = action();
        sw.Stop();
        into.Add((sw.Elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - before) / 1e6));
        return result;
    }
}
