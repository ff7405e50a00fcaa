using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Drp.Core.Datasets;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drp.Core.Planning;

/// <summary>
/// A pipeline definition that does not hold: the message names the file, the line, the step and task, and the field.
/// </summary>
public sealed class PipelineDefinitionException(string source, int line, string where, string problem)
    : Exception($"{source}:{line}: {where}: {problem}")
{
    /// <summary>The file (or source name) the definition came from.</summary>
    public string File { get; } = source;

    /// <summary>1-based line of the offending node.</summary>
    public int Line { get; } = line;

    /// <summary>Where in the definition: e.g. <c>step 'step1' task 'isr' inputs[0].datasetType</c>.</summary>
    public string Where { get; } = where;

    /// <summary>What is wrong.</summary>
    public string Problem { get; } = problem;
}

/// <summary>
/// Loads a pipeline YAML file (see <c>pipelines/drp.yaml</c>) into a <see cref="PipelineDefinition"/> and validates it:
/// known dataset types (those of <see cref="DatasetType"/>), dimensions in the fixed order, connection dimensions equal
/// to their dataset type's, every consumed dataset produced by an earlier task or declared as a pipeline input, unique
/// names, execution settings present (memory class, heartbeat interval and timeout with units), clusters within every
/// task's dimensions. Unknown keys are errors, so a misspelt field never silently takes a default.
/// </summary>
public static partial class PipelineDefinitionLoader
{
    /// <summary>Every dataset type of <see cref="DatasetType"/>'s static fields, by name: that class stays the one list.</summary>
    public static readonly IReadOnlyDictionary<string, DatasetType> KnownDatasetTypes = typeof(DatasetType)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DatasetType))
        .Select(f => (DatasetType)f.GetValue(null)!)
        .ToDictionary(t => t.Name);

    /// <summary>The repository's pipeline, <c>pipelines/drp.yaml</c>, as embedded in this assembly at build time.</summary>
    public static PipelineDefinition LoadDefault()
    {
        const string name = "pipelines/drp.yaml";
        using var stream = typeof(PipelineDefinitionLoader).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in {typeof(PipelineDefinitionLoader).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return Parse(reader, name);
    }

    /// <summary>Reads and validates the file at <paramref name="path"/>.</summary>
    public static PipelineDefinition Load(string path)
    {
        using var reader = System.IO.File.OpenText(path);
        return Parse(reader, path);
    }

    /// <summary>Parses and validates YAML text; <paramref name="source"/> names it in error messages.</summary>
    public static PipelineDefinition Parse(string yaml, string source) => Parse(new StringReader(yaml), source);

    /// <summary>Parses and validates YAML from a reader; <paramref name="source"/> names it in error messages.</summary>
    public static PipelineDefinition Parse(TextReader reader, string source)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(reader);
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            throw new PipelineDefinitionException(source, (int)e.Start.Line, "YAML", e.Message);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this, with no position, on some malformed input (e.g. an unclosed flow list).
            throw new PipelineDefinitionException(source, (int)scanner.CurrentPosition.Line, "YAML", "malformed YAML near here: " + e.Message);
        }
        if (stream.Documents.Count != 1)
        {
            throw new PipelineDefinitionException(source, 1, "file", $"expected one YAML document, found {stream.Documents.Count}");
        }
        return new Reader(source).ReadPipeline(stream.Documents[0].RootNode);
    }

    /// <summary>Parses a duration with units: one or more <c>number unit</c> parts, unit one of ms, s, m, h, d (<c>90s</c>, <c>1h30m</c>).</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var m = DurationPattern().Match(text.Trim());
        if (!m.Success) return false;
        foreach (Capture part in m.Groups["part"].Captures)
        {
            var p = DurationPart().Match(part.Value);
            double n = double.Parse(p.Groups["n"].Value, CultureInfo.InvariantCulture);
            duration += p.Groups["u"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        return true;
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ms|s|m|h|d))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)(?<u>ms|s|m|h|d)$")]
    private static partial Regex DurationPart();

    /// <summary>Walks the YAML nodes, keeping the source name for messages.</summary>
    private sealed class Reader(string source)
    {
        private static readonly string[] s_pipelineKeys = ["name", "description", "inputs", "steps"];
        private static readonly string[] s_stepKeys = ["name", "description", "cluster", "maxJobsPerChunk", "fuse", "tasks"];
        private static readonly string[] s_fuseKeys = ["name", "tasks"];
        private static readonly string[] s_taskKeys = ["name", "dimensions", "inputs", "outputs", "config", "execution"];
        private static readonly string[] s_connectionKeys = ["connection", "datasetType", "dimensions"];
        private static readonly string[] s_executionKeys = ["memory", "heartbeatInterval", "heartbeatTimeout", "executor"];

        public PipelineDefinition ReadPipeline(YamlNode root)
        {
            const string where = "pipeline";
            var map = Mapping(root, where, s_pipelineKeys);
            string name = RequiredScalar(map, "name", where);
            string? description = OptionalScalar(map, "description", where);

            var inputsNode = Required(map, "inputs", where);
            var inputs = new List<DatasetType>();
            var produced = new Dictionary<string, string>(); // dataset type -> who produces it ("pipeline inputs" or a task)
            foreach (var (node, i) in Sequence(inputsNode, $"{where} inputs").Select((n, i) => (n, i)))
            {
                var type = KnownType(Scalar(node, $"{where} inputs[{i}]"), node, $"{where} inputs[{i}]");
                if (!produced.TryAdd(type.Name, "the pipeline inputs"))
                {
                    throw Error(node, $"{where} inputs[{i}]", $"duplicate input dataset type '{type.Name}'");
                }
                inputs.Add(type);
            }

            var steps = new List<StepDefinition>();
            var taskNames = new HashSet<string>();
            foreach (var stepNode in Sequence(Required(map, "steps", where), "pipeline steps"))
            {
                var step = ReadStep(stepNode, steps, taskNames, produced);
                steps.Add(step);
            }
            if (steps.Count == 0)
            {
                throw Error(map, where, "no steps");
            }
            return new PipelineDefinition(name, description, inputs, steps.Select(s => s with { Units = Units(s, steps) }).ToList(), source);
        }

        private StepDefinition ReadStep(YamlNode node, List<StepDefinition> earlier, HashSet<string> taskNames, Dictionary<string, string> produced)
        {
            var map = Mapping(node, "step", s_stepKeys);
            string name = RequiredScalar(map, "name", "step");
            string where = $"step '{name}'";
            if (earlier.Any(s => s.Name == name))
            {
                throw Error(map.Children[new YamlScalarNode("name")], where, $"duplicate step name '{name}'");
            }
            string? description = OptionalScalar(map, "description", where);
            var clusterNode = Required(map, "cluster", where);
            var cluster = DimensionList(clusterNode, $"{where} cluster");

            var maxNode = Required(map, "maxJobsPerChunk", where);
            if (!int.TryParse(Scalar(maxNode, $"{where} maxJobsPerChunk"), NumberStyles.None, CultureInfo.InvariantCulture, out int maxJobs) || maxJobs < 1)
            {
                throw Error(maxNode, $"{where} maxJobsPerChunk", $"must be a positive whole number, not '{((YamlScalarNode)maxNode).Value}'");
            }

            var tasks = new List<TaskDefinition>();
            foreach (var taskNode in Sequence(Required(map, "tasks", where), $"{where} tasks"))
            {
                var task = ReadTask(taskNode, where, taskNames, produced);
                var missing = cluster.Where(d => !task.Dimensions.Contains(d)).ToList();
                if (missing.Count > 0)
                {
                    throw Error(clusterNode, $"{where} cluster",
                        $"task '{task.Name}' has dimensions [{string.Join(", ", task.Dimensions)}], without the cluster's [{string.Join(", ", missing)}]: every task of a step must carry its cluster dimensions");
                }
                tasks.Add(task);
            }
            if (tasks.Count == 0)
            {
                throw Error(map, $"{where} tasks", "a step needs at least one task");
            }
            var groups = map.Children.TryGetValue(new YamlScalarNode("fuse"), out var fuseNode) ? ReadFuse(fuseNode, $"{where} fuse", tasks, taskNames) : [];
            return new StepDefinition(name, description, cluster, maxJobs, tasks) { Groups = groups.Select(g => new FusedGroup(g.Name, g.Tasks)).ToList() };
        }

        /// <summary>The step's fused groups: each names tasks of the step with the same dimensions, each task in one group at most.</summary>
        private List<(string Name, List<TaskDefinition> Tasks)> ReadFuse(YamlNode node, string where, List<TaskDefinition> tasks, HashSet<string> taskNames)
        {
            var groups = new List<(string, List<TaskDefinition>)>();
            var fused = new HashSet<string>();
            int i = 0;
            foreach (var item in Sequence(node, where))
            {
                string w = $"{where}[{i++}]";
                var map = Mapping(item, w, s_fuseKeys);
                string name = RequiredScalar(map, "name", w);
                if (!taskNames.Add(name))
                {
                    throw Error(map.Children[new YamlScalarNode("name")], w, $"'{name}' is already the name of a task or a fused group");
                }
                var members = new List<TaskDefinition>();
                foreach (var t in Sequence(Required(map, "tasks", w), $"{w}.tasks"))
                {
                    string tn = Scalar(t, $"{w}.tasks");
                    var task = tasks.FirstOrDefault(x => x.Name == tn) ?? throw Error(t, $"{w}.tasks", $"no task '{tn}' in this step");
                    if (!fused.Add(tn))
                    {
                        throw Error(t, $"{w}.tasks", $"task '{tn}' is in two fused groups");
                    }
                    if (members.Count > 0 && !members[0].Dimensions.SequenceEqual(task.Dimensions))
                    {
                        throw Error(t, $"{w}.tasks", $"task '{tn}' has dimensions [{string.Join(", ", task.Dimensions)}], not the group's [{string.Join(", ", members[0].Dimensions)}]: fused tasks share one quantum");
                    }
                    members.Add(task);
                }
                if (members.Count < 2)
                {
                    throw Error(map, w, "a fused group needs at least two tasks");
                }
                groups.Add((name, members));
            }
            return groups;
        }

        /// <summary>
        /// The step's units of execution in task order: each fused group where its first task stands, every other task alone.
        /// A group's inputs are its tasks' inputs that no task of the group produces; its outputs are those some reader
        /// outside the group needs (a later task or step) or that no one reads inside it: an intermediate read only
        /// inside the group stays in memory.
        /// </summary>
        private static List<ExecutionUnit> Units(StepDefinition step, IReadOnlyList<StepDefinition> all)
        {
            var units = new List<ExecutionUnit>();
            var done = new HashSet<string>();
            foreach (var task in step.Tasks)
            {
                if (done.Contains(task.Name))
                {
                    continue;
                }
                var group = step.Groups.FirstOrDefault(g => g.Tasks.Contains(task));
                IReadOnlyList<TaskDefinition> members = group?.Tasks ?? [task];
                done.UnionWith(members.Select(m => m.Name));
                var produced = members.SelectMany(m => m.Outputs).Select(o => o.DatasetType.Name).ToHashSet();
                var readInside = members.SelectMany(m => m.Inputs).Select(i => i.DatasetType.Name).ToHashSet();
                var readOutside = all.SelectMany(s => s.Tasks).Where(t => !members.Contains(t)).SelectMany(t => t.Inputs).Select(i => i.DatasetType.Name).ToHashSet();
                var inputs = members.SelectMany(m => m.Inputs).Where(i => !produced.Contains(i.DatasetType.Name)).DistinctBy(i => i.DatasetType.Name).ToList();
                var outputs = members.SelectMany(m => m.Outputs).Where(o => readOutside.Contains(o.DatasetType.Name) || !readInside.Contains(o.DatasetType.Name)).ToList();
                units.Add(new ExecutionUnit(group?.Name ?? task.Name, members, group is not null, inputs, outputs));
            }
            return units;
        }

        private TaskDefinition ReadTask(YamlNode node, string stepWhere, HashSet<string> taskNames, Dictionary<string, string> produced)
        {
            var map = Mapping(node, $"{stepWhere} task", s_taskKeys);
            string name = RequiredScalar(map, "name", $"{stepWhere} task");
            string where = $"{stepWhere} task '{name}'";
            if (!taskNames.Add(name))
            {
                throw Error(map.Children[new YamlScalarNode("name")], where, $"duplicate task name '{name}'");
            }
            var dimensions = DimensionList(Required(map, "dimensions", where), $"{where} dimensions");

            var inputs = Connections(Required(map, "inputs", where), $"{where} inputs");
            var outputs = Connections(Required(map, "outputs", where), $"{where} outputs");
            foreach (var (connection, cnode, i) in inputs)
            {
                if (!produced.ContainsKey(connection.DatasetType.Name))
                {
                    throw Error(cnode, $"{where} inputs[{i}].datasetType",
                        $"consumes '{connection.DatasetType.Name}', which neither an earlier task nor the pipeline inputs produce");
                }
            }
            var names = new HashSet<string>();
            foreach (var (connection, cnode, i) in inputs.Select(c => (c.Connection, c.Node, $"inputs[{c.Index}]")).Concat(outputs.Select(c => (c.Connection, c.Node, $"outputs[{c.Index}]"))))
            {
                if (!names.Add(connection.Name))
                {
                    throw Error(cnode, $"{where} {i}.connection", $"duplicate connection name '{connection.Name}'");
                }
            }
            foreach (var (connection, cnode, i) in outputs)
            {
                if (produced.TryGetValue(connection.DatasetType.Name, out var by))
                {
                    throw Error(cnode, $"{where} outputs[{i}].datasetType", $"'{connection.DatasetType.Name}' is already produced by {by}");
                }
                produced[connection.DatasetType.Name] = $"task '{name}'";
            }

            var config = new List<ConfigEntry>();
            if (map.Children.TryGetValue(new YamlScalarNode("config"), out var configNode))
            {
                Flatten(configNode, "", config, $"{where} config");
            }
            var execution = ReadExecution(Required(map, "execution", where), $"{where} execution");
            return new TaskDefinition(name, dimensions, inputs.Select(c => c.Connection).ToList(), outputs.Select(c => c.Connection).ToList(), config, execution)
            {
                Source = source,
                Line = (int)map.Start.Line,
                Where = where,
            };
        }

        private List<(ConnectionDefinition Connection, YamlNode Node, int Index)> Connections(YamlNode node, string where)
        {
            var list = new List<(ConnectionDefinition, YamlNode, int)>();
            int i = 0;
            foreach (var item in Sequence(node, where))
            {
                string w = $"{where}[{i}]";
                var map = Mapping(item, w, s_connectionKeys);
                string name = RequiredScalar(map, "connection", w);
                var typeNode = Required(map, "datasetType", w);
                var type = KnownType(Scalar(typeNode, $"{w}.datasetType"), typeNode, $"{w}.datasetType");
                var dimsNode = Required(map, "dimensions", w);
                var dims = DimensionList(dimsNode, $"{w}.dimensions");
                if (!dims.SequenceEqual(type.Dimensions))
                {
                    throw Error(dimsNode, $"{w}.dimensions",
                        $"[{string.Join(", ", dims)}] differ from dataset type '{type.Name}''s [{string.Join(", ", type.Dimensions)}]");
                }
                list.Add((new ConnectionDefinition(name, type), typeNode, i));
                i++;
            }
            return list;
        }

        private ExecutionSettings ReadExecution(YamlNode node, string where)
        {
            var map = Mapping(node, where, s_executionKeys);
            var memoryNode = Required(map, "memory", where);
            string memoryName = Scalar(memoryNode, $"{where}.memory");
            if (!MemoryClasses.TryParse(memoryName, out var memory))
            {
                throw Error(memoryNode, $"{where}.memory", $"unknown memory class '{memoryName}' ({string.Join(", ", MemoryClasses.All.Select(c => c.Name()))})");
            }
            var interval = Duration(map, "heartbeatInterval", where);
            var timeout = Duration(map, "heartbeatTimeout", where);
            if (timeout <= interval)
            {
                throw Error(map.Children[new YamlScalarNode("heartbeatTimeout")], $"{where}.heartbeatTimeout",
                    $"{timeout} must be longer than the heartbeat interval {interval}");
            }
            var executor = JobExecutor.Activity;
            if (map.Children.TryGetValue(new YamlScalarNode("executor"), out var executorNode))
            {
                string executorName = Scalar(executorNode, $"{where}.executor");
                executor = executorName switch
                {
                    "activity" => JobExecutor.Activity,
                    "container" => JobExecutor.Container,
                    _ => throw Error(executorNode, $"{where}.executor", $"unknown executor '{executorName}' (activity, container)"),
                };
            }
            return new ExecutionSettings(memory, interval, timeout, executor);
        }

        private TimeSpan Duration(YamlMappingNode map, string key, string where)
        {
            var node = Required(map, key, where);
            string text = Scalar(node, $"{where}.{key}");
            if (!TryParseDuration(text, out var d) || d <= TimeSpan.Zero)
            {
                throw Error(node, $"{where}.{key}", $"'{text}' is not a positive duration with a unit (ms, s, m, h, d; e.g. 90s, 2h, 1h30m)");
            }
            return d;
        }

        private IReadOnlyList<string> DimensionList(YamlNode node, string where)
        {
            var dims = new List<string>();
            foreach (var item in Sequence(node, where))
            {
                string d = Scalar(item, where);
                int index = Dimensions.IndexOf(d);
                if (index < 0)
                {
                    throw Error(item, where, $"unknown dimension '{d}' (dimensions: {string.Join(", ", Dimensions.Order)})");
                }
                if (dims.Count > 0 && Dimensions.IndexOf(dims[^1]) >= index)
                {
                    throw Error(item, where,
                        $"'{d}' after '{dims[^1]}': dimensions must be distinct and in the fixed order {string.Join(", ", Dimensions.Order)}");
                }
                dims.Add(d);
            }
            if (dims.Count == 0)
            {
                throw Error(node, where, "no dimensions");
            }
            return dims;
        }

        private void Flatten(YamlNode node, string prefix, List<ConfigEntry> into, string where)
        {
            switch (node)
            {
                case YamlMappingNode m:
                    foreach (var (k, v) in m.Children)
                    {
                        string key = Scalar(k, where);
                        string path = prefix.Length == 0 ? key : prefix + "." + key;
                        if (into.Any(e => e.Key == path))
                        {
                            throw Error(k, where, $"config key '{path}' is given twice");
                        }
                        Flatten(v, path, into, where);
                    }
                    break;
                case YamlSequenceNode s:
                    into.Add(new ConfigEntry(prefix, s.Children.Select(c => Value(c, $"{where}.{prefix}")).ToList(), (int)node.Start.Line));
                    break;
                case YamlScalarNode:
                    if (prefix.Length == 0) throw Error(node, where, "config must be a mapping of names to values");
                    into.Add(new ConfigEntry(prefix, [Value(node, $"{where}.{prefix}")], (int)node.Start.Line) { IsList = false });
                    break;
            }
        }

        private ConfigValue Value(YamlNode node, string where) => node is YamlScalarNode sc
            ? new ConfigValue(sc.Value ?? "", sc.Style is ScalarStyle.Plain or ScalarStyle.Any)
            : throw Error(node, where, "expected a value (a list may hold values only)");

        private DatasetType KnownType(string name, YamlNode node, string where) =>
            KnownDatasetTypes.TryGetValue(name, out var type)
                ? type
                : throw Error(node, where, $"unknown dataset type '{name}' (known: {string.Join(", ", KnownDatasetTypes.Keys.Order(StringComparer.Ordinal))})");

        private YamlMappingNode Mapping(YamlNode node, string where, string[] allowedKeys)
        {
            if (node is not YamlMappingNode map)
            {
                throw Error(node, where, "expected a mapping");
            }
            foreach (var key in map.Children.Keys)
            {
                string k = Scalar(key, where);
                if (!allowedKeys.Contains(k))
                {
                    throw Error(key, where, $"unknown field '{k}' (fields: {string.Join(", ", allowedKeys)})");
                }
            }
            return map;
        }

        private IEnumerable<YamlNode> Sequence(YamlNode node, string where) =>
            node is YamlSequenceNode seq ? seq.Children : throw Error(node, where, "expected a list");

        private string Scalar(YamlNode node, string where) =>
            node is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Error(node, where, "expected a non-empty value");

        private YamlNode Required(YamlMappingNode map, string key, string where) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node)
                ? node
                : throw Error(map, where, $"missing required field '{key}'");

        private string RequiredScalar(YamlMappingNode map, string key, string where) => Scalar(Required(map, key, where), $"{where} {key}");

        private string? OptionalScalar(YamlMappingNode map, string key, string where) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? Scalar(node, $"{where} {key}") : null;

        private PipelineDefinitionException Error(YamlNode node, string where, string problem) =>
            new(source, (int)node.Start.Line, where, problem);
    }
}
