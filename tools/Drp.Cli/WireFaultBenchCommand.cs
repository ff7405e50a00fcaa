using System.CommandLine;
using System.Globalization;
using Drp.Local;
using Drp.Local.Faults;

namespace Drp.Cli;

/// <summary>One demo run behind the wire fault proxy (or none): its summary, the proxy's counters and its Parquet catalogs.</summary>
public sealed record WireFaultTrial(string Name, DemoSummary Summary, WireFaultCounters? Counters, IReadOnlyDictionary<string, byte[]> Catalogs)
{
    /// <summary>Attempts abandoned after 1 s (the proxy stalls for 1.5 s); waits short enough for tests and the benchmark.</summary>
    public static readonly IReadOnlyDictionary<string, string?> QuickResilience = new Dictionary<string, string?>
    {
        ["Drp:Storage:Resilience:AttemptTimeout"] = "00:00:01",
        ["Drp:Storage:Resilience:BaseDelay"] = "00:00:00.050",
        ["Drp:Storage:Resilience:MaxDelay"] = "00:00:01",
    };

    /// <summary>
    /// Runs the demo on a fresh in-memory Azurite, through the proxy at <paramref name="rate"/> for <paramref name="seed"/>
    /// (no proxy when the rate is 0). Every trial uses the same run name, so their Parquet files compare byte for byte.
    /// </summary>
    public static async Task<WireFaultTrial> RunAsync(string name, string outDir, double rate, int seed, int visits = 2, int detectors = 2, int size = 512,
        TextWriter? console = null, CancellationToken cancellationToken = default)
    {
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken);
        WireFaultNetwork? proxy = rate > 0
            ? WireFaultNetwork.Start(azurite, new WireFaultOptions { Rate = rate, Seed = seed, StallTime = TimeSpan.FromSeconds(1.5) })
            : null;
        try
        {
            var settings = new DemoSettings
            {
                OutDir = Path.Combine(outDir, name),
                Visits = visits,
                Detectors = detectors,
                DetectorSize = size,
                Seed = 11,
                Run = "wire",
                TaskHub = "wire",
                ConnectionString = proxy?.ConnectionString ?? azurite.ConnectionString,
                Timeout = TimeSpan.FromMinutes(10),
                Configuration = QuickResilience,
            };
            var summary = await new DemoRunner(settings, console ?? TextWriter.Null).RunAsync(cancellationToken);
            var catalogs = summary.Outputs.CatalogFiles.ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
            return new WireFaultTrial(name, summary, proxy?.Counters, catalogs);
        }
        finally
        {
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }
        }
    }

    /// <summary>True when this trial's catalogs are the other's, file for file and byte for byte, and its tables count the same rows.</summary>
    public bool SameCatalogsAs(WireFaultTrial other) =>
        Catalogs.Count == other.Catalogs.Count
        && Catalogs.All(kv => other.Catalogs.TryGetValue(kv.Key, out var b) && kv.Value.AsSpan().SequenceEqual(b))
        && Summary.Tables.Count == other.Summary.Tables.Count
        && Summary.Tables.All(kv => other.Summary.Tables.TryGetValue(kv.Key, out var t) && t == kv.Value);

    /// <summary>One line of figures: time, stages, requests and faults by kind, retries by client.</summary>
    public string Describe()
    {
        var s = Summary;
        string stages = string.Join(", ", s.TimingsSeconds.Select(kv => $"{kv.Key} {kv.Value:F1}"));
        string faults = Counters is null ? "no proxy"
            : $"{Counters.Requests} requests, {Counters.TotalFaults} faults ({string.Join(", ", Counters.Faults.Select(kv => $"{kv.Key} {kv.Value}"))})";
        string retries = string.Join(", ", s.Resilience.Select(kv => $"{kv.Key} {kv.Value.Retries}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {s.ElapsedSeconds:F1} s; quanta {s.Quanta.Succeeded}/{s.Quanta.Total} succeeded, {s.Quanta.Failed} failed; {faults}; retries {retries}; stages: {stages}");
    }
}

/// <summary>
/// <c>drp bench wire-faults</c>: the demo on a clean network and behind the wire fault proxy for each seed, side by
/// side in one run; prints each run's time, the faults the proxy injected by kind, the retries of each client, and
/// whether its catalogs are the clean run's byte for byte. Figures go to docs/benchmarks.md (reliability).
/// </summary>
internal static class WireFaultBenchCommand
{
    public static Command Create()
    {
        var rate = new Option<double>("--rate") { Description = "Share of requests that get a fault.", DefaultValueFactory = _ => 0.3 };
        var seeds = new Option<string>("--seeds") { Description = "Fault seeds, one faulty run each (comma-separated).", DefaultValueFactory = _ => "1,2,3" };
        var visits = new Option<int>("--visits") { Description = "Visits of the demo survey.", DefaultValueFactory = _ => 2 };
        var detectors = new Option<int>("--detectors") { Description = "Detectors per visit.", DefaultValueFactory = _ => 2 };
        var size = new Option<int>("--detector-size") { Description = "Pixels per side of a detector.", DefaultValueFactory = _ => 512 };
        var cmd = new Command("wire-faults", "The demo clean and behind the wire fault proxy, side by side: time, faults by kind, retries, identical catalogs.")
        {
            rate, seeds, visits, detectors, size,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var seedList = new List<int>();
            foreach (var part in parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, CultureInfo.InvariantCulture, out int seed))
                {
                    Console.Error.WriteLine($"drp bench wire-faults: --seeds must be integers, not '{part}'");
                    return 2;
                }
                seedList.Add(seed);
            }
            double r = parse.GetValue(rate);
            if (r is <= 0 or > 1)
            {
                Console.Error.WriteLine($"drp bench wire-faults: --rate must be in (0, 1], not {r}");
                return 2;
            }
            var dir = Directory.CreateTempSubdirectory("drp-wire-bench-").FullName;
            try
            {
                var (v, d, px) = (parse.GetValue(visits), parse.GetValue(detectors), parse.GetValue(size));
                Console.WriteLine($"demo: {v} visits x {d} detectors of {px} px; faults at {r:P0} of requests on every service; attempt timeout 1 s, stalls 1.5 s");
                var clean = await WireFaultTrial.RunAsync("clean", dir, 0, 0, v, d, px, cancellationToken: ct);
                Console.WriteLine(clean.Describe());
                bool allSame = true;
                foreach (int seed in seedList)
                {
                    var faulty = await WireFaultTrial.RunAsync($"seed {seed}", dir, r, seed, v, d, px, cancellationToken: ct);
                    bool same = faulty.SameCatalogsAs(clean);
                    allSame &= same;
                    Console.WriteLine(faulty.Describe());
                    Console.WriteLine($"  catalogs {(same ? "identical to" : "DIFFERENT from")} the clean run's ({faulty.Catalogs.Count} Parquet files); "
                        + $"{faulty.Summary.ElapsedSeconds / clean.Summary.ElapsedSeconds:F1}x the clean run's time");
                }
                return allSame ? 0 : 1;
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        });
        return cmd;
    }
}
