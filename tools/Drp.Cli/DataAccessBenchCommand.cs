using System.CommandLine;
using System.Diagnostics;
using Drp.Local;
using Drp.Pipeline.Fits;
using Drp.Storage;
using Drp.Storage.Caching;
using Drp.Core.Datasets;
using Drp.Storage.Datasets;
using Drp.Storage.Resilience;

namespace Drp.Cli;

/// <summary>
/// <c>drp bench data</c>: the coadd access pattern (M calexps, each read as a header plus bands of rows) against an
/// in-memory Azurite, with the cache off and on, with and without injected faults; prints GETs, bytes, cache hits and
/// misses, retries and seconds per scenario, and whether every scenario read the same pixels.
/// </summary>
internal static class DataAccessBenchCommand
{
    public static Command Create()
    {
        var inputs = new Option<int>("--inputs") { Description = "Input images (M).", DefaultValueFactory = _ => 16 };
        var size = new Option<int>("--size") { Description = "Pixels per side of each input.", DefaultValueFactory = _ => 1024 };
        var band = new Option<int>("--band-rows") { Description = "Rows per range read.", DefaultValueFactory = _ => 64 };
        var rate = new Option<double>("--fault-rate") { Description = "Injected fault rate of the faulty scenarios.", DefaultValueFactory = _ => 0.2 };
        var cmd = new Command("data", "Coadd-pattern reads (header + row bands) of M inputs: cache off/on, with and without injected faults.") { inputs, size, band, rate };
        cmd.SetAction(async (parse, ct) =>
        {
            int m = parse.GetValue(inputs), px = parse.GetValue(size), rows = parse.GetValue(band);
            double r = parse.GetValue(rate);
            if (m < 1 || px < 8 || rows < 1 || rows > px || !(r is >= 0 and < 1))
            {
                Console.Error.WriteLine("drp bench data: need --inputs >= 1, --size >= 8, 1 <= --band-rows <= --size, 0 <= --fault-rate < 1");
                return 2;
            }
            await RunAsync(m, px, rows, r, ct);
            return 0;
        });
        return cmd;
    }

    private static async Task RunAsync(int m, int px, int bandRows, double rate, CancellationToken ct)
    {
        await using var azurite = await AzuriteHost.StartAsync(cancellationToken: ct);
        string suffix = Guid.NewGuid().ToString("N")[..8];
        var options = new DrpStorageOptions { ConnectionString = azurite.ConnectionString, DataContainer = "bench" + suffix };
        var setup = new StorageClients(options);
        await setup.DataContainer.CreateIfNotExistsAsync(cancellationToken: ct);
        var rng = new Random(1);
        for (int i = 0; i < m; i++)
        {
            var pixels = new float[px * px];
            for (int k = 0; k < pixels.Length; k++)
            {
                pixels[k] = (float)rng.NextDouble();
            }
            using var ms = new MemoryStream();
            FitsFile.Write(ms, [new FitsImage(px, px, FitsBitpix.Float32, pixels: pixels)]);
            await setup.Data.WriteAsync(DatasetType.Calexp, Id(i), "bench", ms.ToArray(), $"bench-{i}", "application/fits", ct);
        }
        int chunks = (px + bandRows - 1) / bandRows;
        Console.WriteLine($"inputs: {m} calexps of {px} x {px} float32 ({px * px * 4 / 1e6:F1} MB each), read as a header + {chunks} bands of {bandRows} rows; {Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-24} {"GETs",7} {"MB read",8} {"hits",6} {"misses",7} {"retries",8} {"faults",7} {"seconds",8}  same pixels");
        float[][]? reference = null;
        string cacheRoot = Path.Combine(Path.GetTempPath(), "drp-bench-cache-" + suffix);
        try
        {
            foreach (var (name, cached, faultRate) in new[] { ("cache off", false, 0.0), ("cache on", true, 0.0), ($"cache off, {rate:P0} faults", false, rate), ($"cache on, {rate:P0} faults", true, rate) })
            {
                if (Directory.Exists(cacheRoot))
                {
                    Directory.Delete(cacheRoot, recursive: true);
                }
                var clients = new StorageClients(options, new StorageResilienceOptions { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(200) },
                    cached ? new DatasetCacheOptions { Root = cacheRoot, MaxBytes = 4L << 30 } : new DatasetCacheOptions { MaxBytes = 0 },
                    faultRate > 0 ? new FaultInjectionOptions { Rate = faultRate, Seed = 3, RetryAfter = TimeSpan.FromMilliseconds(10) } : null);
                var sw = Stopwatch.StartNew();
                var images = new float[m][];
                for (int i = 0; i < m; i++)
                {
                    images[i] = await FitsRowBandReader.ReadImageAsync(clients.Data, DatasetType.Calexp, Id(i), "bench", bandRows, ct);
                }
                sw.Stop();
                reference ??= images;
                bool same = images.Zip(reference).All(p => p.First.AsSpan().SequenceEqual(p.Second));
                var c = clients.Metrics.Get("calexp");
                Console.WriteLine($"{name,-24} {c.Gets,7} {c.BytesRead / 1e6,8:F1} {c.CacheHits,6} {c.CacheMisses,7} {c.Retries,8} {clients.BlobFaults?.InjectedTotal ?? 0,7} {sw.Elapsed.TotalSeconds,8:F2}  {(same ? "yes" : "NO")}");
            }
        }
        finally
        {
            if (Directory.Exists(cacheRoot))
            {
                Directory.Delete(cacheRoot, recursive: true);
            }
        }
        Console.WriteLine();
        Console.WriteLine($"expected GETs: cache on = M = {m}; cache off = M x (chunks + 1 header) = {m * (chunks + 1)}");
    }

    private static DataId Id(int i) => new("BenchCam", 1000 + i, i);
}
