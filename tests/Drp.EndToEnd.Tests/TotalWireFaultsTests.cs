using System.Diagnostics;
using Azure.Storage.Queues;
using Drp.Local;
using Drp.Local.Faults;
using Drp.Storage;
using Drp.Storage.Registry;
using Drp.TestSupport;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// Every storage request failing (the wire fault proxy at 100 %): <c>drp demo</c>, <c>drp worker</c> and the
/// <c>Drp.Jobs</c> runner each end within their total timeout (5 s here) with exit code 5 and one line that says the
/// storage kept failing, no stack trace; nothing is recorded as succeeded and no output is written.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TotalWireFaultsTests(AzuriteFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-total-faults-").FullName;

    private static Dictionary<string, string> Environment(string connectionString) => new()
    {
        ["Drp__Storage__ConnectionString"] = connectionString,
        ["Drp__Storage__Resilience__TotalTimeout"] = "00:00:05",
        ["Drp__Storage__Resilience__AttemptTimeout"] = "00:00:01",
        ["Drp__Storage__Resilience__BaseDelay"] = "00:00:00.050",
        ["Drp__Storage__Resilience__MaxDelay"] = "00:00:00.500",
    };

    private WireFaultNetwork AllFailing() =>
        WireFaultNetwork.Start(fixture.Azurite, new WireFaultOptions { Rate = 1, Seed = 9, StallTime = TimeSpan.FromSeconds(1.5) });

    [Theory]
    [InlineData("demo")]
    [InlineData("worker")]
    [InlineData("jobs")]
    public async Task EveryRequestFailing_EndsWithinTheTotalTimeout_ExitFiveAndOneLine(string program)
    {
        var (storage, suffix) = await fixture.Azurite.NewIsolatedStorageAsync();
        await using var proxy = AllFailing();
        var env = Environment(proxy.ConnectionString);
        string run = "total" + suffix;
        (string Dll, string[] Args) command = program switch
        {
            "demo" => ("drp.dll", ["demo", "--out", Path.Combine(_dir, "demo"), "--run", run, "--visits", "1", "--detectors", "1", "--detector-size", "256"]),
            "worker" => ("drp.dll", ["worker", "--task-hub", "total" + suffix[..6]]),
            _ => ("Drp.Jobs.dll", []),
        };
        if (program == "jobs")
        {
            env["Drp__Storage__LedgerTable"] = storage.Options.LedgerTable;
            env["Drp__Jobs__MemoryClass"] = "standard";
            env["Drp__Jobs__Queue"] = "jobs" + suffix;
            await new QueueClient(fixture.ConnectionString, "jobs" + suffix).CreateIfNotExistsAsync();
        }
        var watch = Stopwatch.StartNew();

        var (exit, stdout, stderr) = await RunAsync(command.Dll, command.Args, env, TimeSpan.FromMinutes(2));
        output.WriteLine($"{program}: exit {exit} after {watch.Elapsed.TotalSeconds:F1} s\n{stdout}\n{stderr}");

        Assert.Equal(5, exit);
        Assert.Matches(@"(drp demo|drp worker|drp-jobs): storage (kept failing|unreachable)", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("   at ", stdout);
        // A few calls in sequence, each bounded by its 5 s (plus one 1 s attempt), never the default 3 min.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"{watch.Elapsed}");
        Assert.True(proxy.Counters.TotalFaults > 0);
        Assert.DoesNotContain(await new QuantumLedger(storage.Ledger).ListAsync(run), q => q.State == QuantumState.Succeeded);
        await foreach (var blob in storage.DataContainer.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, run + "/", default))
        {
            Assert.Fail($"an output was written: {blob.Name}");
        }
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(string dll, string[] args, IReadOnlyDictionary<string, string> env, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{dll} {string.Join(' ', args)} did not end within {timeout}");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
