using DurableTask.AzureStorage;

namespace Drp.Local;

/// <summary>
/// Mend 2 of the gRPC sidecar on the Azure Storage backend. The sidecar (InProcessTestHost 0.2.3-preview.1) copies a
/// sub-orchestration's tags into its start event as the protobuf <c>MapField&lt;string,string&gt;</c> it received.
/// The backend writes queue messages with Newtonsoft <c>TypeNameHandling.Objects</c> and by default names a type by
/// its full name without assembly, which <c>Type.GetType</c> cannot resolve for Google.Protobuf when the message is
/// read back. This binder names any protobuf map as <c>Dictionary&lt;string,string&gt;</c> (same JSON shape) and,
/// for messages already written under the protobuf name, binds that name back to the dictionary.
/// </summary>
internal sealed class ProtobufTagsTypeBinder : ICustomTypeBinder
{
    private const string MapFieldPrefix = "Google.Protobuf.Collections.MapField`2";
    private static readonly Type DictionaryType = typeof(Dictionary<string, string>);

    public void BindToName(Type serializedType, out string assemblyName, out string typeName)
    {
        // What the backend does without a custom binder: full name, no assembly.
        assemblyName = null!;
        typeName = serializedType.FullName!;
        if (typeName.StartsWith(MapFieldPrefix, StringComparison.Ordinal))
        {
            typeName = DictionaryType.FullName!;
        }
    }

    public Type BindToType(string assemblyName, string typeName)
    {
        if (typeName.StartsWith(MapFieldPrefix, StringComparison.Ordinal))
        {
            return DictionaryType;
        }

        return string.IsNullOrEmpty(assemblyName)
            ? Type.GetType(typeName, throwOnError: true)!
            : Type.GetType($"{typeName}, {assemblyName}", throwOnError: true)!;
    }
}
