using System.Text.Json.Serialization;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tasks;

/// <summary>
/// The config of step 1's fused group <c>processFrame</c>: one section per YAML task (isr, characterizeImage, calibrate,
/// writeSourceTable), bound from their <c>config:</c> blocks in <c>pipelines/drp.yaml</c>.
/// </summary>
public sealed record ProcessFrameConfig
{
    public IsrConfig Isr { get; init; } = new();

    public CharacterizeImageConfig CharacterizeImage { get; init; } = new();

    public CalibrateConfig Calibrate { get; init; } = new();

    public WriteSourceTableConfig WriteSourceTable { get; init; } = new();

    /// <summary>The single-frame processor's config these sections make.</summary>
    public SingleFrameConfig ToSingleFrame() => new()
    {
        Isr = Isr,
        Background = CharacterizeImage.Background,
        Detection = CharacterizeImage.Detection,
        Deblend = CharacterizeImage.Deblend,
        Measurement = CharacterizeImage.Measurement,
        Psf = CharacterizeImage.Psf,
        CosmicRay = CharacterizeImage.CosmicRay,
        RefineBackground = CharacterizeImage.RefineBackground,
        FirstDetectionBinning = CharacterizeImage.FirstDetectionBinning,
        SeeingMinSignalToNoise = CharacterizeImage.SeeingMinSignalToNoise,
        Astrometry = Calibrate.Astrometry,
        PhotoCal = Calibrate.PhotoCal,
    };
}

/// <summary>characterizeImage: background, detection, deblending, measurement, PSF and cosmic rays.</summary>
public sealed record CharacterizeImageConfig
{
    private static readonly SingleFrameConfig s_default = SingleFrameConfig.Default;

    public BackgroundConfig Background { get; init; } = s_default.Background;

    public DetectionConfig Detection { get; init; } = s_default.Detection;

    public DeblendConfig Deblend { get; init; } = s_default.Deblend;

    public MeasurementConfig Measurement { get; init; } = s_default.Measurement;

    public PsfConfig Psf { get; init; } = s_default.Psf;

    public CosmicRayConfig CosmicRay { get; init; } = s_default.CosmicRay;

    public bool RefineBackground { get; init; } = s_default.RefineBackground;

    public int FirstDetectionBinning { get; init; } = s_default.FirstDetectionBinning;

    public double SeeingMinSignalToNoise { get; init; } = s_default.SeeingMinSignalToNoise;
}

/// <summary>calibrate: the astrometric fit and the photometric zero point against the reference catalog.</summary>
public sealed record CalibrateConfig
{
    public AstrometryConfig Astrometry { get; init; } = SingleFrameConfig.Default.Astrometry;

    public PhotoCalConfig PhotoCal { get; init; } = SingleFrameConfig.Default.PhotoCal;
}

/// <summary>writeSourceTable has no settings: the Source columns and units come from <c>schema/catalogs.yaml</c>.</summary>
public sealed record WriteSourceTableConfig;

/// <summary>The config of a task that has no settings.</summary>
public sealed record NoConfig;

/// <summary>
/// The JSON contract of every task config in this assembly (source-generated: drp-frame binds natively): camelCase
/// fields, enums by name, as the pipeline YAML writes them.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProcessFrameConfig))]
[JsonSerializable(typeof(NoConfig))]
public sealed partial class TaskConfigJson : JsonSerializerContext;
