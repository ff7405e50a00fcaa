using System.ComponentModel.DataAnnotations;

namespace Drp.Execution;

/// <summary>
/// What the system processes and how (section <c>Drp:Processing</c>): the pipeline file (empty: the built-in
/// <c>pipelines/drp.yaml</c>), and the run that arrivals process into (empty: arrivals are only ingested).
/// </summary>
public sealed class ProcessingOptions
{
    public const string SectionName = "Drp:Processing";

    /// <summary>A pipeline YAML to run instead of the built-in one.</summary>
    public string? PipelineFile { get; set; }

    /// <summary>The run collection a registered raw's step-1 quantum (and its visit's step 2) runs into at once; empty: ingest only.</summary>
    public string? ArrivalRun { get; set; }

    /// <summary>The calibration collection arrivals' quanta read.</summary>
    [Required]
    public string CalibCollection { get; set; } = "calib";

    /// <summary>Detectors a visit has (the instrument's definition): step 2 runs once this many have a step-1 outcome; 0 waits for the quiet time only.</summary>
    [Range(0, 10_000)]
    public int ExpectedDetectors { get; set; }

    /// <summary>After this long with no new arrival of a visit, its step 2 runs with the detectors it has.</summary>
    public TimeSpan VisitQuietTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>True when arrivals process themselves.</summary>
    public bool ProcessesArrivals => !string.IsNullOrWhiteSpace(ArrivalRun);
}
