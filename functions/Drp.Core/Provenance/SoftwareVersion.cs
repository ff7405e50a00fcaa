using System.Reflection;

namespace Drp.Core.Provenance;

/// <summary>
/// The software a quantum ran: the assembly version and the commit it was built from (embedded at build time by
/// <c>Directory.Build.props</c> as <c>AssemblyMetadata("DrpSourceCommit")</c>; <c>unknown</c> when the build had no
/// .git). <see cref="Label"/> (<c>{Version}+{Commit}</c>) is what every ledger row and output's blob metadata records.
/// DP0.2 tracked by hand which patch release ran each step; here each row says it.
/// </summary>
public sealed record SoftwareVersion(string Version, string Commit)
{
    /// <summary>The commit of a build that had no source control information.</summary>
    public const string UnknownCommit = "unknown";

    /// <summary>The software running in this process (read once from this assembly's attributes).</summary>
    public static SoftwareVersion Current { get; } = Of(typeof(SoftwareVersion).Assembly);

    /// <summary><c>{Version}+{Commit}</c>, e.g. <c>1.0.0+5904d27…</c>.</summary>
    public string Label => $"{Version}+{Commit}";

    /// <summary>The version and commit an assembly was built with.</summary>
    public static SoftwareVersion Of(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        string informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        string version = plus < 0 ? informational : informational[..plus];
        string? commit = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "DrpSourceCommit")?.Value;
        return new SoftwareVersion(version, string.IsNullOrWhiteSpace(commit) ? UnknownCommit : commit);
    }

    /// <summary>The version of a <see cref="Label"/>; a label without <c>+</c> is refused.</summary>
    public static SoftwareVersion Parse(string label)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(label);
        int plus = label.IndexOf('+', StringComparison.Ordinal);
        if (plus <= 0 || plus == label.Length - 1)
        {
            throw new FormatException($"'{label}' is not a software version label (expected version+commit)");
        }
        return new SoftwareVersion(label[..plus], label[(plus + 1)..]);
    }

    /// <inheritdoc />
    public override string ToString() => Label;
}
