using System.Text.Json.Nodes;

namespace Drp.Infra.Tests;

/// <summary>bicep build and bicep lint of the real templates with the repository's bicepconfig.json (findings are errors).</summary>
public sealed class BicepTests
{
    public static TheoryData<string> Environments => new() { "dev", "prod" };

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task BuildParams_EachEnvironment_CompilesWithoutDiagnostics(string environment)
    {
        string outFile = Path.Combine(Path.GetTempPath(), $"drp-{environment}-{Guid.NewGuid():N}.parameters.json");
        try
        {
            var result = await Tool.BicepAsync("build-params", Repo.PathOf("infra", "env", $"{environment}.bicepparam"), "--outfile", outFile);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.True(result.Output.Trim().Length == 0, $"bicep printed diagnostics:\n{result.Output}");
            var parameters = JsonNode.Parse(await File.ReadAllTextAsync(outFile))!["parameters"]!.AsObject();
            Assert.Equal(environment, (string?)parameters["environmentName"]!["value"]);
            Assert.Equal(3, parameters["memoryClasses"]!["value"]!.AsArray().Count);
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    [Fact]
    public async Task BuildMain_CompilesWithoutDiagnostics()
    {
        string outFile = Path.Combine(Path.GetTempPath(), $"drp-main-{Guid.NewGuid():N}.json");
        try
        {
            var result = await Tool.BicepAsync("build", Repo.PathOf("infra", "main.bicep"), "--outfile", outFile);

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.True(result.Output.Trim().Length == 0, $"bicep printed diagnostics:\n{result.Output}");
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    [Theory]
    [InlineData("infra/main.bicep")]
    [InlineData("infra/env/dev.bicepparam")]
    [InlineData("infra/env/prod.bicepparam")]
    public async Task Lint_ReportsNothing(string file)
    {
        var result = await Tool.BicepAsync("lint", Repo.PathOf(file.Split('/')));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.True(result.Output.Trim().Length == 0, $"bicep lint findings:\n{result.Output}");
    }

    [Fact]
    public async Task Lint_WithRepositoryConfig_FailsOnAFinding()
    {
        // A template with an unused parameter, next to a copy of the repository's bicepconfig.json: lint must fail.
        string dir = Directory.CreateTempSubdirectory("drp-lint-").FullName;
        try
        {
            File.Copy(Repo.PathOf("bicepconfig.json"), Path.Combine(dir, "bicepconfig.json"));
            string file = Path.Combine(dir, "flawed.bicep");
            await File.WriteAllTextAsync(file, "@description('never used')\nparam unused string\n");

            var result = await Tool.BicepAsync("lint", file);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("Error no-unused-params", result.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BicepConfig_EveryConfiguredRule_IsAnError()
    {
        var rules = JsonNode.Parse(File.ReadAllText(Repo.PathOf("bicepconfig.json")))!["analyzers"]!["core"]!["rules"]!.AsObject();

        Assert.True(rules.Count >= 35, $"only {rules.Count} rules configured");
        Assert.All(rules, r => Assert.Equal("error", (string?)r.Value!["level"]));
        Assert.Equal("error", (string?)rules["use-recent-api-versions"]!["level"]);
    }
}
