using System.Security.Cryptography;
using System.Text;

namespace Drp.Core.Provenance;

/// <summary>
/// The hash of a config: SHA-256 of its canonical text (the bound config as JSON, or <c>key=value</c> lines sorted by
/// key), first 16 hex digits, lower case. Two quanta with the same hash ran the same config.
/// </summary>
public static class ConfigHash
{
    /// <summary>Hex digits kept.</summary>
    public const int Length = 16;

    /// <summary>The hash of <paramref name="config"/>; a key with '=' or a line break is refused (the lines would be ambiguous).</summary>
    public static string Of(IEnumerable<KeyValuePair<string, string>> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = new StringBuilder();
        foreach (var (key, value) in config.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (key.AsSpan().IndexOfAny('=', '\n', '\r') >= 0 || value.AsSpan().IndexOfAny('\n', '\r') >= 0)
            {
                throw new ArgumentException($"config key '{key}' or its value cannot be hashed as a key=value line", nameof(config));
            }
            text.Append(key).Append('=').Append(value).Append('\n');
        }
        return OfText(text.ToString());
    }

    /// <summary>The hash of a config's canonical text (a bound config record written as JSON, every default included).</summary>
    public static string OfText(string canonical) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..Length];
}
