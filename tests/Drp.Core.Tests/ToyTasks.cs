using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Drp.Core.Datasets;
using Drp.Core.Tasks;

namespace Drp.Core.Tests;

public sealed record ToyLimits
{
    public int Limit { get; init; } = 1;
}

public sealed record ToyConfig
{
    public double Threshold { get; init; } = 1.0;

    public string Label { get; init; } = "none";

    public ToyLimits Nested { get; init; } = new();

    public IReadOnlyList<string> Bands { get; init; } = [];

    public int Untouched { get; init; } = 3;
}

/// <summary>The same fields as <see cref="ToyConfig"/>, one default changed: what a change to a C# default looks like.</summary>
public sealed record ToyConfigWithOtherDefault
{
    public double Threshold { get; init; } = 1.0;

    public string Label { get; init; } = "none";

    public ToyLimits Nested { get; init; } = new();

    public IReadOnlyList<string> Bands { get; init; } = [];

    public int Untouched { get; init; } = 4;
}

public sealed record ToyGroupConfig
{
    public ToyConfig First { get; init; } = new();

    public ToyLimits Second { get; init; } = new();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ToyConfig))]
[JsonSerializable(typeof(ToyConfigWithOtherDefault))]
[JsonSerializable(typeof(ToyGroupConfig))]
public sealed partial class ToyJson : JsonSerializerContext;

/// <summary>A task reading a raw and writing an image: its Run is not the point of these tests.</summary>
public class ToyTask : PipelineTask<ToyConfig>
{
    public override string Name => "toy";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("raw", DatasetType.Raw)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("image", DatasetType.PostIsrExposure)];

    public override JsonTypeInfo<ToyConfig> Config => ToyJson.Default.ToyConfig;

    public override TaskResult Run(DataId dataId, TaskInputs inputs, ToyConfig config) => new TaskResult.Unprocessable("not run here");
}

public sealed class ToyTaskWithOtherDefault : PipelineTask<ToyConfigWithOtherDefault>
{
    public override string Name => "toy";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("raw", DatasetType.Raw)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("image", DatasetType.PostIsrExposure)];

    public override JsonTypeInfo<ToyConfigWithOtherDefault> Config => ToyJson.Default.ToyConfigWithOtherDefault;

    public override TaskResult Run(DataId dataId, TaskInputs inputs, ToyConfigWithOtherDefault config) => new TaskResult.Unprocessable("not run here");
}

/// <summary>A fused group of two tasks: reads the raw, writes the calexp; the intermediate stays inside.</summary>
public sealed class ToyGroupTask : PipelineTask<ToyGroupConfig>
{
    public override string Name => "pair";

    public override IReadOnlyList<TaskConnection> Inputs { get; } = [new("raw", DatasetType.Raw)];

    public override IReadOnlyList<TaskConnection> Outputs { get; } = [new("calexp", DatasetType.Calexp)];

    public override JsonTypeInfo<ToyGroupConfig> Config => ToyJson.Default.ToyGroupConfig;

    public override TaskResult Run(DataId dataId, TaskInputs inputs, ToyGroupConfig config) => new TaskResult.Unprocessable("not run here");
}
