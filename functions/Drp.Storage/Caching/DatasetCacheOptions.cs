using System.ComponentModel.DataAnnotations;

namespace Drp.Storage.Caching;

/// <summary>Whether reads of a dataset type go through the local disk cache.</summary>
public enum DatasetCachePolicy
{
    /// <summary>Always read from the service (datasets read once, such as raws).</summary>
    None,

    /// <summary>The first read fetches the whole object into the cache; later reads, whole or ranges, are served locally.</summary>
    ReadThrough,
}

/// <summary>
/// The local read-through disk cache: bound from <c>Drp:Storage:Cache</c>. One cache folder per process (a Functions
/// worker or a container job): the byte budget is this process's share of the local disk.
/// </summary>
public sealed class DatasetCacheOptions
{
    public const string SectionName = "Drp:Storage:Cache";

    /// <summary>Cache folder; empty means <c>{temp}/drp-cache</c>.</summary>
    public string? Root { get; set; }

    /// <summary>Byte budget of the folder (entries and files being written); 0 switches the cache off.</summary>
    [Range(0, long.MaxValue)]
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Policy per dataset type name. By default the inputs many quanta read again are cached (calibrations, the
    /// reference catalog, calexps read by coaddition and forced photometry); everything else is not.
    /// </summary>
    public Dictionary<string, DatasetCachePolicy> Policies { get; set; } = new(StringComparer.Ordinal)
    {
        ["bias"] = DatasetCachePolicy.ReadThrough,
        ["flat"] = DatasetCachePolicy.ReadThrough,
        ["defects"] = DatasetCachePolicy.ReadThrough,
        ["ref_cat"] = DatasetCachePolicy.ReadThrough,
        ["calexp"] = DatasetCachePolicy.ReadThrough,
    };

    /// <summary>The policy of a dataset type name (types not listed are not cached).</summary>
    public DatasetCachePolicy PolicyFor(string datasetType) =>
        MaxBytes > 0 && Policies.TryGetValue(datasetType, out var p) ? p : DatasetCachePolicy.None;

    /// <summary>The folder in use.</summary>
    public string ResolvedRoot => string.IsNullOrWhiteSpace(Root) ? Path.Combine(Path.GetTempPath(), "drp-cache") : Root;
}
