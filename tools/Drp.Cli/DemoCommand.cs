using System.CommandLine;

namespace Drp.Cli;

/// <summary><c>drp demo</c>: a small DRP on simulated images, end to end, on the embedded default or a configured account.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder (summary.json, catalogs/, sim/, azurite/).", DefaultValueFactory = _ => "drp-out" };
        var visits = new Option<int>("--visits") { Description = "Visits to simulate.", DefaultValueFactory = _ => 4 };
        var detectors = new Option<int>("--detectors") { Description = "Detectors per visit.", DefaultValueFactory = _ => 3 };
        var size = new Option<int>("--detector-size") { Description = "Science pixels per side of a simulated detector.", DefaultValueFactory = _ => 1024 };
        var seed = new Option<int>("--seed") { Description = "Simulation seed (same seed, same survey).", DefaultValueFactory = _ => 42 };
        var run = new Option<string>("--run") { Description = "Run collection the outputs are written to.", DefaultValueFactory = _ => "demo" };
        var taskHub = new Option<string>("--task-hub") { Description = "Durable task hub name.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("DRP_TASK_HUB") ?? "drp" };
        var verbose = CliErrors.Verbose;
        var faults = new Option<double>("--inject-faults") { Description = "Fraction (0..1) of the workers' Blob and Table requests that get an injected fault (429/503, dropped connection, slow response, truncated body).", DefaultValueFactory = _ => 0 };
        var faultSeed = new Option<int>("--fault-seed") { Description = "Seed of the injected faults.", DefaultValueFactory = _ => 1 };
        var cacheMb = new Option<long>("--cache-mb") { Description = "Byte budget of the workers' dataset cache in MiB (0 = off).", DefaultValueFactory = _ => 1024 };
        var cmd = new Command("demo", "Simulate a small survey, upload the raws, ingest them from their arrival events, run single-frame processing, write catalogs and summary.json.")
        {
            outDir, visits, detectors, size, seed, run, taskHub, faults, faultSeed, cacheMb,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var settings = new DemoSettings
            {
                OutDir = Path.GetFullPath(parse.GetValue(outDir)!),
                Visits = parse.GetValue(visits),
                Detectors = parse.GetValue(detectors),
                DetectorSize = parse.GetValue(size),
                Seed = parse.GetValue(seed),
                Run = parse.GetValue(run)!,
                TaskHub = parse.GetValue(taskHub)!,
                Verbose = parse.GetValue(verbose),
                InjectFaults = parse.GetValue(faults),
                FaultSeed = parse.GetValue(faultSeed),
                CacheMaxBytes = Math.Max(0, parse.GetValue(cacheMb)) * 1024 * 1024,
                ConnectionString = Environment.GetEnvironmentVariable("Drp__Storage__ConnectionString"),
            };
            try
            {
                var summary = await new DemoRunner(settings, Console.Out).RunAsync(ct);
                return summary.Quanta.Failed == 0 ? 0 : 1;
            }
            catch (DemoException e)
            {
                Console.Error.WriteLine($"drp demo: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
