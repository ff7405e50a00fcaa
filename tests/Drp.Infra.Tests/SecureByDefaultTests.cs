using System.Text.Json.Nodes;

namespace Drp.Infra.Tests;

/// <summary>The compiled template holds no keys or connection strings, and every data plane uses Microsoft Entra ID.</summary>
[Collection(MainTemplateCollection.Name)]
public sealed class SecureByDefaultTests(MainTemplateFixture fixture)
{
    [Fact]
    public void RoleAssignments_AreNamedGuidOfScopePrincipalRole()
    {
        var assignments = fixture.Template.OfType("Microsoft.Authorization/roleAssignments").ToList();

        Assert.True(assignments.Count >= 15, $"only {assignments.Count} role assignments");
        Assert.All(assignments, a =>
        {
            string name = (string)a["name"]!;
            Assert.StartsWith("[guid(", name);
            Assert.Equal(3, TopLevelArguments(name["[guid(".Length..^2]).Count);
            Assert.Contains("roleDefinitions", (string)a["properties"]!["roleDefinitionId"]!);
        });
    }

    [Fact]
    public void RoleAssignments_NeverGrantBroadRoles()
    {
        // Owner, Contributor, User Access Administrator, Storage Account Contributor: never needed here.
        string[] broad = ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "17d1049b-9a84-46fb-8f53-869881c3d3ab"];

        string template = fixture.Template.Root.ToJsonString();

        Assert.All(broad, id => Assert.DoesNotContain(id, template));
    }

    [Fact]
    public void Template_HasNoKeysOrConnectionStrings()
    {
        string template = fixture.Template.Root.ToJsonString();

        Assert.DoesNotContain("listKeys", template, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("listConnectionStrings", template, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey=", template, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SharedAccessKey", template, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"sharedKey\":", template, StringComparison.OrdinalIgnoreCase); // Log Analytics key for Container Apps
        Assert.DoesNotContain("passwordSecretRef", template, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secretRef", template, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(fixture.Template.OfType("Microsoft.ServiceBus/namespaces/authorizationRules"));
    }

    [Fact]
    public void DataPlanes_AllowOnlyMicrosoftEntraAuth()
    {
        var storage = Single("Microsoft.Storage/storageAccounts")["properties"]!;
        Assert.False((bool)storage["allowSharedKeyAccess"]!);
        Assert.False((bool)storage["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)storage["minimumTlsVersion"]);

        Assert.True((bool)Single("Microsoft.ServiceBus/namespaces")["properties"]!["disableLocalAuth"]!);
        Assert.True((bool)Single("Microsoft.Insights/components")["properties"]!["DisableLocalAuth"]!);
        Assert.False((bool)Single("Microsoft.ContainerRegistry/registries")["properties"]!["adminUserEnabled"]!);
    }

    [Fact]
    public void FunctionApp_UsesItsUserAssignedIdentityForHostStorage()
    {
        var app = Single("Microsoft.Web/sites");
        var settings = app["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(e => (string)e!["name"]!, e => e!["value"]!.ToJsonString());

        Assert.Equal("UserAssigned", (string?)app["identity"]!["type"]);
        Assert.Equal("\"managedidentity\"", settings["AzureWebJobsStorage__credential"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys); // never the connection-string form
        Assert.Equal("UserAssignedIdentity", (string?)app["properties"]!["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!["type"]);
    }

    [Fact]
    public void Jobs_ScaleOnTheirServiceBusQueueWithAManagedIdentity()
    {
        var job = Single("Microsoft.App/jobs");
        var rule = job["properties"]!["configuration"]!["eventTriggerConfig"]!["scale"]!["rules"]![0]!;

        Assert.Equal("Event", (string?)job["properties"]!["configuration"]!["triggerType"]);
        Assert.Equal("azure-servicebus", (string?)rule["type"]);
        Assert.NotNull(rule["identity"]);
        Assert.Null(rule["auth"]);
        Assert.Contains("drp-jobs-", rule["metadata"]!["queueName"]!.ToJsonString());
    }

    [Fact]
    public void BlobCreatedSubscription_IsFilteredToRawAndDeliveredWithAnIdentity()
    {
        var subscription = Single("Microsoft.EventGrid/systemTopics/eventSubscriptions")["properties"]!;

        Assert.Equal(["Microsoft.Storage.BlobCreated"], subscription["filter"]!["includedEventTypes"]!.AsArray().Select(n => (string)n!));
        Assert.Contains("/blobServices/default/containers/", subscription["filter"]!["subjectBeginsWith"]!.ToJsonString());
        Assert.Equal("StorageQueue", (string?)subscription["deliveryWithResourceIdentity"]!["destination"]!["endpointType"]);
        Assert.Null(subscription["destination"]);
    }

    private JsonObject Single(string type)
    {
        var all = fixture.Template.OfType(type).ToList();
        Assert.True(all.Count == 1, $"{all.Count} resources of type {type}");
        return all[0];
    }

    /// <summary>Splits an ARM expression's argument list at its top-level commas.</summary>
    private static List<string> TopLevelArguments(string args)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        bool quoted = false;
        for (int i = 0; i < args.Length; i++)
        {
            char c = args[i];
            if (c == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && (c == '(' || c == '['))
            {
                depth++;
            }
            else if (!quoted && (c == ')' || c == ']'))
            {
                depth--;
            }
            else if (!quoted && depth == 0 && c == ',')
            {
                parts.Add(args[start..i].Trim());
                start = i + 1;
            }
        }
        parts.Add(args[start..].Trim());
        return parts;
    }
}
