namespace Drp.Cli.Tests;

/// <summary>
/// An error no command handles ends at the edge of <c>drp</c>: one line that says what failed and what to do, a
/// documented exit code (2 bad input, 5 storage unavailable, 1 internal), and a stack trace only with --verbose.
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-errors-").FullName;

    /// <summary>The development account's well-known key on a port where nothing listens.</summary>
    private const string Unreachable = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        + "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        + "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";

    private static void AssertNoStackTrace(string stderr) => Assert.DoesNotContain("   at ", stderr);

    [Fact]
    public async Task Accounting_StorageUnreachable_ExitsFiveNamingTheStorageWithoutAStackTrace()
    {
        var (exit, _, err) = await DrpProcess.RunDrpWithEnvironmentAsync(new Dictionary<string, string> { ["Drp__Storage__ConnectionString"] = Unreachable },
            "accounting", "--run", "r1");

        Assert.Equal(5, exit);
        Assert.Contains("drp accounting: storage unreachable: Connection refused (is Azurite or the account up? Drp__Storage__ConnectionString)", err);
        AssertNoStackTrace(err);
    }

    [Theory]
    [InlineData("accounting", "--run", "r1")]
    [InlineData("status", "--run", "r1")]
    public async Task OperatorCommand_BadConnectionString_ExitsTwoSayingSoWithoutAStackTrace(params string[] args)
    {
        var (exit, _, err) = await DrpProcess.RunDrpWithEnvironmentAsync(new Dictionary<string, string> { ["Drp__Storage__ConnectionString"] = "not a connection string" }, args);

        Assert.Equal(2, exit);
        Assert.Contains($"drp {args[0]}: Drp__Storage__ConnectionString is not a storage connection string", err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public async Task Plan_MissingPipelineFile_ExitsTwoNamingTheFile()
    {
        string missing = Path.Combine(_dir, "nowhere.yaml");

        var (exit, _, err) = await DrpProcess.RunDrpAsync("plan", "--simulate-survey", "dp02", "--pipeline", missing);

        Assert.Equal(2, exit);
        Assert.Contains($"drp plan: no such file: {missing}", err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public async Task Plan_InvalidPipeline_ExitsTwoWithItsFileAndLine()
    {
        string bad = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(bad, "name: bad\ninputs: [raw]\nsteps: []\n");

        var (exit, _, err) = await DrpProcess.RunDrpAsync("plan", "--simulate-survey", "dp02", "--pipeline", bad);

        Assert.Equal(2, exit);
        Assert.Contains($"drp plan: {bad}:", err); // file:line: where: problem
        AssertNoStackTrace(err);
    }

    [Fact]
    public async Task Demo_AzuriteNotInstalled_ExitsTwoSayingRunNpmCi()
    {
        // A repository root with its package.json but no node_modules: as on a machine where npm ci never ran.
        string root = Path.Combine(_dir, "repo");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, "package.json"), "{}");

        var (exit, _, err) = await DrpProcess.RunDrpWithEnvironmentAsync(new Dictionary<string, string> { ["DRP_REPOSITORY_ROOT"] = root },
            "demo", "--out", Path.Combine(_dir, "out"));

        Assert.Equal(2, exit);
        Assert.Contains($"drp demo: Azurite is not installed under '{root}'", err);
        Assert.Contains("run npm ci at the repository root", err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public async Task Worker_ApiPortInUse_ExitsTwoNamingThePort()
    {
        await using var azurite = await Drp.Local.AzuriteHost.StartAsync();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, _, err) = await DrpProcess.RunDrpWithEnvironmentAsync(new Dictionary<string, string> { ["Drp__Storage__ConnectionString"] = azurite.ConnectionString },
            "worker", "--task-hub", "porttest", "--api-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(2, exit);
        Assert.Contains("drp worker: a port is in use:", err);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), err);
        AssertNoStackTrace(err);
    }

    [Fact]
    public async Task Demo_Interrupted_ExitsOneThirtyInOneLine_AndTheSameCommandResumes()
    {
        string outDir = Path.Combine(_dir, "interrupted");
        // Big enough frames that the demo is far from done when the signal lands, on a loaded machine too.
        string[] args = ["demo", "--out", outDir, "--visits", "3", "--detectors", "2", "--detector-size", "1024"];
        // Through env --default-signal: a test run started in the background (`&` without job control) ignores SIGINT,
        // and the child would inherit that and never see the Ctrl+C. env execs, so p.Id is drp's own process.
        var psi = new System.Diagnostics.ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(DrpProcess.DrpDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        // Ctrl+C (SIGINT) once the simulation has written its first raw.
        string? line;
        while ((line = await p.StandardOutput.ReadLineAsync()) is not null && !line.Contains("raw 1/", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        var rest = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        string err = await stderr;

        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}; after the signal: {await rest}\n{err}");
        Assert.Contains("drp demo: interrupted (Ctrl+C)", err);
        AssertNoStackTrace(err);
        // The same command again: it finishes, every raw processed.
        var (exit, stdout, err2) = await DrpProcess.RunDrpAsync(args);
        Assert.True(exit == 0, err2);
        Assert.Contains("6 uploaded, 6 registered, 0 rejected", stdout);
    }

    [Fact]
    public async Task AnyCommand_Verbose_AddsTheStackTrace()
    {
        var (exit, _, err) = await DrpProcess.RunDrpWithEnvironmentAsync(new Dictionary<string, string> { ["Drp__Storage__ConnectionString"] = "not a connection string" },
            "accounting", "--run", "r1", "--verbose");

        Assert.Equal(2, exit);
        Assert.Contains("System.FormatException", err);
        Assert.Contains("   at ", err);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
