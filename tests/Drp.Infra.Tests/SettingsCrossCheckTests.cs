using Drp.Storage;

namespace Drp.Infra.Tests;

/// <summary>The settings the code reads are exactly those Bicep sets, for the Function App and for every job.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class SettingsCrossCheckTests(MainTemplateFixture fixture)
{
    [Fact]
    public void FunctionApp_SettingsMatchTheCode()
    {
        var bicep = SettingsContract.FunctionAppSettings(fixture.Template);

        var problems = SettingsContract.Compare("Function App", SettingsContract.FunctionsAppCodeKeys(), bicep, SettingsContract.FunctionsHostSettings);

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.Contains("Drp__Storage__LedgerTable", bicep); // the check saw the real settings, not an empty list
    }

    [Fact]
    public void EveryJob_EnvMatchesTheCode()
    {
        var jobs = SettingsContract.JobEnvSettings(fixture.Template);

        Assert.NotEmpty(jobs);
        foreach (var env in jobs)
        {
            var problems = SettingsContract.Compare("Container Apps job", SettingsContract.JobsCodeKeys(), env, new HashSet<string>(), SettingsContract.JobsStorageQueueOnly);
            Assert.True(problems.Count == 0, string.Join('\n', problems));
            Assert.Contains("Drp__Jobs__MemoryClass", env);
            Assert.Contains("Drp__Jobs__ServiceBusNamespace", env); // Azure's jobs take their work from Service Bus
        }
    }

    [Fact]
    public void CodeKeys_ComeFromTheOptionsClassTriggersHostJsonAndSources()
    {
        var functions = SettingsContract.FunctionsAppCodeKeys();
        var jobs = SettingsContract.JobsCodeKeys();

        Assert.Contains("Drp__Storage__TableServiceUri", functions);      // DrpStorageOptions, by reflection
        Assert.Contains("Drp__Storage__ArrivalsQueue", functions);        // also %Drp:Storage:ArrivalsQueue% of the QueueTrigger
        Assert.Contains("AzureWebJobsStorage__queueServiceUri", functions); // Connection = "AzureWebJobsStorage"
        Assert.Contains("DRP_TASK_HUB", functions);                       // host.json %DRP_TASK_HUB%
        Assert.Contains("Drp__Jobs__CompletionsQueue", jobs);             // JobsOptions, by reflection
        Assert.Contains("Drp__Jobs__VisibilityTimeout", jobs);            // read (Storage queues), though Azure need not set it
    }

    [Fact]
    public async Task Check_SettingRenamedInBicepOnly_IsReported()
    {
        // Rename one app setting in a copy of infra/, compile the copy, and compare with the unchanged code.
        string dir = Directory.CreateTempSubdirectory("drp-infra-rename-").FullName;
        try
        {
            CopyDirectory(Repo.PathOf("infra"), Path.Combine(dir, "infra"));
            File.Copy(Repo.PathOf("bicepconfig.json"), Path.Combine(dir, "bicepconfig.json"));
            string functionsBicep = Path.Combine(dir, "infra", "app", "functions.bicep");
            string text = await File.ReadAllTextAsync(functionsBicep);
            Assert.Contains("'Drp__Storage__LedgerTable'", text);
            await File.WriteAllTextAsync(functionsBicep, text.Replace("'Drp__Storage__LedgerTable'", "'Drp__Storage__LedgerTableName'", StringComparison.Ordinal));

            var renamed = await CompiledTemplate.BuildAsync(Path.Combine(dir, "infra", "main.bicep"));
            var problems = SettingsContract.Compare("Function App", SettingsContract.FunctionsAppCodeKeys(),
                SettingsContract.FunctionAppSettings(renamed), SettingsContract.FunctionsHostSettings);

            Assert.Contains("Function App: the code reads Drp__Storage__LedgerTable but Bicep does not set it", problems);
            Assert.Contains("Function App: Bicep sets Drp__Storage__LedgerTableName but no code reads it", problems);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Check_OptionsPropertyRenamedInCodeOnly_IsReported()
    {
        // A property rename changes the reflected key set exactly like this; Bicep stays as it is.
        var code = SettingsContract.FunctionsAppCodeKeys();
        Assert.True(code.Remove("Drp__Storage__SourceTable"));
        code.Add("Drp__Storage__SourcesTable");

        var problems = SettingsContract.Compare("Function App", code, SettingsContract.FunctionAppSettings(fixture.Template), SettingsContract.FunctionsHostSettings);

        Assert.Contains("Function App: the code reads Drp__Storage__SourcesTable but Bicep does not set it", problems);
        Assert.Contains("Function App: Bicep sets Drp__Storage__SourceTable but no code reads it", problems);
    }

    [Fact]
    public void Check_JobsOptionRenamedInCodeOnly_IsReported()
    {
        // A JobsOptions property rename changes the reflected key set exactly like this; Bicep stays as it is.
        var code = SettingsContract.JobsCodeKeys();
        Assert.True(code.Remove("Drp__Jobs__CompletionsQueue"));
        code.Add("Drp__Jobs__CompletionQueue");
        var env = SettingsContract.JobEnvSettings(fixture.Template)[0];

        var problems = SettingsContract.Compare("Container Apps job", code, env, new HashSet<string>(), SettingsContract.JobsStorageQueueOnly);

        Assert.Contains("Container Apps job: the code reads Drp__Jobs__CompletionQueue but Bicep does not set it", problems);
        Assert.Contains("Container Apps job: Bicep sets Drp__Jobs__CompletionsQueue but no code reads it", problems);
    }

    [Fact]
    public void Check_KeyReadInJobsSourceButNotSetInBicep_IsReported()
    {
        // The real Drp.Jobs sources plus one configuration indexer read, as an edit of Program.cs would add.
        var sources = SettingsContract.SourcesOf(Repo.PathOf("functions", "Drp.Jobs")).Append("var x = config[\"Drp:Jobs:Extra\"];");
        var env = SettingsContract.JobEnvSettings(fixture.Template)[0];

        var problems = SettingsContract.Compare("Container Apps job", SettingsContract.JobsCodeKeys(sources), env, new HashSet<string>(), SettingsContract.JobsStorageQueueOnly);

        Assert.Equal(["Container Apps job: the code reads Drp__Jobs__Extra but Bicep does not set it"], problems);
    }

    [Fact]
    public void Check_ServiceBusConnectionStringInJobBicep_IsReported()
    {
        var env = new HashSet<string>(SettingsContract.JobEnvSettings(fixture.Template)[0]) { "Drp__Jobs__ServiceBusConnectionString" };

        var problems = SettingsContract.Compare("Container Apps job", SettingsContract.JobsCodeKeys(), env, new HashSet<string>(), SettingsContract.JobsStorageQueueOnly);

        Assert.Equal(["Container Apps job: Bicep sets Drp__Jobs__ServiceBusConnectionString, which is for local runs only (no connection strings in Azure)"], problems);
    }

    [Fact]
    public void Check_ConnectionStringInBicep_IsReported()
    {
        var bicep = SettingsContract.FunctionAppSettings(fixture.Template);
        bicep.Add("Drp__Storage__ConnectionString");

        var problems = SettingsContract.Compare("Function App", SettingsContract.FunctionsAppCodeKeys(), bicep, SettingsContract.FunctionsHostSettings);

        Assert.Equal(["Function App: Bicep sets Drp__Storage__ConnectionString, which is for local runs only (no connection strings in Azure)"], problems);
    }

    [Fact]
    public void KeysOf_StorageOptions_NamesEveryProperty()
    {
        var keys = SettingsContract.KeysOf(typeof(DrpStorageOptions)).ToHashSet();

        Assert.Contains("Drp__Storage__ConnectionString", keys);
        Assert.Contains("Drp__Storage__ManagedIdentityClientId", keys);
        Assert.DoesNotContain("Drp__Storage__UsesServiceUris", keys); // computed, not a setting
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
