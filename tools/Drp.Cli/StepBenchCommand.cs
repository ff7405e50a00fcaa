using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Drp.Local;
using Drp.Workflows;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Drp.Cli;

/// <summary>
/// <c>drp bench step</c>: a synthetic step of N jobs (<see cref="StepBench"/>) through the real chunked step
/// orchestrations with no-op activities, on the in-process test host or on the persistent engine (Azure Storage
/// backend on Azurite) with one or more worker processes on one task hub; prints jobs/s and the orchestration
/// overhead per job, and fails unless the fan-in summary accounts for every job. Figures go to docs/benchmarks.md.
/// <c>drp bench step-worker</c> (hidden) is the extra worker process it starts.
/// </summary>
internal static class StepBenchCommand
{
    private const string ReadyLine = "STEPWORKER READY";
    private const string DoneLine = "STEPWORKER DONE";
    private const string ConnectionVariable = "Drp__Storage__ConnectionString";
    private const string ProcessorCountVariable = "DOTNET_PROCESSOR_COUNT";
    private const int InProcessWorkItems = 64;
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var jobs = new Option<int>("--jobs") { Description = "Jobs in the step (one visit with one detector each).", DefaultValueFactory = _ => 10_000 };
        var perChunk = new Option<int>("--max-jobs-per-chunk") { Description = "Largest chunk.", DefaultValueFactory = _ => 1_000 };
        var engine = new Option<string>("--engine") { Description = "'inprocess' (Durable test host) or 'persistent' (Azure Storage backend on Azurite).", DefaultValueFactory = _ => "inprocess" };
        var workers = new Option<string>("--workers") { Description = "Worker processes on the task hub (persistent engine), e.g. 1, 2 or 1,2 (one run each, side by side).", DefaultValueFactory = _ => "1" };
        var cmd = new Command("step", "Run a synthetic step of N no-op jobs through the real step/chunk/job orchestrations; print jobs/s and overhead per job.") { jobs, perChunk, engine, workers };
        cmd.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(jobs), max = parse.GetValue(perChunk);
            string kind = parse.GetValue(engine)!;
            var counts = ParseWorkers(parse.GetValue(workers)!);
            if (n < 1 || max < 1 || counts is null || kind is not ("inprocess" or "persistent") || (kind == "inprocess" && counts.Any(c => c != 1)))
            {
                Console.Error.WriteLine("drp bench step: need --jobs >= 1, --max-jobs-per-chunk >= 1, --engine inprocess|persistent, "
                    + "--workers a list of counts 1..8 (the in-process engine has one worker)");
                return 2;
            }
            if (kind == "inprocess" && Environment.GetEnvironmentVariable(ProcessorCountVariable) is null)
            {
                // The in-process test host runs at most ProcessorCount work items at once and sleeps 500 ms when
                // full: on 2 cores the step would measure that sleep, not the orchestrations.
                Console.WriteLine($"drp bench step: running again with {ProcessorCountVariable}={InProcessWorkItems} (the test host's work-item limit)");
                var psi = SelfStartInfo(Environment.GetCommandLineArgs()[1..]);
                psi.Environment[ProcessorCountVariable] = InProcessWorkItems.ToString(CultureInfo.InvariantCulture);
                using var again = Process.Start(psi) ?? throw new InvalidOperationException("could not start drp again");
                await again.WaitForExitAsync(ct);
                return again.ExitCode;
            }
            return await RunAsync(n, max, kind, counts, ct);
        });
        return cmd;
    }

    public static Command CreateWorker()
    {
        var hub = new Option<string>("--task-hub") { Required = true };
        var jobs = new Option<int>("--jobs") { Required = true };
        var perChunk = new Option<int>("--max-jobs-per-chunk") { Required = true };
        var cmd = new Command("step-worker", "Extra worker process of drp bench step (reads the connection string from Drp__Storage__ConnectionString; stops when stdin closes).")
        {
            hub, jobs, perChunk,
        };
        cmd.Hidden = true;
        cmd.SetAction(async (parse, ct) =>
        {
            var connection = Environment.GetEnvironmentVariable(ConnectionVariable);
            if (string.IsNullOrWhiteSpace(connection))
            {
                Console.Error.WriteLine($"drp bench step-worker: set {ConnectionVariable}");
                return 2;
            }
            var plan = await StepBench.PlanAsync(parse.GetValue(jobs), parse.GetValue(perChunk), ct);
            var counters = new StepBenchCounters();
            using var host = BuildPersistentHost(connection, parse.GetValue(hub)!, plan, counters);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            await host.StartAsync(ct);
            Console.WriteLine(ReadyLine);
            await Console.In.ReadToEndAsync(ct); // the bench closes stdin when the step is done
            await host.StopAsync(CancellationToken.None);
            using var self = Process.GetCurrentProcess();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DoneLine} {counters.Activities} {(self.TotalProcessorTime - cpu).TotalSeconds:F2} {self.PeakWorkingSet64 / 1e6:F0}"));
            return 0;
        });
        return cmd;
    }

    private static int[]? ParseWorkers(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var counts = new List<int>();
        foreach (var p in parts)
        {
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c is < 1 or > 8)
            {
                return null;
            }
            counts.Add(c);
        }
        return counts.Count > 0 ? [.. counts] : null;
    }

    private static async Task<int> RunAsync(int jobs, int maxJobsPerChunk, string engine, int[] workerCounts, CancellationToken ct)
    {
        int cores = MachineCores();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drp bench step: {jobs:N0} step-1 jobs (one visit x one detector each), MaxJobsPerChunk {maxJobsPerChunk:N0}, engine {engine}; "
            + $"{cores} cores (.NET sees {Environment.ProcessorCount})"));
        Console.WriteLine("  real StepOrchestrator -> ChunkOrchestrator -> ProcessJobOrchestrator; the activities are stand-ins that do no science and no I/O "
            + "(LoadJob parses the in-memory plan blob, RunQuantum returns at once)");
        var clock = Stopwatch.StartNew();
        var plan = await StepBench.PlanAsync(jobs, maxJobsPerChunk, ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  planned {plan.Jobs:N0} jobs, {plan.Plan.Quanta:N0} quanta, {plan.Plan.Chunks.Count} chunks (largest {plan.Plan.Chunks.Max(c => c.Jobs):N0}) in {clock.Elapsed.TotalSeconds:F1} s"));

        var results = new List<RunFigures>();
        AzuriteHost? azurite = null;
        try
        {
            if (engine == "persistent")
            {
                azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
            }
            foreach (int w in workerCounts)
            {
                var figures = engine == "inprocess"
                    ? await RunInProcessAsync(plan, maxJobsPerChunk, ct)
                    : await RunPersistentAsync(azurite!, plan, maxJobsPerChunk, w, ct);
                var error = StepBench.CheckSummary(plan, figures.Summary);
                Print(figures, jobs, cores);
                if (error is not null)
                {
                    Console.Error.WriteLine($"drp bench step: {error}");
                    return 1;
                }
                results.Add(figures);
            }
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }
        }
        if (results.Count > 1)
        {
            Console.WriteLine();
            Console.WriteLine($"{"workers",7} {"wall s",8} {"jobs/s",8} {"x first",8} {"ms/job",8} {"core-ms/job",12} {"cpu-ms/job",11} {"azurite cpu-ms/job",19} {"activities per worker",24}");
            foreach (var r in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Workers,7} {r.Wall.TotalSeconds,8:F1} {jobs / r.Wall.TotalSeconds,8:F1} {results[0].Wall / r.Wall,8:F2} {r.Wall.TotalMilliseconds / jobs,8:F2} "
                    + $"{r.Wall.TotalMilliseconds * cores / jobs,12:F2} {r.CpuSeconds * 1000 / jobs,11:F2} {(r.StorageCpuSeconds is { } a ? (a * 1000 / jobs).ToString("F2", CultureInfo.InvariantCulture) : "-"),19} {string.Join(" / ", r.ActivitiesPerWorker),24}"));
            }
        }
        return 0;
    }

    private static void Print(RunFigures r, int jobs, int cores)
    {
        var s = r.Summary;
        string storage = r.StorageCpuSeconds is { } a
            ? string.Create(CultureInfo.InvariantCulture, $", {a * 1000 / jobs:F2} ms CPU in Azurite ({a / r.Wall.TotalSeconds:P0} of one core)")
            : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {r.Workers} worker(s): {s.Jobs:N0} jobs, {s.Chunks} chunks, {s.Counts.Units:N0} detector units succeeded {s.Counts.Succeeded:N0}, failed jobs {s.FailedJobs}; "
            + $"wall {r.Wall.TotalSeconds:F1} s, {jobs / r.Wall.TotalSeconds:F1} jobs/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    overhead per job: {r.Wall.TotalMilliseconds * cores / jobs:F2} core-ms (wall x {cores} cores / jobs), {r.Wall.TotalMilliseconds / jobs:F2} ms wall, "
            + $"{r.CpuSeconds * 1000 / jobs:F2} ms CPU (every worker process, engine included){storage}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    activities run per worker: {string.Join(" / ", r.ActivitiesPerWorker)}; peak working set per process MB: {string.Join(" / ", r.PeakMegabytes.Select(m => m.ToString("F0", CultureInfo.InvariantCulture)))}"));
    }

    private static async Task<RunFigures> RunInProcessAsync(StepBenchPlan plan, int maxJobsPerChunk, CancellationToken ct)
    {
        var counters = new StepBenchCounters();
        // The test host's sidecar logs every gRPC call at Information from configuration it builds itself.
        if (Environment.GetEnvironmentVariable("Logging__LogLevel__Default") is null)
        {
            Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        }
        await using var host = await InProcessTestHosts.StartAsync(tasks => StepBench.Register(tasks, plan, counters),
            new DurableTaskTestHostOptions { LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole(o => o.SingleLine = true)) }, ct);
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var summary = await StepBench.RunAsync(host.Client, "bench-step-inprocess", maxJobsPerChunk, p => ReportProgress(p, clock), s_progressInterval, ct);
        clock.Stop();
        self.Refresh();
        return new RunFigures(1, summary, clock.Elapsed, (self.TotalProcessorTime - cpu).TotalSeconds, [counters.Activities], [self.PeakWorkingSet64 / 1e6]);
    }

    private static async Task<RunFigures> RunPersistentAsync(AzuriteHost azurite, StepBenchPlan plan, int maxJobsPerChunk, int workers, CancellationToken ct)
    {
        string connection = azurite.ConnectionString;
        using var storage = Process.GetProcessById(azurite.ProcessId);
        // A fresh task hub per run, so runs share no history and no queued messages.
        string hub = "benchstep" + workers + Guid.NewGuid().ToString("N")[..8];
        var counters = new StepBenchCounters();
        using var host = BuildPersistentHost(connection, hub, plan, counters);
        await host.StartAsync(ct);
        var extra = new List<Process>();
        try
        {
            for (int i = 1; i < workers; i++)
            {
                extra.Add(await StartWorkerAsync(connection, hub, plan.Jobs, maxJobsPerChunk, ct));
            }
            Console.WriteLine($"  {workers} worker(s) on task hub {hub}: running");
            using var self = Process.GetCurrentProcess();
            var cpu = self.TotalProcessorTime;
            var storageCpu = storage.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var client = host.Services.GetRequiredService<DurableTaskClient>();
            var summary = await StepBench.RunAsync(client, "bench-step-" + hub, maxJobsPerChunk, p => ReportProgress(p, clock), s_progressInterval, ct);
            clock.Stop();
            self.Refresh();
            storage.Refresh();
            double cpuSeconds = (self.TotalProcessorTime - cpu).TotalSeconds;
            double storageCpuSeconds = (storage.TotalProcessorTime - storageCpu).TotalSeconds;
            var activities = new List<long>();
            var peaks = new List<double> { self.PeakWorkingSet64 / 1e6 };
            foreach (var p in extra)
            {
                var (a, c, m) = await StopWorkerAsync(p, ct);
                activities.Add(a);
                cpuSeconds += c; // the worker's CPU from its engine's start: includes its start-up
                peaks.Add(m);
            }
            activities.Insert(0, counters.Activities);
            return new RunFigures(workers, summary, clock.Elapsed, cpuSeconds, activities, peaks, storageCpuSeconds);
        }
        finally
        {
            foreach (var p in extra)
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }
                p.Dispose();
            }
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static IHost BuildPersistentHost(string connection, string hub, StepBenchPlan plan, StepBenchCounters counters)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddLocalDurableEngine(tasks => StepBench.Register(tasks, plan, counters), engine =>
        {
            engine.StorageConnectionString = connection;
            engine.TaskHubName = hub;
            engine.InfrastructureLogLevel = LogLevel.Error; // the backend's warnings (split brain, out-of-order messages) are normal with two workers
        });
        return builder.Build();
    }

    private static async Task<Process> StartWorkerAsync(string connection, string hub, int jobs, int maxJobsPerChunk, CancellationToken ct)
    {
        var psi = SelfStartInfo(["bench", "step-worker", "--task-hub", hub, "--jobs", jobs.ToString(CultureInfo.InvariantCulture),
            "--max-jobs-per-chunk", maxJobsPerChunk.ToString(CultureInfo.InvariantCulture)]);
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.Environment[ConnectionVariable] = connection;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the extra worker process");
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ready.CancelAfter(TimeSpan.FromMinutes(2));
        while (await p.StandardOutput.ReadLineAsync(ready.Token) is { } line)
        {
            if (line == ReadyLine)
            {
                return p;
            }
        }
        throw new InvalidOperationException($"the extra worker process exited ({(p.HasExited ? p.ExitCode : -1)}) before it was ready");
    }

    private static async Task<(long Activities, double CpuSeconds, double PeakMegabytes)> StopWorkerAsync(Process p, CancellationToken ct)
    {
        p.StandardInput.Close();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        done.CancelAfter(TimeSpan.FromMinutes(1));
        while (await p.StandardOutput.ReadLineAsync(done.Token) is { } line)
        {
            if (line.StartsWith(DoneLine, StringComparison.Ordinal))
            {
                var f = line[DoneLine.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                await p.WaitForExitAsync(done.Token);
                return (long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture));
            }
        }
        throw new InvalidOperationException("the extra worker process exited without its figures");
    }

    /// <summary>This program (the apphost, or <c>dotnet drp.dll</c>) with <paramref name="args"/>.</summary>
    private static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            psi.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // the assembly comes first
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    private static void ReportProgress(ChunkedStepProgress p, Stopwatch clock) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    {clock.Elapsed.TotalSeconds,6:F0} s: chunks {p.ChunksDone}/{p.ChunksTotal}, jobs {p.JobsDone:N0}/{p.JobsTotal:N0} done"));

    /// <summary>The machine's cores, even when DOTNET_PROCESSOR_COUNT makes .NET see another number.</summary>
    private static int MachineCores()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") is null || !File.Exists("/proc/cpuinfo"))
        {
            return Environment.ProcessorCount;
        }
        int n = File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal));
        return n > 0 ? n : Environment.ProcessorCount;
    }

    private sealed record RunFigures(int Workers, StepSummary Summary, TimeSpan Wall, double CpuSeconds, IReadOnlyList<long> ActivitiesPerWorker, IReadOnlyList<double> PeakMegabytes,
        double? StorageCpuSeconds = null);
}
