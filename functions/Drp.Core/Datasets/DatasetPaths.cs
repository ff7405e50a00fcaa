using System.Text;

namespace Drp.Core.Datasets;

/// <summary>The one function from (dataset type, data id, collection) to a blob path.</summary>
public static class DatasetPaths
{
    /// <summary>The collection that holds calibrations (bias, flat, defects) and reference catalogs.</summary>
    public const string CalibCollection = "calib";

    /// <summary>Where a chained collection's definition (its run collections, in search order) is kept.</summary>
    public const string ChainFolder = "_chains";

    /// <summary>Throws <see cref="ArgumentException"/> for an empty collection name, one with "..", a leading '/' or the chain folder.</summary>
    public static void ValidateCollection(string collection)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(collection);
        if (collection.Contains("..", StringComparison.Ordinal) || collection.StartsWith('/') || collection.Contains('\\')
            || collection == ChainFolder || collection.StartsWith(ChainFolder + "/", StringComparison.Ordinal))
        {
            throw new ArgumentException($"invalid collection name '{collection}'", nameof(collection));
        }
    }

    /// <summary><c>_chains/{name}.json</c>: the definition of a chained collection.</summary>
    public static string ForChain(string name)
    {
        ValidateCollection(name);
        return $"{ChainFolder}/{name}.json";
    }

    /// <summary><c>{collection}/{datasetType}/</c>: the prefix under which every dataset of a type in a collection lies (see <see cref="For"/>).</summary>
    public static string PrefixFor(DatasetType type, string collection)
    {
        ValidateCollection(collection);
        return $"{collection}/{type.Name}/";
    }

    /// <summary>
    /// <c>{collection}/{datasetType}/{dim=value/...}/{datasetType}_{values}.{ext}</c>. The data id must carry exactly
    /// the dataset type's dimensions: a missing or extra dimension is a programming error and throws.
    /// </summary>
    public static string For(DatasetType type, DataId id, string collection)
    {
        ValidateCollection(collection);
        var present = new List<(string Name, string Value)> { ("instrument", id.Instrument) };
        if (id.Visit is { } v) present.Add(("visit", v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (id.Detector is { } d) present.Add(("detector", d.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)));
        if (id.Tract is { } t) present.Add(("tract", t.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (id.Patch is { } p) present.Add(("patch", p.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (id.Band is { } b) present.Add(("band", b));
        var names = present.Select(x => x.Name).ToArray();
        if (!names.SequenceEqual(type.Dimensions))
        {
            throw new ArgumentException(
                $"dataset type {type.Name} needs dimensions [{string.Join(", ", type.Dimensions)}], data id has [{string.Join(", ", names)}]",
                nameof(id));
        }
        var sb = new StringBuilder(collection).Append('/').Append(type.Name).Append('/');
        foreach (var (name, value) in present)
        {
            sb.Append(name).Append('=').Append(value).Append('/');
        }
        sb.Append(type.Name);
        foreach (var (_, value) in present)
        {
            sb.Append('_').Append(value);
        }
        return sb.Append('.').Append(type.Extension).ToString();
    }
}
