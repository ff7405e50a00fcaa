using System.Text.RegularExpressions;

namespace Drp.Infra.Tests;

/// <summary>
/// Docker cannot run here, so the Dockerfile's inputs are checked instead: its shape (multi-stage, runtime image,
/// non-root) and its publish command, read from the Dockerfile and run as it is written there.
/// </summary>
public sealed partial class JobsImageTests
{
    private static readonly string Dockerfile = Repo.PathOf("functions", "Drp.Jobs", "Dockerfile");

    [Fact]
    public void Dockerfile_IsMultiStageOnTheRuntimeImageAsNonRoot()
    {
        var lines = File.ReadAllLines(Dockerfile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        int finalStage = lines.IndexOf(froms[^1]);

        Assert.Equal(2, froms.Count);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0", froms[0]);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime:10.0", froms[^1]);
        Assert.Contains(lines.Skip(finalStage), l => l == "USER $APP_UID");
        Assert.Contains(lines.Skip(finalStage), l => l.StartsWith("COPY --from=build", StringComparison.Ordinal));
        Assert.Equal("ENTRYPOINT [\"dotnet\", \"Drp.Jobs.dll\"]", lines[^1]);
    }

    [Fact]
    public async Task DockerfilePublishCommand_Succeeds()
    {
        // The Dockerfile's own "RUN dotnet publish <project> -c <configuration> ..." with the output redirected.
        var run = File.ReadAllLines(Dockerfile).Select(l => PublishLine().Match(l)).Single(m => m.Success);
        string project = run.Groups["project"].Value;
        string configuration = run.Groups["configuration"].Value;
        Assert.Equal("Release", configuration);
        string output = Directory.CreateTempSubdirectory("drp-jobs-publish-").FullName;
        try
        {
            var result = await Tool.RunAsync("dotnet", ["publish", project, "-c", configuration, "-o", output, "--nologo"], Repo.Root, TimeSpan.FromMinutes(15));

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.True(File.Exists(Path.Combine(output, "Drp.Jobs.dll")), "Drp.Jobs.dll was not published");
            Assert.True(File.Exists(Path.Combine(output, "Drp.Jobs.runtimeconfig.json")), "no runtimeconfig: not a framework-dependent app");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [GeneratedRegex(@"^RUN dotnet publish (?<project>\S+) -c (?<configuration>\S+) ")]
    private static partial Regex PublishLine();
}
