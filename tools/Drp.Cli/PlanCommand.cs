using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Drp.Core.Planning;
using Drp.Workflows.Planning;

namespace Drp.Cli;

/// <summary>
/// <c>drp plan</c>: plans steps of the pipeline (quanta, jobs, chunks) from the Registry, or from a simulated survey
/// at DP0.2's scale (<c>--simulate-survey dp02</c>), and prints counts, wall time and peak memory. Nothing is stored:
/// the jobs stream through and are counted, the way a step orchestration consumes them chunk by chunk.
/// </summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var simulate = new Option<string?>("--simulate-survey") { Description = "Plan a simulated survey instead of the Registry: 'dp02' (19,852 visits x 150 of 189 detectors; 157 tracts x 49 patches x 6 bands)." };
        var steps = new Option<string>("--steps") { Description = "Steps to plan, comma-separated.", DefaultValueFactory = _ => "step1,step3" };
        var pipeline = new Option<string?>("--pipeline") { Description = "Pipeline YAML (default: pipelines/drp.yaml as built into drp)." };
        var instrument = new Option<string>("--instrument") { Description = "Instrument (Registry planning).", DefaultValueFactory = _ => "LSSTCam" };
        var warps = new Option<int>("--visits-per-patch-band") { Description = "Simulated visits overlapping each patch in each band (step 3 warps).", DefaultValueFactory = _ => SyntheticSurvey.Dp02.VisitsPerPatchBand };
        var cmd = new Command("plan", "Plan steps into quanta, jobs and chunks (streaming) and report counts, time and peak memory.")
        {
            simulate, steps, pipeline, instrument, warps,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            PipelineDefinition definition;
            try
            {
                definition = parse.GetValue(pipeline) is { } path ? PipelineDefinitionLoader.Load(path) : PipelineDefinitionLoader.LoadDefault();
            }
            catch (PipelineDefinitionException e)
            {
                Console.Error.WriteLine($"drp plan: {e.Message}");
                return 2;
            }
            var stepNames = parse.GetValue(steps)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = stepNames.Where(s => definition.Steps.All(d => d.Name != s)).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"drp plan: unknown step(s) {string.Join(", ", unknown)} (pipeline '{definition.Name}' has {string.Join(", ", definition.Steps.Select(s => s.Name))})");
                return 2;
            }

            IDataIdReader reader;
            string inst;
            switch (parse.GetValue(simulate)?.ToLowerInvariant())
            {
                case "dp02":
                    var survey = SyntheticSurvey.Dp02 with { VisitsPerPatchBand = parse.GetValue(warps) };
                    reader = new SyntheticSurveyReader(survey);
                    inst = survey.Instrument;
                    Console.WriteLine($"simulated survey dp02: {survey.Visits:N0} visits x {survey.DetectorsPerVisit} of {survey.Detectors} detectors; "
                        + $"{survey.Tracts} tracts x {survey.PatchesPerTract} patches x {survey.Bands.Count} bands, {survey.VisitsPerPatchBand} visits per patch and band");
                    break;
                case null:
                    var connection = Environment.GetEnvironmentVariable("Drp__Storage__ConnectionString");
                    if (string.IsNullOrWhiteSpace(connection))
                    {
                        Console.Error.WriteLine("drp plan: give --simulate-survey dp02, or set Drp__Storage__ConnectionString to plan from the Registry");
                        return 2;
                    }
                    var table = Environment.GetEnvironmentVariable("Drp__Storage__RegistryTable") ?? "DrpRegistry";
                    reader = new RegistryDataIdReader(new TableClient(connection, table));
                    inst = parse.GetValue(instrument)!;
                    break;
                case var other:
                    Console.Error.WriteLine($"drp plan: --simulate-survey must be 'dp02', not '{other}'");
                    return 2;
            }

            Console.WriteLine($"pipeline {definition.Name} ({definition.Source}); {Environment.ProcessorCount} cores");
            var planner = new QuantumPlanner(definition);
            var total = Stopwatch.StartNew();
            long peakHeap = 0;
            foreach (var name in stepNames)
            {
                var step = definition.Step(name);
                var perTask = step.Units.ToDictionary(u => u.Name, _ => 0L); // a fused group is one unit of execution
                var perMemory = new SortedDictionary<MemoryClass, long>();
                long jobs = 0, quanta = 0, chunks = 0, largestJob = 0, largestChunk = 0;
                var sw = Stopwatch.StartNew();
                await foreach (var chunk in QuantumPlanner.ChunkAsync(planner.PlanAsync(name, inst, reader, ct), step.MaxJobsPerChunk, ct))
                {
                    chunks++;
                    largestChunk = Math.Max(largestChunk, chunk.Jobs.Count);
                    foreach (var job in chunk.Jobs)
                    {
                        jobs++;
                        quanta += job.Quanta.Count;
                        largestJob = Math.Max(largestJob, job.Quanta.Count);
                        perMemory[job.Memory] = perMemory.GetValueOrDefault(job.Memory) + 1;
                        foreach (var q in job.Quanta)
                        {
                            perTask[q.Task]++;
                        }
                    }
                    // sampled while a chunk (the most the planner ever holds) is alive
                    peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                }
                sw.Stop();
                Console.WriteLine($"{name}: {quanta:N0} quanta, {jobs:N0} jobs (cluster {string.Join(", ", step.Cluster)}; largest {largestJob:N0} quanta), "
                    + $"{chunks:N0} chunks (MaxJobsPerChunk {step.MaxJobsPerChunk:N0}; largest {largestChunk:N0}), {sw.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
                Console.WriteLine($"  quanta per unit (task or fused group): {string.Join(", ", perTask.Select(kv => $"{kv.Key} {kv.Value:N0}"))}");
                Console.WriteLine($"  jobs per memory class: {string.Join(", ", perMemory.Select(kv => $"{kv.Key} {kv.Value:N0}"))}");
            }
            total.Stop();
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            Console.WriteLine($"total {total.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s; peak managed heap (sampled per chunk) {peakHeap / 1048576.0:N0} MB; "
                + $"peak working set {self.PeakWorkingSet64 / 1048576.0:N0} MB; allocated {GC.GetTotalAllocatedBytes() / 1048576.0:N0} MB in all");
            return 0;
        });
        return cmd;
    }
}
