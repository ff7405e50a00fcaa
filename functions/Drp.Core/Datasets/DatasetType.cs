namespace Drp.Core.Datasets;

/// <summary>A kind of dataset: its name (snake_case), the dimensions its data id must carry, and its file format.</summary>
public sealed record DatasetType(string Name, string Extension, params string[] Dimensions)
{
    /// <summary>The catalog whose serving table (Azure Tables) this dataset's rows also go to, if any.</summary>
    public string? ServingCatalog { get; init; }

    /// <summary>Assembled, calibrated exposure (image, mask, variance HDUs).</summary>
    public static readonly DatasetType Calexp = new("calexp", "fits", "instrument", "visit", "detector");

    /// <summary>The Source catalog of one detector (Parquet).</summary>
    public static readonly DatasetType SourceTable = new("source_table", "parquet", "instrument", "visit", "detector") { ServingCatalog = "Source" };

    /// <summary>The Source catalog of one visit, all detectors (Parquet; DP0.2 sourceTable_visit).</summary>
    public static readonly DatasetType SourceTableVisit = new("source_table_visit", "parquet", "instrument", "visit");

    /// <summary>Per-detector summary of a processed exposure (JSON).</summary>
    public static readonly DatasetType CcdVisitSummary = new("ccd_visit_summary", "json", "instrument", "visit", "detector");

    /// <summary>The catalog QA results of one step of a run (JSON: every table's checks and coverage maps); see <see cref="CatalogQaOf"/>.</summary>
    public static DatasetType CatalogQaOf(string step) => new($"catalog_qa_{step}", "json", "instrument");

    /// <summary>Master bias per detector.</summary>
    public static readonly DatasetType Bias = new("bias", "fits", "instrument", "detector");

    /// <summary>Master flat per detector and band.</summary>
    public static readonly DatasetType Flat = new("flat", "fits", "instrument", "detector", "band");

    /// <summary>Defects mask per detector.</summary>
    public static readonly DatasetType Defects = new("defects", "fits", "instrument", "detector");

    /// <summary>Reference catalog (CSV) for an instrument's survey area.</summary>
    public static readonly DatasetType RefCat = new("ref_cat", "csv", "instrument");

    // The remaining types are named by the pipeline definition (pipelines/drp.yaml); their paths follow the same rule.

    /// <summary>A raw detector image. Raws keep their upload name in the raw container; the Registry maps data ids to them.</summary>
    public static readonly DatasetType Raw = new("raw", "fits", "instrument", "visit", "detector");

    /// <summary>Instrument-signature-removed exposure of one detector (DP0.2 postISRCCD).</summary>
    public static readonly DatasetType PostIsrExposure = new("post_isr_exposure", "fits", "instrument", "visit", "detector");

    /// <summary>Characterized exposure: background, PSF and cosmic rays done, before calibration (DP0.2 icExp).</summary>
    public static readonly DatasetType Icexp = new("icexp", "fits", "instrument", "visit", "detector");

    /// <summary>The calibrated exposure's background model (DP0.2 calexpBackground).</summary>
    public static readonly DatasetType CalexpBackground = new("calexp_background", "fits", "instrument", "visit", "detector");

    /// <summary>The full single-frame source catalog of one detector (DP0.2 src).</summary>
    public static readonly DatasetType Src = new("src", "parquet", "instrument", "visit", "detector");

    /// <summary>Per-visit summary of every detector's calibration (DP0.2 visitSummary).</summary>
    public static readonly DatasetType VisitSummary = new("visit_summary", "parquet", "instrument", "visit");

    /// <summary>A visit's image resampled onto a patch (DP0.2 deepCoadd_directWarp); its band is the visit's.</summary>
    public static readonly DatasetType DeepCoaddWarp = new("deep_coadd_warp", "fits", "instrument", "visit", "tract", "patch");

    /// <summary>The coadd of a patch in one band (DP0.2 deepCoadd).</summary>
    public static readonly DatasetType DeepCoadd = new("deep_coadd", "fits", "instrument", "tract", "patch", "band");

    /// <summary>Detections on one band's coadd (DP0.2 deepCoadd_det).</summary>
    public static readonly DatasetType DeepCoaddDet = new("deep_coadd_det", "parquet", "instrument", "tract", "patch", "band");

    /// <summary>Detections merged over the bands of a patch (DP0.2 deepCoadd_mergeDet).</summary>
    public static readonly DatasetType DeepCoaddMergedDet = new("deep_coadd_merged_det", "parquet", "instrument", "tract", "patch");

    /// <summary>Deblended footprints and fluxes of one band (DP0.2 deepCoadd_deblendedFlux).</summary>
    public static readonly DatasetType DeepCoaddDeblendedFlux = new("deep_coadd_deblended_flux", "parquet", "instrument", "tract", "patch", "band");

    /// <summary>Measurements on one band's coadd (DP0.2 deepCoadd_meas).</summary>
    public static readonly DatasetType DeepCoaddMeas = new("deep_coadd_meas", "parquet", "instrument", "tract", "patch", "band");

    /// <summary>The reference band's measurements chosen per object (DP0.2 deepCoadd_ref).</summary>
    public static readonly DatasetType DeepCoaddRef = new("deep_coadd_ref", "parquet", "instrument", "tract", "patch");

    /// <summary>Forced photometry on one band's coadd (DP0.2 deepCoadd_forced_src).</summary>
    public static readonly DatasetType DeepCoaddForcedSrc = new("deep_coadd_forced_src", "parquet", "instrument", "tract", "patch", "band");

    /// <summary>The Object table of one patch (DP0.2 objectTable).</summary>
    public static readonly DatasetType ObjectTable = new("object_table", "parquet", "instrument", "tract", "patch");

    /// <summary>Forced photometry on one detector's calexp at the Object positions of a tract (DP0.2 forced_src).</summary>
    public static readonly DatasetType ForcedSrc = new("forced_src", "parquet", "instrument", "visit", "detector", "tract");

    /// <summary>The ForcedSource table of one detector and tract (DP0.2 forcedSourceTable).</summary>
    public static readonly DatasetType ForcedSourceTable = new("forced_source_table", "parquet", "instrument", "visit", "detector", "tract");

    /// <summary>The CcdVisit table of an instrument (DP0.2 ccdVisitTable).</summary>
    public static readonly DatasetType CcdVisitTable = new("ccd_visit_table", "parquet", "instrument") { ServingCatalog = "CcdVisit" };

    /// <summary>The Visit table of an instrument (DP0.2 visitTable).</summary>
    public static readonly DatasetType VisitTable = new("visit_table", "parquet", "instrument") { ServingCatalog = "Visit" };
}
