using System.Text.Json.Nodes;

namespace Drp.Infra.Tests;

/// <summary>
/// An ARM template compiled by <c>bicep build</c>, with its resources found at any depth (modules compile to nested
/// deployments; language version 2.0 keeps resources in objects keyed by symbolic name).
/// </summary>
public sealed class CompiledTemplate
{
    private CompiledTemplate(JsonNode root) => Root = root;

    /// <summary>The whole template.</summary>
    public JsonNode Root { get; }

    /// <summary>Every resource declaration (an object with "type" and "apiVersion"), nested templates included.</summary>
    public IEnumerable<JsonObject> Resources => Walk(Root).Where(o => o["type"] is JsonValue && o["apiVersion"] is JsonValue);

    /// <summary>The resources of one type (case-insensitive) that the template deploys (references to existing ones left out).</summary>
    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase) && r["existing"] is null);

    /// <summary>Compiles a Bicep file to a temporary file and parses it; throws with the compiler's output on failure.</summary>
    public static async Task<CompiledTemplate> BuildAsync(string bicepFile)
    {
        string outFile = Path.Combine(Path.GetTempPath(), $"drp-infra-{Guid.NewGuid():N}.json");
        try
        {
            var result = await Tool.BicepAsync("build", bicepFile, "--outfile", outFile);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"bicep build {bicepFile} failed:\n{result.Output}");
            }
            return new CompiledTemplate(JsonNode.Parse(await File.ReadAllTextAsync(outFile))!);
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    private static IEnumerable<JsonObject> Walk(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                yield return o;
                foreach (var (_, child) in o)
                {
                    foreach (var x in Walk(child))
                    {
                        yield return x;
                    }
                }
                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    foreach (var x in Walk(child))
                    {
                        yield return x;
                    }
                }
                break;
        }
    }
}

/// <summary>main.bicep compiled once for the tests of this collection.</summary>
public sealed class MainTemplateFixture : IAsyncLifetime
{
    /// <summary>The compiled infra/main.bicep.</summary>
    public CompiledTemplate Template { get; private set; } = null!;

    /// <inheritdoc />
    public async Task InitializeAsync() => Template = await CompiledTemplate.BuildAsync(Repo.PathOf("infra", "main.bicep"));

    /// <inheritdoc />
    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>Shares one compiled main.bicep.</summary>
[CollectionDefinition(Name)]
public sealed class MainTemplateCollection : ICollectionFixture<MainTemplateFixture>
{
    /// <summary>Collection name.</summary>
    public const string Name = "Main template";
}
