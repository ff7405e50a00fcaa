using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Drp.Core.Planning;
using Drp.Core.Provenance;

namespace Drp.Core.Tasks;

/// <summary>
/// A task class bound to its unit in the pipeline: its connections checked against the YAML's, its config bound from
/// the YAML with every default filled in, and the hash of that config (what ran, not what the file says).
/// </summary>
public sealed record BoundTask(IPipelineTask Task, ExecutionUnit Unit, object Config, string ConfigJson, string ConfigHash);

/// <summary>
/// Binds a task's config from the pipeline YAML: each entry's dotted key must name a field of the config record (a
/// fused group's config has one field per member task), each value must convert to the field's type; a failure names
/// the file and line. The values are laid over the record's defaults; the bound record written back as JSON (every
/// field, defaults included) is what the hash covers, so a changed C# default changes the hash.
/// </summary>
public static class TaskConfigBinder
{
    /// <summary>Binds <paramref name="task"/> to <paramref name="unit"/>; throws <see cref="PipelineDefinitionException"/>.</summary>
    public static BoundTask Bind(IPipelineTask task, ExecutionUnit unit)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(unit);
        var first = unit.Tasks[0];
        CheckConnections("inputs", task.Inputs, unit.Inputs, unit, first);
        CheckConnections("outputs", task.Outputs, unit.Outputs, unit, first);

        // The YAML's values are laid over the defaults: the serializer would give a field the YAML leaves out its type's
        // zero, not the record's default, when it constructs a record with init-only fields.
        var root = JsonSerializer.SerializeToNode(task.DefaultConfig, task.ConfigType) as JsonObject
            ?? throw new InvalidOperationException($"the default config of {task.GetType().Name} is not a JSON object");
        var lines = new List<(string Path, TaskDefinition Task, ConfigEntry Entry)>();
        foreach (var member in unit.Tasks)
        {
            foreach (var entry in member.Config)
            {
                var path = (unit.IsFused ? [member.Name] : Array.Empty<string>()).Concat(entry.Key.Split('.')).ToArray();
                CheckKey(task.ConfigType, path, member, entry);
                Set(root, path, entry.IsList ? new JsonArray(entry.Values.Select(ToJson).ToArray()) : ToJson(entry.Values[0]));
                lines.Add((string.Join('.', path), member, entry));
            }
        }
        object config;
        try
        {
            config = root.Deserialize(task.ConfigType) ?? throw new JsonException("the config is null");
        }
        catch (JsonException e)
        {
            string path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
            var at = lines.Where(l => path.StartsWith(l.Path, StringComparison.Ordinal)).OrderByDescending(l => l.Path.Length).FirstOrDefault();
            var (member, line) = at.Task is null ? (first, first.Line) : (at.Task, at.Entry.Line);
            throw new PipelineDefinitionException(member.Source, line, $"{member.Where} config",
                $"'{at.Entry?.Key ?? path}': {Describe(e)} ({task.ConfigType.Type.Name} of task class {task.GetType().Name})");
        }
        string json = JsonSerializer.Serialize(config, task.ConfigType);
        return new BoundTask(task, unit, config, json, Provenance.ConfigHash.OfText(json));
    }

    private static void CheckConnections(string what, IReadOnlyList<TaskConnection> declared, IReadOnlyList<ConnectionDefinition> yaml, ExecutionUnit unit, TaskDefinition first)
    {
        var a = declared.Select(c => $"{c.Name}: {c.DatasetType.Name}").Order(StringComparer.Ordinal).ToList();
        var b = yaml.Select(c => $"{c.Name}: {c.DatasetType.Name}").Order(StringComparer.Ordinal).ToList();
        if (!a.SequenceEqual(b))
        {
            throw new PipelineDefinitionException(first.Source, first.Line, first.Where,
                $"the {what} of '{unit.Name}' in the YAML [{string.Join(", ", b)}] differ from its task class's [{string.Join(", ", a)}]");
        }
    }

    private static void CheckKey(JsonTypeInfo type, string[] path, TaskDefinition member, ConfigEntry entry)
    {
        var info = type;
        for (int i = 0; i < path.Length; i++)
        {
            var property = info.Kind == JsonTypeInfoKind.Object ? info.Properties.FirstOrDefault(p => p.Name == path[i]) : null;
            if (property is null)
            {
                string known = info.Kind == JsonTypeInfoKind.Object ? string.Join(", ", info.Properties.Select(p => p.Name)) : "none: it is a value";
                throw new PipelineDefinitionException(member.Source, entry.Line, $"{member.Where} config",
                    $"unknown config key '{entry.Key}': {info.Type.Name} has no '{path[i]}' (fields: {known})");
            }
            info = type.Options.GetTypeInfo(property.PropertyType);
        }
    }

    private static void Set(JsonObject root, string[] path, JsonNode? value)
    {
        var node = root;
        foreach (var segment in path[..^1])
        {
            if (node[segment] is not JsonObject child)
            {
                child = new JsonObject();
                node[segment] = child;
            }
            node = child;
        }
        node[path[^1]] = value;
    }

    /// <summary>A plain scalar is typed by its text (true/false, null, a number); a quoted one is a string.</summary>
    private static JsonNode? ToJson(ConfigValue v)
    {
        if (!v.Plain)
        {
            return JsonValue.Create(v.Text);
        }
        return v.Text switch
        {
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            "null" or "~" or "" => null,
            _ when long.TryParse(v.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) => JsonValue.Create(l),
            _ when double.TryParse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) => JsonValue.Create(d),
            _ => JsonValue.Create(v.Text),
        };
    }

    private static string Describe(JsonException e)
    {
        // The serializer's message names .NET types and a JSON path; the value's problem is what a user needs.
        string m = e.Message;
        int cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? m[..cut] : m;
    }
}
