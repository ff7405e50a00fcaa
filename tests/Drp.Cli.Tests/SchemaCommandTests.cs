namespace Drp.Cli.Tests;

/// <summary><c>drp schema</c> prints the schema as Markdown; docs/catalog-schema.md is its output and must stay current.</summary>
public sealed class SchemaCommandTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.Drp.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Serverless.Drp.sln not found above the test's directory");
    }

    [Fact]
    public async Task Schema_PrintsMarkdown_AndDocsAreCurrent()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("schema");

        Assert.True(exit == 0, stderr);
        Assert.Contains("## Source\n", stdout);
        Assert.Contains("| `coord_ra` | double | deg | pos.eq.ra;meta.main | no |", stdout);
        string docs = await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "docs", "catalog-schema.md"));
        Assert.True(docs == stdout, "docs/catalog-schema.md is stale: regenerate it with `dotnet run --project tools/Drp.Cli -- schema --out docs/catalog-schema.md`");
    }

    [Fact]
    public async Task Schema_OneTable_PrintsOnlyThatTable()
    {
        var (exit, stdout, _) = await DrpProcess.RunDrpAsync("schema", "--table", "CcdVisit");

        Assert.Equal(0, exit);
        Assert.StartsWith("## CcdVisit\n", stdout);
        Assert.DoesNotContain("## Source", stdout);
        Assert.DoesNotContain("## Visit\n", stdout);
    }

    [Fact]
    public async Task Schema_BadFile_ExitsTwoNamingFileAndLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bad-schema-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, "name: x\ntables:\n  - name: T\n    description: t\n    primaryKey: \"#T.id\"\n    \"drp:partitionKey\": [id]\n    \"drp:qserv\": replicated\n    columns:\n      - name: id\n        datatype: long\n        nullable: false\n        description: \"\"\n");
        try
        {
            var (exit, _, stderr) = await DrpProcess.RunDrpAsync("schema", "--file", path);

            Assert.Equal(2, exit);
            Assert.Contains($"{path}:9: table T column id: 'description' is required", stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
