using System.ComponentModel.DataAnnotations;

namespace Drp.Storage;

/// <summary>Where this deployment keeps its data: bound from the configuration section <c>Drp:Storage</c>.</summary>
public sealed class DrpStorageOptions
{
    public const string SectionName = "Drp:Storage";

    /// <summary>A storage connection string (Azurite or a real account). Locally drp starts Azurite when it is empty.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Container where raw detector images land; every upload raises a BlobCreated event.</summary>
    [Required]
    public string RawContainer { get; set; } = "raw";

    /// <summary>Container for every data product and calibration, addressed by <see cref="Datasets.DatasetPaths"/>.</summary>
    [Required]
    public string DataContainer { get; set; } = "drp-data";

    /// <summary>Storage queue that Event Grid delivers raw BlobCreated events to.</summary>
    [Required]
    public string ArrivalsQueue { get; set; } = "raw-arrivals";

    /// <summary>Table of ingested exposures and detectors (the Registry).</summary>
    [Required]
    public string RegistryTable { get; set; } = "DrpRegistry";

    /// <summary>Table with one row per quantum per run: the ledger of outcomes.</summary>
    [Required]
    public string LedgerTable { get; set; } = "DrpQuanta";

    /// <summary>Serving table for Source rows (partitioned by ccdVisitId).</summary>
    [Required]
    public string SourceTable { get; set; } = "DrpSource";
}
