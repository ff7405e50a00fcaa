using System.Reflection;
using System.Text.Json;
using Drp.Functions;
using Drp.Workflows;
using Drp.Workflows.Operations;
using Microsoft.Azure.Functions.Worker;

namespace Drp.Functions.Tests;

/// <summary>The Functions app must host exactly the tasks the local host runs, under the same names.</summary>
public sealed class FunctionAdapterTests
{
    private static readonly Dictionary<string, MethodInfo> s_functions = typeof(DrpFunctions)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
        .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
        .ToDictionary(m => m.GetCustomAttribute<FunctionAttribute>()!.Name);

    [Fact]
    public void EveryOrchestrator_HasAnOrchestrationTriggerFunctionOfTheSameName()
    {
        foreach (var type in DrpWorkflows.Orchestrators)
        {
            Assert.True(s_functions.TryGetValue(type.Name, out var m), $"no function named {type.Name}");
            Assert.Contains(m.GetParameters(), p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null);
        }
    }

    [Fact]
    public void EveryActivity_HasAnActivityTriggerFunctionOfTheSameNameAndInputType()
    {
        foreach (var type in DrpWorkflows.Activities)
        {
            Assert.True(s_functions.TryGetValue(type.Name, out var m), $"no function named {type.Name}");
            var trigger = m.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null);
            var taskInput = type.BaseType!.GetGenericArguments()[0];
            Assert.Equal(taskInput, trigger.ParameterType);
        }
    }

    [Fact]
    public void HostJson_IsCopiedToTheOutputWithTheTaskHubUnderExtensions()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "host.json");
        // The test project references the Functions app, whose output carries host.json (linked from the repository root).
        var appHostJson = Path.Combine(Path.GetDirectoryName(typeof(DrpFunctions).Assembly.Location)!, "host.json");
        Assert.True(File.Exists(appHostJson) || File.Exists(path), "host.json is not in the Functions app output");
        using var doc = JsonDocument.Parse(File.ReadAllText(File.Exists(appHostJson) ? appHostJson : path));
        var durable = doc.RootElement.GetProperty("extensions").GetProperty("durableTask");
        Assert.Equal("%DRP_TASK_HUB%", durable.GetProperty("hubName").GetString());
        Assert.False(doc.RootElement.GetProperty("logging").TryGetProperty("extensions", out _), "extensions nested under logging is silently ignored");
    }

    [Fact]
    public void CampaignErrors_MapToTheirHttpStatus_AndOthersToNone()
    {
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, DrpFunctions.StatusFor(new ArgumentException("bad run")));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, DrpFunctions.StatusFor(new JsonException("bad body")));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, DrpFunctions.StatusFor(new CampaignNotFoundException("r")));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, DrpFunctions.StatusFor(new CampaignStateException("not waiting")));
        Assert.Null(DrpFunctions.StatusFor(new InvalidOperationException("a bug")));
    }

    [Theory]
    [InlineData("campaigns/{run}", "post", nameof(DrpFunctions.StartCampaign))]
    [InlineData("campaigns/{run}", "get", nameof(DrpFunctions.GetCampaign))]
    [InlineData("campaigns/{run}", "delete", nameof(DrpFunctions.PurgeCampaign))]
    [InlineData("campaigns/{run}/failures", "get", nameof(DrpFunctions.GetCampaignFailures))]
    [InlineData("campaigns/{run}/approve", "post", nameof(DrpFunctions.ApproveCampaign))]
    [InlineData("campaigns/{run}/terminate", "post", nameof(DrpFunctions.TerminateCampaign))]
    public void CampaignRoutes_AreServedByOneFunctionEach(string route, string method, string function)
    {
        var served = s_functions.Values
            .Select(m => (m, trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(t => t is not null)))
            .Where(x => x.trigger is not null && x.trigger.Route == route && x.trigger.Methods!.Contains(method))
            .Select(x => x.m.Name)
            .ToList();

        Assert.Equal([function], served);
    }
}
