using Drp.Core.Planning;
using Drp.Core.Tasks;

namespace Drp.Core.Tests;

/// <summary>
/// A task's config binds from the pipeline YAML: values laid over the record's defaults, every mistake named with the
/// file and line, and a hash over what will run: a changed YAML value or a changed C# default changes it.
/// </summary>
public sealed class TaskConfigBinderTests
{
    /// <summary>Line numbers count from "name:" = 1; the config entries are on lines 15-18.</summary>
    private const string Toy = """
        name: toy
        inputs: [raw]
        steps:
          - name: toyStep
            cluster: [instrument, visit]
            maxJobsPerChunk: 5
            tasks:
              - name: toy
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: raw, datasetType: raw, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: image, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                config:
                  threshold: 2.5
                  label: five
                  nested.limit: 7
                  bands: [g, r]
                execution: { memory: standard, heartbeatInterval: 1m, heartbeatTimeout: 10m }
        """;

    private const string Pair = """
        name: pair
        inputs: [raw]
        steps:
          - name: toyStep
            cluster: [instrument, visit]
            maxJobsPerChunk: 5
            fuse:
              - { name: pair, tasks: [first, second] }
            tasks:
              - name: first
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: raw, datasetType: raw, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: exposure, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                config:
                  threshold: 9
                execution: { memory: standard, heartbeatInterval: 1m, heartbeatTimeout: 10m }
              - name: second
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: exposure, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: calexp, datasetType: calexp, dimensions: [instrument, visit, detector] }
                config:
                  limit: 4
                execution: { memory: highmem, heartbeatInterval: 30s, heartbeatTimeout: 1h }
        """;

    private static BoundTask Bind(string yaml, IPipelineTask? task = null) =>
        TaskConfigBinder.Bind(task ?? new ToyTask(), PipelineDefinitionLoader.Parse(yaml, "toy.yaml").Step("toyStep").Unit("toy"));

    [Fact]
    public void Bind_ToyTask_YamlValuesOverTheDefaults()
    {
        var bound = Bind(Toy);

        var config = Assert.IsType<ToyConfig>(bound.Config);
        Assert.Equal((2.5, "five", 7, 3), (config.Threshold, config.Label, config.Nested.Limit, config.Untouched));
        Assert.Equal(["g", "r"], config.Bands);
        // The hash covers every field, the defaults the YAML leaves out included.
        Assert.Contains("\"untouched\":3", bound.ConfigJson);
        Assert.Matches("^[0-9a-f]{16}$", bound.ConfigHash);
    }

    [Fact]
    public void Bind_YamlValueChanged_ConfigAndHashChange()
    {
        var before = Bind(Toy);
        var same = Bind(Toy);
        var after = Bind(Toy.Replace("threshold: 2.5", "threshold: 3.5"));

        Assert.Equal(before.ConfigHash, same.ConfigHash);
        Assert.Equal(3.5, ((ToyConfig)after.Config).Threshold);
        Assert.NotEqual(before.ConfigHash, after.ConfigHash);
    }

    [Fact]
    public void Bind_CSharpDefaultChanged_HashChangesWithTheSameYaml()
    {
        var before = Bind(Toy);
        var after = Bind(Toy, new ToyTaskWithOtherDefault());

        Assert.Equal(4, ((ToyConfigWithOtherDefault)after.Config).Untouched);
        Assert.NotEqual(before.ConfigHash, after.ConfigHash);
    }

    [Theory]
    [InlineData("nested.limit: 7", "nested.limt: 7", 17, "unknown config key 'nested.limt': ToyLimits has no 'limt' (fields: limit)")]
    [InlineData("label: five", "lable: five", 16, "unknown config key 'lable': ToyConfig has no 'lable' (fields: threshold, label, nested, bands, untouched)")]
    [InlineData("nested.limit: 7", "nested.limit.deeper: 7", 17, "Int32 has no 'deeper' (fields: none: it is a value)")]
    [InlineData("threshold: 2.5", "threshold: high", 15, "'threshold':")]
    [InlineData("threshold: 2.5", "threshold: \"2.5\"", 15, "'threshold':")] // quoted: a string, not a number
    [InlineData("nested.limit: 7", "nested.limit: 7.5", 17, "'nested.limit':")]
    public void Bind_BadKeyOrValue_FailsNamingFileLineTaskAndKey(string find, string replace, int line, string problem)
    {
        var e = Assert.Throws<PipelineDefinitionException>(() => Bind(Toy.Replace(find, replace)));

        Assert.Equal(("toy.yaml", line), (e.File, e.Line));
        Assert.StartsWith($"toy.yaml:{line}: step 'toyStep' task 'toy' config: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Bind_ConnectionsDisagreeWithTheClass_FailsNamingBoth()
    {
        var e = Assert.Throws<PipelineDefinitionException>(() => Bind(Toy.Replace("connection: image", "connection: picture")));

        Assert.Equal(8, e.Line);
        Assert.Contains("the outputs of 'toy' in the YAML [picture: post_isr_exposure] differ from its task class's [image: post_isr_exposure]", e.Message);
    }

    [Fact]
    public void Bind_FusedGroup_ConfigPerMemberTaskAndTheIntermediateStaysInside()
    {
        var step = PipelineDefinitionLoader.Parse(Pair, "pair.yaml").Step("toyStep");

        var unit = Assert.Single(step.Units);
        var bound = TaskConfigBinder.Bind(new ToyGroupTask(), unit);

        Assert.Equal(("pair", true), (unit.Name, unit.IsFused));
        Assert.Equal(["raw"], unit.Inputs.Select(i => i.DatasetType.Name));
        Assert.Equal(["calexp"], unit.Outputs.Select(o => o.DatasetType.Name)); // post_isr_exposure is read only inside the group
        Assert.Equal(new ExecutionSettings(MemoryClass.Highmem, TimeSpan.FromSeconds(30), TimeSpan.FromHours(1)), unit.Execution);
        var config = (ToyGroupConfig)bound.Config;
        Assert.Equal((9.0, 4), (config.First.Threshold, config.Second.Limit));
        var e = Assert.Throws<PipelineDefinitionException>(() => TaskConfigBinder.Bind(new ToyGroupTask(),
            PipelineDefinitionLoader.Parse(Pair.Replace("limit: 4", "limits: 4"), "pair.yaml").Step("toyStep").Units[0]));
        Assert.Equal(26, e.Line);
        Assert.Contains("step 'toyStep' task 'second' config: unknown config key 'limits'", e.Message);
    }

    [Theory]
    [InlineData("- { name: pair, tasks: [first] }", "a fused group needs at least two tasks")]
    [InlineData("- { name: pair, tasks: [first, third] }", "no task 'third' in this step")]
    [InlineData("- { name: first, tasks: [first, second] }", "'first' is already the name of a task or a fused group")]
    [InlineData("- { name: pair, tasks: [first, second, first] }", "task 'first' is in two fused groups")]
    public void Parse_BadFusedGroup_FailsWithItsReason(string group, string problem)
    {
        string yaml = Pair.Replace("- { name: pair, tasks: [first, second] }", group, StringComparison.Ordinal);

        var e = Assert.Throws<PipelineDefinitionException>(() => PipelineDefinitionLoader.Parse(yaml, "toy.yaml"));

        Assert.Contains(problem, e.Message);
    }
}
