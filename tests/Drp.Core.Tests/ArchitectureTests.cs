using System.Xml.Linq;

namespace Drp.Core.Tests;

/// <summary>
/// The layering the architecture promises, read from the project files: the Azure-free projects reach no Azure or
/// Durable package through any project they reference, the container job runner never references the orchestrators,
/// and the Azurite fixture lives in one place.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string s_root = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Serverless.Drp.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("no Serverless.Drp.sln above " + AppContext.BaseDirectory);
    }

    private static string ProjectPath(string relative) => Path.GetFullPath(Path.Combine(s_root, relative));

    /// <summary>The project and every project it references, transitively, with each one's package references.</summary>
    private static Dictionary<string, IReadOnlyList<string>> Closure(string project)
    {
        var seen = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var stack = new Stack<string>([ProjectPath(project)]);
        while (stack.Count > 0)
        {
            string path = stack.Pop();
            if (seen.ContainsKey(path))
            {
                continue;
            }
            var xml = XDocument.Load(path);
            seen[path] = xml.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).ToList();
            foreach (var reference in xml.Descendants("ProjectReference"))
            {
                string include = ((string)reference.Attribute("Include")!).Replace('\\', Path.DirectorySeparatorChar);
                stack.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, include)));
            }
        }
        return seen;
    }

    private static bool IsAzure(string package) =>
        package.StartsWith("Azure.", StringComparison.Ordinal) || package.StartsWith("Microsoft.Azure.", StringComparison.Ordinal)
        || package.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal);

    [Theory]
    [InlineData("functions/Drp.Core/Drp.Core.csproj")]
    [InlineData("functions/Drp.Pipeline/Drp.Pipeline.csproj")]
    [InlineData("tools/Drp.Frame/Drp.Frame.csproj")]
    public void AzureFreeProject_ReachesNoAzurePackage(string project)
    {
        var azure = Closure(project).SelectMany(p => p.Value.Where(IsAzure).Select(pkg => $"{Path.GetFileName(p.Key)}: {pkg}")).ToList();

        Assert.True(azure.Count == 0, $"{project} reaches Azure packages: {string.Join(", ", azure)}");
    }

    [Fact]
    public void Closure_OfTheStorageAdapters_FindsTheirAzurePackages()
    {
        // The walk above must be able to fail: the adapters' closure holds the Azure SDKs and Drp.Core.
        var closure = Closure("functions/Drp.Storage/Drp.Storage.csproj");

        Assert.Contains("Azure.Storage.Blobs", closure.SelectMany(p => p.Value));
        Assert.Contains(ProjectPath("functions/Drp.Core/Drp.Core.csproj"), closure.Keys);
    }

    [Fact]
    public void JobRunner_NeverReferencesTheOrchestrators()
    {
        var closure = Closure("functions/Drp.Jobs/Drp.Jobs.csproj").Keys.Select(Path.GetFileNameWithoutExtension).ToList();

        Assert.Contains("Drp.Execution", closure);
        Assert.DoesNotContain("Drp.Workflows", closure);
        Assert.DoesNotContain(closure, p => p!.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal));
        Assert.DoesNotContain(Closure("functions/Drp.Jobs/Drp.Jobs.csproj").Values.SelectMany(p => p), p => p.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal));
    }

    [Fact]
    public void OrchestrationLibrary_HoldsNoQueueAdapters()
    {
        // Queue senders live in Drp.Execution, the local queue listeners in Drp.Local: no queue SDK in the orchestrations.
        string[] queueSdks = ["using Azure.Storage.Queues", "using Azure.Messaging.ServiceBus", ": IJob" + "Dispatcher"];
        var adapters = Directory.EnumerateFiles(Path.Combine(s_root, "functions", "Drp.Workflows"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => queueSdks.Any(q => File.ReadAllText(f).Contains(q, StringComparison.Ordinal)))
            .Select(Path.GetFileName)
            .ToList();

        Assert.Empty(adapters);
        Assert.DoesNotContain("Azure.Storage.Queues", Closure("functions/Drp.Workflows/Drp.Workflows.csproj")[ProjectPath("functions/Drp.Workflows/Drp.Workflows.csproj")]);
    }

    [Fact]
    public void AzuriteFixture_IsDefinedOnceInTheTestSupportProject()
    {
        var definitions = Directory.EnumerateFiles(Path.Combine(s_root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("public sealed class AzuriteFixture" + " ", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(s_root, f).Replace('\\', '/'))
            .ToList();

        Assert.Equal(["tests/Drp.TestSupport/AzuriteFixture.cs"], definitions);
    }
}
