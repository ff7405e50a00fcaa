using Drp.Core.Datasets;
using Drp.Core.Planning;

namespace Drp.Workflows.Tests.Planning;

/// <summary>The pipeline YAML loader: the repository's pipeline loads, and each kind of mistake gets its own message with file, line and place.</summary>
public sealed class PipelineDefinitionLoaderTests
{
    /// <summary>A small valid pipeline; the tests break one thing at a time. Line numbers are counted from "name:" = line 1.</summary>
    internal const string Valid = """
        name: mini
        inputs: [raw, bias]
        steps:
          - name: step1
            cluster: [instrument, visit]
            maxJobsPerChunk: 2
            tasks:
              - name: isr
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: ccdExposure, datasetType: raw, dimensions: [instrument, visit, detector] }
                  - { connection: bias, datasetType: bias, dimensions: [instrument, detector] }
                outputs:
                  - { connection: exposure, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                config:
                  doBias: true
                  overscan: { fitType: MEDIAN_PER_ROW, order: 1 }
                execution: { memory: standard, heartbeatInterval: 1m, heartbeatTimeout: 1h30m }
              - name: calibrate
                dimensions: [instrument, visit, detector]
                inputs:
                  - { connection: exposure, datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: calexp, datasetType: calexp, dimensions: [instrument, visit, detector] }
                execution: { memory: highmem, heartbeatInterval: 30s, heartbeatTimeout: 20m }
          - name: step2
            cluster: [instrument, visit]
            maxJobsPerChunk: 10
            tasks:
              - name: consolidate
                dimensions: [instrument, visit]
                inputs:
                  - { connection: calexps, datasetType: calexp, dimensions: [instrument, visit, detector] }
                outputs:
                  - { connection: summary, datasetType: visit_summary, dimensions: [instrument, visit] }
                execution: { memory: extra-highmem, heartbeatInterval: 1m, heartbeatTimeout: 2h, executor: container }
        """;

    [Fact]
    public void Parse_ValidPipeline_GivesTypedStepsTasksConnectionsConfigAndExecution()
    {
        var p = PipelineDefinitionLoader.Parse(Valid, "mini.yaml");

        Assert.Equal("mini", p.Name);
        Assert.Equal(["raw", "bias"], p.Inputs.Select(t => t.Name));
        Assert.Equal(["step1", "step2"], p.Steps.Select(s => s.Name));
        var step1 = p.Step("step1");
        Assert.Equal(["instrument", "visit"], step1.Cluster);
        Assert.Equal(2, step1.MaxJobsPerChunk);
        var isr = step1.Tasks[0];
        Assert.Same(DatasetType.Raw, isr.Inputs[0].DatasetType);
        Assert.Equal("ccdExposure", isr.Inputs[0].Name);
        Assert.Same(DatasetType.PostIsrExposure, isr.Outputs[0].DatasetType);
        Assert.Equal(new ConfigValue("true", Plain: true), isr.Config.Single(e => e.Key == "doBias").Values.Single());
        Assert.Equal((new ConfigValue("MEDIAN_PER_ROW", true), 17), (isr.Config.Single(e => e.Key == "overscan.fitType").Values.Single(), isr.Config.Single(e => e.Key == "overscan.fitType").Line));
        Assert.Equal(["isr", "calibrate"], step1.Units.Select(u => u.Name)); // no fuse: each task is its own unit
        Assert.Equal(new ExecutionSettings(MemoryClass.Standard, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(90)), isr.Execution);
        Assert.Equal(TimeSpan.FromSeconds(30), step1.Tasks[1].Execution.HeartbeatInterval);
        Assert.Equal(MemoryClass.ExtraHighmem, p.Step("step2").Tasks[0].Execution.Memory);
        Assert.Equal(JobExecutor.Activity, isr.Execution.Executor); // the default
        Assert.Equal(JobExecutor.Container, p.Step("step2").Tasks[0].Execution.Executor);
    }

    [Fact]
    public void Load_RepositoryPipeline_HasTheDp02StepsAndTheirClusters()
    {
        var p = PipelineDefinitionLoader.Load(RepositoryPipelinePath);

        Assert.Equal(["step1", "step2", "step3", "step4", "step7"], p.Steps.Select(s => s.Name));
        Assert.Equal(["isr", "characterizeImage", "calibrate", "writeSourceTable"], p.Step("step1").Tasks.Select(t => t.Name));
        Assert.Equal(["instrument", "visit"], p.Step("step1").Cluster);
        Assert.Equal(["instrument", "tract", "patch"], p.Step("step3").Cluster);
        Assert.Equal(MemoryClass.Highmem, p.Step("step3").Tasks.Single(t => t.Name == "deblend").Execution.Memory);
        Assert.Equal(JobExecutor.Container, p.Step("step3").Tasks.Single(t => t.Name == "deblend").Execution.Executor);
        Assert.All(p.Step("step1").Tasks, t => Assert.Equal(JobExecutor.Activity, t.Execution.Executor));
        Assert.All(p.Steps.SelectMany(s => s.Tasks), t => Assert.True(t.Execution.HeartbeatTimeout > t.Execution.HeartbeatInterval));
    }

    [Fact]
    public void LoadDefault_EmbeddedPipeline_IsTheRepositoryFile()
    {
        var embedded = PipelineDefinitionLoader.LoadDefault();
        var file = PipelineDefinitionLoader.Load(RepositoryPipelinePath);

        Assert.Equal("pipelines/drp.yaml", embedded.Source);
        Assert.Equal(file.Steps.SelectMany(s => s.Tasks).Select(t => (t.Name, t.Execution)), embedded.Steps.SelectMany(s => s.Tasks).Select(t => (t.Name, t.Execution)));
    }

    [Theory]
    [InlineData("datasetType: raw,", "datasetType: rawx,", 11, "step 'step1' task 'isr' inputs[0].datasetType", "unknown dataset type 'rawx'")]
    [InlineData("dimensions: [instrument, visit, detector]\n", "dimensions: [instrument, detector, visit]\n", 9, "step 'step1' task 'isr' dimensions", "'visit' after 'detector': dimensions must be distinct and in the fixed order")]
    [InlineData("dimensions: [instrument, visit, detector]\n", "dimensions: [instrument, exposure, detector]\n", 9, "step 'step1' task 'isr' dimensions", "unknown dimension 'exposure'")]
    [InlineData("dimensions: [instrument, visit]\n", "dimensions: [instrument, visit, visit]\n", 31, "step 'step2' task 'consolidate' dimensions", "'visit' after 'visit'")]
    [InlineData("inputs: [raw, bias]", "inputs: [raw]", 12, "step 'step1' task 'isr' inputs[1].datasetType", "consumes 'bias', which neither an earlier task nor the pipeline inputs produce")]
    [InlineData("- name: calibrate", "- name: isr", 19, "step 'step1' task 'isr'", "duplicate task name 'isr'")]
    [InlineData("- name: step2", "- name: step1", 26, "step 'step1'", "duplicate step name 'step1'")]
    [InlineData("heartbeatInterval: 30s, heartbeatTimeout: 20m", "heartbeatInterval: 30s", 25, "step 'step1' task 'calibrate' execution", "missing required field 'heartbeatTimeout'")]
    [InlineData("heartbeatTimeout: 20m", "heartbeatTimeout: 20", 25, "step 'step1' task 'calibrate' execution.heartbeatTimeout", "'20' is not a positive duration with a unit")]
    [InlineData("heartbeatTimeout: 20m", "heartbeatTimeout: 20s", 25, "step 'step1' task 'calibrate' execution.heartbeatTimeout", "must be longer than the heartbeat interval")]
    [InlineData("memory: highmem", "memory: huge", 25, "step 'step1' task 'calibrate' execution.memory", "unknown memory class 'huge'")]
    [InlineData("heartbeatTimeout: 2h, executor: container", "heartbeatTimeout: 2h, executor: lambda", 36, "step 'step2' task 'consolidate' execution.executor", "unknown executor 'lambda' (activity, container)")]
    [InlineData("datasetType: bias, dimensions: [instrument, detector]", "datasetType: bias, dimensions: [instrument, visit, detector]", 12, "step 'step1' task 'isr' inputs[1].dimensions", "differ from dataset type 'bias''s [instrument, detector]")]
    [InlineData("maxJobsPerChunk: 2", "maxJobsPerChunk: 0", 6, "step 'step1' maxJobsPerChunk", "must be a positive whole number")]
    [InlineData("maxJobsPerChunk: 2", "maxJobsPerChunks: 2", 6, "step", "unknown field 'maxJobsPerChunks'")]
    [InlineData("cluster: [instrument, visit]\n    maxJobsPerChunk: 10", "cluster: [instrument, visit, detector]\n    maxJobsPerChunk: 10", 27, "step 'step2' cluster", "task 'consolidate' has dimensions [instrument, visit], without the cluster's [detector]")]
    [InlineData("datasetType: calexp, dimensions: [instrument, visit, detector] }\n        execution: { memory: highmem", "datasetType: post_isr_exposure, dimensions: [instrument, visit, detector] }\n        execution: { memory: highmem", 24, "step 'step1' task 'calibrate' outputs[0].datasetType", "'post_isr_exposure' is already produced by task 'isr'")]
    public void Parse_OneMistake_FailsWithItsOwnMessageNamingFileLineAndPlace(string find, string replace, int line, string where, string problem)
    {
        var yaml = Valid.ReplaceLineEndings("\n");
        Assert.Contains(find, yaml); // the mutation must hit, or the test would pass for the wrong reason
        int at = yaml.IndexOf(find, StringComparison.Ordinal);
        yaml = yaml[..at] + replace + yaml[(at + find.Length)..];

        var e = Assert.Throws<PipelineDefinitionException>(() => PipelineDefinitionLoader.Parse(yaml, "bad.yaml"));

        Assert.Equal("bad.yaml", e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(where, e.Where);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"bad.yaml:{line}: {where}: ", e.Message);
    }

    [Fact]
    public void Parse_DuplicateField_ReportsItsLine()
    {
        var e = Assert.Throws<PipelineDefinitionException>(() => PipelineDefinitionLoader.Parse("name: a\ninputs: [raw]\nname: b\nsteps: []\n", "dup.yaml"));

        Assert.Equal(3, e.Line);
        Assert.Contains("name", e.Problem);
    }

    [Fact]
    public void Parse_BrokenYaml_ReportsTheParserLine()
    {
        var e = Assert.Throws<PipelineDefinitionException>(() => PipelineDefinitionLoader.Parse("name: x\nsteps: [a, b\ninputs: []\n", "broken.yaml"));

        Assert.Equal("YAML", e.Where);
        Assert.True(e.Line >= 2, $"line {e.Line}");
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("1d", 86400)]
    public void TryParseDuration_WithUnits_Parses(string text, double seconds)
    {
        Assert.True(PipelineDefinitionLoader.TryParseDuration(text, out var d));
        Assert.Equal(TimeSpan.FromSeconds(seconds), d);
    }

    [Theory]
    [InlineData("20")]
    [InlineData("20 minutes")]
    [InlineData("m")]
    [InlineData("")]
    public void TryParseDuration_WithoutAUnit_Fails(string text) =>
        Assert.False(PipelineDefinitionLoader.TryParseDuration(text, out _));

    internal static string RepositoryPipelinePath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Serverless.Drp.sln")))
                {
                    return Path.Combine(dir.FullName, "pipelines", "drp.yaml");
                }
            }
            throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }
}
