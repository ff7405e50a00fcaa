using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Drp.Storage;

namespace Drp.Infra.Tests;

/// <summary>
/// The settings contract between code and infrastructure. Code side: the options classes (by reflection), binding
/// expressions (%Name%) and connection names of the Functions triggers, host.json, and configuration indexer reads of
/// Drp keys in the sources. Infrastructure side: the Function App's app settings and each container job's env, from
/// the compiled Bicep. Settings are named as environment variables (":" becomes "__").
/// </summary>
public static partial class SettingsContract
{
    /// <summary>Read by the code locally only; Azure must never get them (no connection strings in Azure).</summary>
    public static readonly IReadOnlySet<string> LocalOnly = new HashSet<string> { "Drp__Storage__ConnectionString", "Drp__Jobs__ServiceBusConnectionString" };

    /// <summary>
    /// Read by Drp.Jobs only when its jobs come from Storage queues (no Service Bus set): Azure's jobs use Service Bus,
    /// whose queue sets the lock duration, so Bicep need not set these.
    /// </summary>
    public static readonly IReadOnlySet<string> JobsStorageQueueOnly = new HashSet<string> { "Drp__Jobs__VisibilityTimeout" };

    /// <summary>Read by the Functions host itself, not by our code: allowed in the Function App's settings.</summary>
    public static readonly IReadOnlySet<string> FunctionsHostSettings = new HashSet<string>
    {
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    };

    /// <summary>The identity-based keys of the host storage connection (triggers, keys, Durable's Azure Storage backend).</summary>
    public static readonly string[] HostStorageKeys =
        ["blobServiceUri", "queueServiceUri", "tableServiceUri", "credential", "clientId"];

    /// <summary>Settings of an options class: <c>SectionName</c> plus each settable public property.</summary>
    public static IEnumerable<string> KeysOf(Type optionsType)
    {
        string section = (string)optionsType.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .Select(p => EnvName($"{section}:{p.Name}"));
    }

    /// <summary>Settings named by the Functions adapters' attributes: %expressions% and Connection names.</summary>
    public static IEnumerable<string> KeysOfFunctionBindings(Type functionsType)
    {
        var attributes = functionsType.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .SelectMany(m => m.GetParameters())
            .SelectMany(p => p.GetCustomAttributes(inherit: false));
        foreach (var attribute in attributes)
        {
            foreach (var property in attribute.GetType().GetProperties().Where(p => p.PropertyType == typeof(string)))
            {
                if (property.GetValue(attribute) is not string value)
                {
                    continue;
                }
                foreach (Match m in BindingExpression().Matches(value))
                {
                    yield return EnvName(m.Groups[1].Value);
                }
                if (property.Name == "Connection" && value.Length > 0)
                {
                    foreach (var k in value == "AzureWebJobsStorage" ? HostStorageKeys : ["fullyQualifiedNamespace"])
                    {
                        yield return $"{value}__{k}";
                    }
                }
            }
        }
    }

    /// <summary>The %expressions% in host.json (e.g. the task hub name), plus the host storage connection Durable uses.</summary>
    public static IEnumerable<string> KeysOfHostJson(string hostJsonText) =>
        BindingExpression().Matches(hostJsonText).Select(m => EnvName(m.Groups[1].Value))
            .Concat(HostStorageKeys.Select(k => $"AzureWebJobsStorage__{k}"));

    /// <summary>Configuration reads by key literal (<c>config["Drp:Jobs:Queue"]</c>) in C# sources.</summary>
    public static IEnumerable<string> KeysOfSources(IEnumerable<string> sourceTexts) =>
        sourceTexts.SelectMany(t => IndexerRead().Matches(t)).Select(m => EnvName(m.Groups[1].Value));

    /// <summary>The C# sources of a project folder (bin and obj left out).</summary>
    public static IEnumerable<string> SourcesOf(string projectDirectory) =>
        Directory.EnumerateFiles(projectDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText);

    /// <summary>
    /// The <see cref="Drp.Execution.Jobs.JobsOptions"/> settings the dispatching side (the Function App) reads: where
    /// container jobs go (Service Bus) and which Storage queue their completions come back on. The rest are the runner's.
    /// </summary>
    public static readonly string[] JobsDispatchKeys =
        [EnvName("Drp:Jobs:ServiceBusNamespace"), EnvName("Drp:Jobs:ServiceBusConnectionString"), EnvName("Drp:Jobs:CompletionsQueue")];

    /// <summary>
    /// Read by the code to run another pipeline file than the built-in one: for local and test runs; Azure runs the
    /// pipeline embedded in the app, so Bicep need not set it.
    /// </summary>
    public static readonly IReadOnlySet<string> LocalPipelineFile = new HashSet<string> { "Drp__Processing__PipelineFile" };

    /// <summary>Every setting the Functions app's code reads (Drp.Functions, Drp.Workflows, Drp.Execution, Drp.Storage, host.json).</summary>
    public static ISet<string> FunctionsAppCodeKeys() =>
        KeysOf(typeof(DrpStorageOptions))
            .Concat(KeysOf(typeof(Drp.Execution.ProcessingOptions)).Except(LocalPipelineFile))
            .Concat(JobsDispatchKeys)
            .Concat(KeysOfFunctionBindings(typeof(Drp.Functions.DrpFunctions)))
            .Concat(KeysOfHostJson(File.ReadAllText(Repo.PathOf("host.json"))))
            .Concat(KeysOfSources(new[] { "Drp.Functions", "Drp.Workflows", "Drp.Execution", "Drp.Storage" }.SelectMany(p => SourcesOf(Repo.PathOf("functions", p)))))
            .ToHashSet();

    /// <summary>Every setting Drp.Jobs reads: the storage options (AddDrpServices), its <see cref="Drp.Execution.Jobs.JobsOptions"/>, and its own key reads.</summary>
    public static ISet<string> JobsCodeKeys(IEnumerable<string>? jobsSources = null) =>
        KeysOf(typeof(DrpStorageOptions))
            .Concat(KeysOf(typeof(Drp.Execution.Jobs.JobsOptions)))
            .Concat(KeysOfSources(jobsSources ?? SourcesOf(Repo.PathOf("functions", "Drp.Jobs"))))
            .ToHashSet();

    /// <summary>The app setting names of the Function App (Microsoft.Web/sites siteConfig.appSettings).</summary>
    public static ISet<string> FunctionAppSettings(CompiledTemplate template) =>
        template.OfType("Microsoft.Web/sites")
            .SelectMany(s => s["properties"]?["siteConfig"]?["appSettings"]?.AsArray() ?? [])
            .Select(e => (string)e!["name"]!)
            .ToHashSet();

    /// <summary>The env names of the Container Apps jobs (one list per job resource declaration).</summary>
    public static IReadOnlyList<ISet<string>> JobEnvSettings(CompiledTemplate template) =>
        template.OfType("Microsoft.App/jobs")
            .Select(j => (ISet<string>)(j["properties"]?["template"]?["containers"]?.AsArray() ?? [])
                .SelectMany(c => c!["env"]?.AsArray() ?? [])
                .Select(e => (string)e!["name"]!)
                .ToHashSet())
            .ToList();

    /// <summary>
    /// Compares what the code reads with what Bicep sets; returns one line per problem (empty: they agree). A setting
    /// renamed on one side only shows up twice: missing under the old name, unknown under the new.
    /// </summary>
    public static IReadOnlyList<string> Compare(string app, ISet<string> codeKeys, ISet<string> bicepKeys, IReadOnlySet<string> platformKeys,
        IReadOnlySet<string>? notNeededInAzure = null)
    {
        var problems = new List<string>();
        problems.AddRange(codeKeys.Except(bicepKeys).Except(LocalOnly).Except(notNeededInAzure ?? new HashSet<string>()).Order(StringComparer.Ordinal)
            .Select(k => $"{app}: the code reads {k} but Bicep does not set it"));
        problems.AddRange(bicepKeys.Except(codeKeys).Except(platformKeys).Order(StringComparer.Ordinal)
            .Select(k => $"{app}: Bicep sets {k} but no code reads it"));
        problems.AddRange(bicepKeys.Intersect(LocalOnly).Order(StringComparer.Ordinal)
            .Select(k => $"{app}: Bicep sets {k}, which is for local runs only (no connection strings in Azure)"));
        return problems;
    }

    private static string EnvName(string configKey) => configKey.Replace(":", "__", StringComparison.Ordinal);

    [GeneratedRegex(@"%([A-Za-z_][\w:]*)%")]
    private static partial Regex BindingExpression();

    [GeneratedRegex(@"\[\s*""(Drp:[\w:]+)""\s*\]")]
    private static partial Regex IndexerRead();
}
