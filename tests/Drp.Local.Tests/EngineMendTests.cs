using DurableTask.Core;
using DurableTask.Core.History;
using Google.Protobuf.Collections;
using Microsoft.DurableTask.Testing.Sidecar.Dispatcher;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace Drp.Local.Tests;

/// <summary>The two mends of the sidecar on the Azure Storage backend, without storage.</summary>
public sealed class EngineMendTests
{
    [Fact]
    public void ReplaceSidecarSubOrchestrationEvents_SidecarSubclass_BecomesBaseTypeWithSameFields()
    {
        var state = new OrchestrationRuntimeState();
        state.AddEvent(new ExecutionStartedEvent(-1, "input")
        {
            Name = "Parent",
            OrchestrationInstance = new OrchestrationInstance { InstanceId = "p", ExecutionId = "e" },
        });
        var sidecarEvent = new GrpcSubOrchestrationInstanceCreatedEvent(3)
        {
            Name = "Child",
            Version = "1",
            InstanceId = "p-child",
            Input = "{\"n\":5}",
        };
        state.AddEvent(sidecarEvent);

        var replaced = MendedOrchestrationService.ReplaceSidecarSubOrchestrationEvents(state);

        // Once in Events, once in NewEvents.
        Assert.Equal(2, replaced);
        var created = Assert.IsType<SubOrchestrationInstanceCreatedEvent>(state.Events[1]);
        Assert.Same(created, state.NewEvents[1]);
        Assert.Equal((3, "Child", "1", "p-child", "{\"n\":5}", sidecarEvent.Timestamp),
            (created.EventId, created.Name, created.Version, created.InstanceId, created.Input, created.Timestamp));
    }

    [Fact]
    public void ProtobufTagsTypeBinder_MapFieldTags_ReadBackAsDictionary()
    {
        var settings = new JsonSerializerSettings
        {
            // What the backend's MessageManager does with a custom binder.
            TypeNameHandling = TypeNameHandling.Objects,
            SerializationBinder = new BinderAdapter(new ProtobufTagsTypeBinder()),
        };
        var started = new ExecutionStartedEvent(-1, "input")
        {
            Tags = new MapField<string, string> { ["step"] = "step1" },
        };

        var json = JsonConvert.SerializeObject(started, settings);
        var read = JsonConvert.DeserializeObject<ExecutionStartedEvent>(json, settings)!;
        // A message written before the binder was in place names the protobuf type.
        var legacyJson = json.Replace(typeof(Dictionary<string, string>).FullName!,
            typeof(MapField<string, string>).FullName!, StringComparison.Ordinal);
        var legacy = JsonConvert.DeserializeObject<ExecutionStartedEvent>(legacyJson, settings)!;

        Assert.DoesNotContain("Google.Protobuf", json, StringComparison.Ordinal);
        Assert.Equal("step1", Assert.IsType<Dictionary<string, string>>(read.Tags)["step"]);
        Assert.Equal("step1", Assert.IsType<Dictionary<string, string>>(legacy.Tags)["step"]);
    }

    /// <summary>How the backend's MessageManager applies a custom binder: DurableTask types never reach it.</summary>
    private sealed class BinderAdapter(DurableTask.AzureStorage.ICustomTypeBinder binder) : ISerializationBinder
    {
        public Type BindToType(string? assemblyName, string typeName) =>
            typeName.StartsWith("DurableTask.Core", StringComparison.Ordinal)
                ? typeof(TaskMessage).Assembly.GetType(typeName, throwOnError: true)!
                : binder.BindToType(assemblyName!, typeName);

        public void BindToName(Type serializedType, out string? assemblyName, out string? typeName)
        {
            binder.BindToName(serializedType, out var assembly, out var type);
            (assemblyName, typeName) = (assembly, type);
        }
    }
}
