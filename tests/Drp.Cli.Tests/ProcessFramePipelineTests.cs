using System.Text.Json;

namespace Drp.Cli.Tests;

/// <summary>
/// <c>drp process-frame</c> runs the configuration pipelines/drp.yaml gives, or the one <c>--pipeline FILE</c> gives:
/// a raised detection threshold finds far fewer sources on the same frame, and a bad key is refused with its file and
/// line before anything is read or written.
/// </summary>
public sealed class ProcessFramePipelineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-pfp-" + Guid.NewGuid().ToString("N")[..8]);

    private SimulatedFrameFiles Frame => new(_dir);

    private static string RepositoryPipeline()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "Serverless.Drp.sln")))
        {
            dir = dir.Parent;
        }
        return File.ReadAllText(Path.Combine(dir.FullName, "pipelines", "drp.yaml"));
    }

    private string WritePipeline(string name, string find, string replace)
    {
        string yaml = RepositoryPipeline();
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(yaml, System.Text.RegularExpressions.Regex.Escape(find)));
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml.Replace(find, replace, StringComparison.Ordinal));
        return path;
    }

    private static int Sources(string outDir)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "ccdvisit.json")));
        return summary.RootElement.GetProperty("nSources").GetInt32();
    }

    [Fact]
    public async Task ProcessFrame_PipelineWithTenSigmaDetection_FindsFarFewerSources()
    {
        Frame.Simulate();
        string tenSigma = WritePipeline("ten-sigma.yaml", "detection.thresholdSigma: 5.0", "detection.thresholdSigma: 10.0");
        string builtIn = Path.Combine(_dir, "five"), raised = Path.Combine(_dir, "ten");

        var five = await DrpProcess.RunDrpAsync(Frame.Arguments(builtIn));
        var ten = await DrpProcess.RunDrpAsync([.. Frame.Arguments(raised), "--pipeline", tenSigma]);

        Assert.True(five.Exit == 0, five.Err);
        Assert.True(ten.Exit == 0, ten.Err);
        int n5 = Sources(builtIn), n10 = Sources(raised);
        Assert.True(n10 > 0 && n10 < 0.7 * n5, $"{n10} sources at 10 sigma, {n5} at 5 sigma");
    }

    [Fact]
    public async Task ProcessFrame_PipelineNamingTheSameConfig_WritesByteIdenticalOutputs()
    {
        Frame.Simulate();
        string copy = WritePipeline("copy.yaml", "name: drp-dp02", "name: drp-dp02-copy");
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");

        var first = await DrpProcess.RunDrpAsync(Frame.Arguments(a));
        var second = await DrpProcess.RunDrpAsync([.. Frame.Arguments(b), "--pipeline", copy]);

        Assert.True(first.Exit == 0 && second.Exit == 0, first.Err + second.Err);
        foreach (var file in new[] { "calexp.fits", "source.parquet", "source.csv", "ccdvisit.json" })
        {
            Assert.True(File.ReadAllBytes(Path.Combine(a, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, file))), file);
        }
    }

    [Fact]
    public async Task ProcessFrame_PipelineWithAnUnknownKey_ExitsUsageNamingFileAndLineAndWritesNothing()
    {
        Frame.Simulate();
        string bad = WritePipeline("bad.yaml", "background.cellSize: 64", "background.binSize: 128");
        int line = File.ReadAllLines(bad).ToList().FindIndex(l => l.Contains("background.binSize", StringComparison.Ordinal)) + 1;
        string outDir = Path.Combine(_dir, "out");

        var (exit, _, err) = await DrpProcess.RunDrpAsync([.. Frame.Arguments(outDir), "--pipeline", bad]);

        Assert.Equal(2, exit);
        Assert.Contains($"{bad}:{line}: step 'step1' task 'characterizeImage' config: unknown config key 'background.binSize'", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
