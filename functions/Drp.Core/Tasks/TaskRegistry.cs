using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Drp.Core.Planning;

namespace Drp.Core.Tasks;

/// <summary>
/// The task classes by the YAML name they run, and the pipeline they run in: a unit binds to its class once (connections
/// checked, config bound and hashed) and is cached. A step runs only when every unit of it has a class.
/// </summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, IPipelineTask> _tasks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Step, string Unit), BoundTask> _bound = new();

    /// <summary>A registry of <paramref name="tasks"/> for <paramref name="pipeline"/>; two classes for one name are an error.</summary>
    public TaskRegistry(PipelineDefinition pipeline, IEnumerable<IPipelineTask> tasks)
    {
        Pipeline = pipeline;
        foreach (var task in tasks)
        {
            if (!_tasks.TryAdd(task.Name, task) && _tasks[task.Name].GetType() != task.GetType())
            {
                throw new InvalidOperationException($"two task classes run '{task.Name}': {_tasks[task.Name].GetType().FullName} and {task.GetType().FullName}");
            }
        }
    }

    /// <summary>The pipeline the tasks run in.</summary>
    public PipelineDefinition Pipeline { get; }

    /// <summary>The task classes found: every public, concrete <see cref="IPipelineTask"/> with a parameterless constructor in the assemblies.</summary>
    [RequiresUnreferencedCode("finds task classes by reflection; a trimmed app constructs its tasks itself")]
    public static IEnumerable<IPipelineTask> Discover(IEnumerable<Assembly> assemblies) => assemblies
        .Where(a => !a.IsDynamic)
        .SelectMany(a => a.GetExportedTypes())
        .Where(t => typeof(IPipelineTask).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (IPipelineTask)Activator.CreateInstance(t)!);

    /// <summary>The assemblies of this process that can hold tasks: those referencing Drp.Core.</summary>
    [RequiresUnreferencedCode("finds task classes by reflection")]
    public static IEnumerable<IPipelineTask> DiscoverLoaded()
    {
        // Drp.Pipeline holds the built-in tasks; make sure it is loaded before the scan.
        _ = Assembly.Load("Drp.Pipeline");
        string core = typeof(IPipelineTask).Assembly.GetName().Name!;
        return Discover(AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetReferencedAssemblies().Any(r => r.Name == core)));
    }

    /// <summary>True when every unit of the step has a task class.</summary>
    public bool CanRun(string step) => Pipeline.Step(step).Units.All(u => _tasks.ContainsKey(u.Name));

    /// <summary>The steps that can run, in pipeline order.</summary>
    public IReadOnlyList<string> RunnableSteps => Pipeline.Steps.Where(s => CanRun(s.Name)).Select(s => s.Name).ToList();

    /// <summary>The unit <paramref name="unit"/> of <paramref name="step"/> bound to its class; throws <see cref="PipelineDefinitionException"/>.</summary>
    public BoundTask Bind(string step, string unit) => _bound.GetOrAdd((step, unit), k =>
    {
        var u = Pipeline.Step(k.Step).Unit(k.Unit);
        var first = u.Tasks[0];
        return _tasks.TryGetValue(k.Unit, out var task)
            ? TaskConfigBinder.Bind(task, u)
            : throw new PipelineDefinitionException(first.Source, first.Line, first.Where, $"no task class runs '{k.Unit}' (classes: {string.Join(", ", _tasks.Keys.Order(StringComparer.Ordinal))})");
    });

    /// <summary>Binds every unit of every runnable step now, so a bad config fails at start-up, not at the first quantum.</summary>
    public TaskRegistry Validate()
    {
        foreach (var step in RunnableSteps)
        {
            foreach (var unit in Pipeline.Step(step).Units)
            {
                Bind(step, unit.Name);
            }
        }
        return this;
    }
}
