using System.Text.Json.Serialization.Metadata;
using Drp.Core.Datasets;

namespace Drp.Core.Tasks;

/// <summary>
/// A connection a task declares: its name and dataset type (the YAML restates them; the binder checks they agree).
/// An <paramref name="Optional"/> input the store does not hold is given to the task as absent.
/// </summary>
public sealed record TaskConnection(string Name, DatasetType DatasetType, bool Optional = false);

/// <summary>A dataset in memory: its data id and its value (the storage class of its dataset type: images, a catalog, a summary).</summary>
public sealed record TaskDataset(DataId DataId, object Value);

/// <summary>A task's inputs in memory, by connection name: every dataset of the connection the quantum reads.</summary>
public sealed class TaskInputs(IReadOnlyDictionary<string, IReadOnlyList<TaskDataset>> byConnection)
{
    /// <summary>Every dataset of the connection (none when none exists).</summary>
    public IReadOnlyList<TaskDataset> All(string connection) => byConnection.TryGetValue(connection, out var list) ? list : [];

    /// <summary>The one dataset of the connection; throws when there is none or more than one.</summary>
    public T Single<T>(string connection) => All(connection) switch
    {
        [var one] => (T)one.Value,
        var list => throw new InvalidOperationException($"connection '{connection}' holds {list.Count} datasets, not one"),
    };

    /// <summary>The connection's dataset if it exists, else null.</summary>
    public T? Optional<T>(string connection) where T : class => All(connection) is [var one] ? (T)one.Value : null;
}

/// <summary>What a task's <c>Run</c> returns: its outputs, or a typed "cannot be processed" with the reason (no retry helps).</summary>
public abstract record TaskResult
{
    /// <summary>The outputs, by connection name; <paramref name="Note"/> says what the runner should record (e.g. inputs missing).</summary>
    public sealed record Succeeded(IReadOnlyDictionary<string, IReadOnlyList<TaskDataset>> Outputs, string? Note = null) : TaskResult;

    /// <summary>The input cannot be processed (e.g. no reference objects): an outcome with its reason, not a failure.</summary>
    public sealed record Unprocessable(string Reason) : TaskResult;
}

/// <summary>
/// A pipeline task (lsst/pipe_base's PipelineTask): the connections it reads and writes, a typed config bound from the
/// pipeline YAML, and a pure <see cref="Run"/> from in-memory inputs to outputs. <see cref="Name"/> is the YAML's task
/// name, or a fused group's name when the class runs several YAML tasks in one process.
/// </summary>
public interface IPipelineTask
{
    /// <summary>The YAML task (or fused group) this class runs.</summary>
    string Name { get; }

    /// <summary>The datasets the runner reads for a quantum.</summary>
    IReadOnlyList<TaskConnection> Inputs { get; }

    /// <summary>The datasets the runner writes for a quantum.</summary>
    IReadOnlyList<TaskConnection> Outputs { get; }

    /// <summary>How the config binds from the YAML and is written back (its canonical form, which the config hash covers).</summary>
    JsonTypeInfo ConfigType { get; }

    /// <summary>The config with every field at its C# default: what the YAML's values are laid over.</summary>
    object DefaultConfig { get; }

    /// <summary>Runs the quantum at <paramref name="dataId"/>: no I/O, no clock, the same outputs for the same inputs.</summary>
    TaskResult Run(DataId dataId, TaskInputs inputs, object config);
}

/// <summary>The typed base of a task: <see cref="Run(DataId, TaskInputs, TConfig)"/> takes its config record.</summary>
public abstract class PipelineTask<TConfig> : IPipelineTask where TConfig : class, new()
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract IReadOnlyList<TaskConnection> Inputs { get; }

    /// <inheritdoc />
    public abstract IReadOnlyList<TaskConnection> Outputs { get; }

    /// <summary>The config's JSON contract (a source-generated one where the task must run natively).</summary>
    public abstract JsonTypeInfo<TConfig> Config { get; }

    JsonTypeInfo IPipelineTask.ConfigType => Config;

    object IPipelineTask.DefaultConfig => new TConfig();

    /// <summary>Runs the quantum with its bound config.</summary>
    public abstract TaskResult Run(DataId dataId, TaskInputs inputs, TConfig config);

    TaskResult IPipelineTask.Run(DataId dataId, TaskInputs inputs, object config) => Run(dataId, inputs, (TConfig)config);

    /// <summary>Outputs with one dataset per connection, at the quantum's own data id or the one given.</summary>
    protected static TaskResult.Succeeded Produced(params (string Connection, DataId DataId, object Value)[] outputs) =>
        new(outputs.GroupBy(o => o.Connection).ToDictionary(g => g.Key, g => (IReadOnlyList<TaskDataset>)g.Select(o => new TaskDataset(o.DataId, o.Value)).ToList()));
}
