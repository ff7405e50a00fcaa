using Drp.Core.Datasets;
using Drp.Core.Provenance;

namespace Drp.Core.Planning;

/// <summary>
/// A DRP pipeline as declared in its YAML file (<c>pipelines/drp.yaml</c>): the dataset types that exist before it
/// runs, and its steps in order. Built only by <see cref="PipelineDefinitionLoader"/>, which validates it.
/// </summary>
public sealed record PipelineDefinition(string Name, string? Description, IReadOnlyList<DatasetType> Inputs, IReadOnlyList<StepDefinition> Steps, string Source)
{
    /// <summary>The step of that name; throws <see cref="KeyNotFoundException"/> naming the known steps.</summary>
    public StepDefinition Step(string name) =>
        Steps.FirstOrDefault(s => s.Name == name)
        ?? throw new KeyNotFoundException($"pipeline '{Name}' ({Source}) has no step '{name}' (steps: {string.Join(", ", Steps.Select(s => s.Name))})");
}

/// <summary>
/// One DRP step: its tasks in execution order, the dimensions that make one job (<see cref="Cluster"/>: every task's
/// quanta with the same values of these dimensions run in one job), and the most jobs one chunk sub-orchestration fans out.
/// <see cref="Units"/> is what executes: each fused group as one unit, every other task alone.
/// </summary>
public sealed record StepDefinition(string Name, string? Description, IReadOnlyList<string> Cluster, int MaxJobsPerChunk, IReadOnlyList<TaskDefinition> Tasks)
{
    /// <summary>The union of the tasks' quantum dimensions, in the fixed order: the grain the planner reads its input at.</summary>
    public IReadOnlyList<string> FinestDimensions { get; } = Dimensions.Union(Tasks.Select(t => t.Dimensions));

    /// <summary>The groups of tasks the YAML's <c>fuse:</c> runs in one process, intermediates in memory.</summary>
    public IReadOnlyList<FusedGroup> Groups { get; init; } = [];

    /// <summary>The units of execution in task order (set by the loader).</summary>
    public IReadOnlyList<ExecutionUnit> Units { get; init; } = [];

    /// <summary>The unit of that name; throws <see cref="KeyNotFoundException"/> naming the known units.</summary>
    public ExecutionUnit Unit(string name) =>
        Units.FirstOrDefault(u => u.Name == name)
        ?? throw new KeyNotFoundException($"step '{Name}' has no task or fused group '{name}' (units: {string.Join(", ", Units.Select(u => u.Name))})");
}

/// <summary>Tasks of one step with the same dimensions that run as one quantum in one process (the YAML's <c>fuse:</c>).</summary>
public sealed record FusedGroup(string Name, IReadOnlyList<TaskDefinition> Tasks);

/// <summary>
/// What runs as one quantum: a task alone, or a fused group of tasks. Its inputs are read by the runner, its outputs
/// written: the connections that cross its boundary (a fused group's intermediates stay in memory). The task class
/// registered under <see cref="Name"/> implements it.
/// </summary>
public sealed record ExecutionUnit(string Name, IReadOnlyList<TaskDefinition> Tasks, bool IsFused, IReadOnlyList<ConnectionDefinition> Inputs, IReadOnlyList<ConnectionDefinition> Outputs)
{
    /// <summary>The quantum's dimensions (every member task's).</summary>
    public IReadOnlyList<string> Dimensions => Tasks[0].Dimensions;

    /// <summary>The execution settings of the unit: the largest memory class, shortest interval and longest timeout of its tasks.</summary>
    public ExecutionSettings Execution => new(
        Tasks.Max(t => t.Execution.Memory), Tasks.Min(t => t.Execution.HeartbeatInterval), Tasks.Max(t => t.Execution.HeartbeatTimeout), Tasks.Max(t => t.Execution.Executor));
}

/// <summary>
/// A task of a step: its quantum dimensions, its connections (the dataset types it reads and writes), its config
/// entries (dotted keys, values as written, with their lines) and its execution settings.
/// </summary>
public sealed record TaskDefinition(
    string Name,
    IReadOnlyList<string> Dimensions,
    IReadOnlyList<ConnectionDefinition> Inputs,
    IReadOnlyList<ConnectionDefinition> Outputs,
    IReadOnlyList<ConfigEntry> Config,
    ExecutionSettings Execution)
{
    /// <summary>The file the task was read from.</summary>
    public string Source { get; init; } = "";

    /// <summary>The task's line in <see cref="Source"/>.</summary>
    public int Line { get; init; }

    /// <summary>Where in the definition, for messages: <c>step 'step1' task 'isr'</c>.</summary>
    public string Where { get; init; } = "";
}

/// <summary>A config key as written (dotted for nested fields) with its value or list of values and its line.</summary>
public sealed record ConfigEntry(string Key, IReadOnlyList<ConfigValue> Values, int Line)
{
    /// <summary>True for a YAML list, false for a single value.</summary>
    public bool IsList { get; init; } = true;
}

/// <summary>A YAML scalar: its text, and whether it was plain (typed by its text: number, true/false, null) rather than quoted.</summary>
public sealed record ConfigValue(string Text, bool Plain);

/// <summary>A named input or output of a task and its dataset type (whose dimensions the YAML restates and the loader checks).</summary>
public sealed record ConnectionDefinition(string Name, DatasetType DatasetType);

/// <summary>
/// How a task type's quanta run: memory class, the heartbeat interval and the silence after which a job is declared
/// lost, and where they run (<see cref="JobExecutor"/>: light work as activities, heavy work in container jobs).
/// </summary>
public sealed record ExecutionSettings(MemoryClass Memory, TimeSpan HeartbeatInterval, TimeSpan HeartbeatTimeout, JobExecutor Executor = JobExecutor.Activity);

/// <summary>Where a job's quanta run (as JSON: its name, e.g. in the operator API's <c>"executor": "Container"</c>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<JobExecutor>))]
public enum JobExecutor
{
    /// <summary>As Durable activities of the job's orchestration (light work: a detector's single-frame processing).</summary>
    Activity = 0,

    /// <summary>
    /// In a container job: sent to the queue of the job's memory class and awaited as an external event raced against a
    /// durable timer set from the heartbeat timeout (heavy work: coadds, deblending).
    /// </summary>
    Container = 1,
}

/// <summary>The memory classes a job can ask for, smallest first (DP0.2's PanDA queues: ≤ 3.2 GB, ≤ 18 GB, ≤ 220 GB).</summary>
public enum MemoryClass
{
    /// <summary>A few GB: most per-detector work.</summary>
    Standard = 0,

    /// <summary>Up to ~18 GB: warps, coadds, measurement.</summary>
    Highmem = 1,

    /// <summary>Up to ~220 GB: deblending huge blends, survey-wide consolidation.</summary>
    ExtraHighmem = 2,
}

/// <summary>
/// The one mapping between <see cref="MemoryClass"/> and its name in the pipeline YAML, queue names and Bicep
/// (<c>standard</c>, <c>highmem</c>, <c>extra-highmem</c>), and the order in which an out-of-memory job escalates.
/// </summary>
public static class MemoryClasses
{
    /// <summary>Every class, smallest first.</summary>
    public static readonly IReadOnlyList<MemoryClass> All = [MemoryClass.Standard, MemoryClass.Highmem, MemoryClass.ExtraHighmem];

    /// <summary>The class's name: <c>standard</c>, <c>highmem</c> or <c>extra-highmem</c>.</summary>
    public static string Name(this MemoryClass memory) => memory switch
    {
        MemoryClass.Standard => "standard",
        MemoryClass.Highmem => "highmem",
        MemoryClass.ExtraHighmem => "extra-highmem",
        _ => throw new ArgumentOutOfRangeException(nameof(memory), memory, "not a memory class"),
    };

    /// <summary>The class of a name, or false for an unknown name.</summary>
    public static bool TryParse(string? name, out MemoryClass memory)
    {
        foreach (var c in All)
        {
            if (string.Equals(c.Name(), name, StringComparison.Ordinal))
            {
                memory = c;
                return true;
            }
        }
        memory = default;
        return false;
    }

    /// <summary>The next larger class, or null for the largest.</summary>
    public static MemoryClass? Next(this MemoryClass memory) => memory == All[^1] ? null : All[All.ToList().IndexOf(memory) + 1];
}

/// <summary>The dimensions a data id or quantum can carry, always in this fixed order.</summary>
public static class Dimensions
{
    /// <summary>instrument, visit, detector, tract, patch, band.</summary>
    public static readonly IReadOnlyList<string> Order = ["instrument", "visit", "detector", "tract", "patch", "band"];

    /// <summary>The position of a dimension in <see cref="Order"/>, or -1.</summary>
    public static int IndexOf(string dimension)
    {
        for (int i = 0; i < Order.Count; i++)
        {
            if (Order[i] == dimension) return i;
        }
        return -1;
    }

    /// <summary>Every dimension in any of the sets, in the fixed order.</summary>
    public static IReadOnlyList<string> Union(IEnumerable<IReadOnlyList<string>> sets)
    {
        var all = sets.SelectMany(s => s).ToHashSet();
        return Order.Where(all.Contains).ToArray();
    }
}
