namespace Drp.Storage.Datasets;

/// <summary>A kind of dataset: its name (snake_case), the dimensions its data id must carry, and its file format.</summary>
public sealed record DatasetType(string Name, string Extension, params string[] Dimensions)
{
    /// <summary>Assembled, calibrated exposure (image, mask, variance HDUs).</summary>
    public static readonly DatasetType Calexp = new("calexp", "fits", "instrument", "visit", "detector");

    /// <summary>The Source catalog of one detector (Parquet).</summary>
    public static readonly DatasetType SourceTable = new("source_table", "parquet", "instrument", "visit", "detector");

    /// <summary>The Source catalog of one visit, all detectors (Parquet; DP0.2 sourceTable_visit).</summary>
    public static readonly DatasetType SourceTableVisit = new("source_table_visit", "parquet", "instrument", "visit");

    /// <summary>Per-detector summary of a processed exposure (JSON).</summary>
    public static readonly DatasetType CcdVisitSummary = new("ccd_visit_summary", "json", "instrument", "visit", "detector");

    /// <summary>Master bias per detector.</summary>
    public static readonly DatasetType Bias = new("bias", "fits", "instrument", "detector");

    /// <summary>Master flat per detector and band.</summary>
    public static readonly DatasetType Flat = new("flat", "fits", "instrument", "detector", "band");

    /// <summary>Defects mask per detector.</summary>
    public static readonly DatasetType Defects = new("defects", "fits", "instrument", "detector");

    /// <summary>Reference catalog (CSV) for an instrument's survey area.</summary>
    public static readonly DatasetType RefCat = new("ref_cat", "csv", "instrument");
}
