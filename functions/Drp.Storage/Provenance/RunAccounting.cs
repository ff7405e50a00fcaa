using Drp.Storage.Registry;
using Drp.Core.Provenance;

namespace Drp.Storage.Provenance;

/// <summary>How many quanta one software version (<see cref="SoftwareVersion.Label"/>) processed.</summary>
public sealed record VersionCount(string SoftwareVersion, long Quanta)
{
    /// <summary>The distinct versions among <paramref name="versions"/> (nulls left out) with their counts, by version.</summary>
    public static IReadOnlyList<VersionCount> Count(IEnumerable<string?> versions) =>
        Merge(versions.OfType<string>().Select(v => new VersionCount(v, 1)));

    /// <summary>Counts of the same version added, by version (the fan-in of jobs, chunks and steps).</summary>
    public static IReadOnlyList<VersionCount> Merge(IEnumerable<VersionCount> counts) =>
        [.. counts.GroupBy(c => c.SoftwareVersion, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new VersionCount(g.Key, g.Sum(c => c.Quanta)))];
}

/// <summary>
/// The compute a task type used in a run: quanta with a recorded outcome, core-seconds (sum of their CPU seconds),
/// wall seconds (sum), the largest peak working set any of them saw, blob GETs and bytes read (sums).
/// </summary>
public sealed record TaskTypeAccounting(string Step, string TaskType, long Quanta, double CoreSeconds, double WallSeconds, long PeakWorkingSetBytes, long Gets, long BytesRead);

/// <summary>The quanta one (step, task type, software version, config hash) processed.</summary>
public sealed record ProvenanceCount(string Step, string TaskType, string SoftwareVersion, string ConfigHash, long Quanta);

/// <summary>
/// A run's compute-usage report (what DP0.2 wrote by hand afterwards, RTN-039): per task type, and the versions and
/// configs that processed it. <see cref="Unrecorded"/> counts finished rows with no provenance or usage (written
/// before they were recorded); running quanta are left out.
/// </summary>
public sealed record RunAccountingReport(string Run, string? Step, IReadOnlyList<TaskTypeAccounting> TaskTypes, IReadOnlyList<ProvenanceCount> Provenance, long Unrecorded)
{
    /// <summary>Aggregates ledger rows of <paramref name="run"/>, of one step only when <paramref name="step"/> is given.</summary>
    public static RunAccountingReport From(string run, IEnumerable<QuantumRecord> ledger, string? step = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var finished = ledger.Where(r => r.State != QuantumState.Running).ToList();
        var recorded = finished.Where(r => r is { Provenance: not null, Usage: not null, SoftwareVersion: not null }
            && (step is null || r.Provenance.Step == step)).ToList();
        long unrecorded = finished.Count(r => r.Provenance is null || r.Usage is null || r.SoftwareVersion is null);
        var tasks = recorded
            .GroupBy(r => (r.Provenance!.Step, r.Provenance.TaskType))
            .OrderBy(g => g.Key.Step, StringComparer.Ordinal).ThenBy(g => g.Key.TaskType, StringComparer.Ordinal)
            .Select(g => new TaskTypeAccounting(g.Key.Step, g.Key.TaskType, g.LongCount(),
                g.Sum(r => r.Usage!.CpuSeconds), g.Sum(r => r.ElapsedMs) / 1000.0, g.Max(r => r.Usage!.PeakWorkingSetBytes),
                g.Sum(r => r.Usage!.Gets), g.Sum(r => r.Usage!.BytesRead)))
            .ToList();
        var provenance = recorded
            .GroupBy(r => (r.Provenance!.Step, r.Provenance.TaskType, r.SoftwareVersion!, r.Provenance.ConfigHash))
            .OrderBy(g => g.Key.Step, StringComparer.Ordinal).ThenBy(g => g.Key.TaskType, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Item3, StringComparer.Ordinal).ThenBy(g => g.Key.ConfigHash, StringComparer.Ordinal)
            .Select(g => new ProvenanceCount(g.Key.Step, g.Key.TaskType, g.Key.Item3, g.Key.ConfigHash, g.LongCount()))
            .ToList();
        return new RunAccountingReport(run, step, tasks, provenance, unrecorded);
    }
}
