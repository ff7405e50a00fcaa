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
