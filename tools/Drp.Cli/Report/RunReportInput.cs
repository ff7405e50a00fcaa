using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;

namespace Drp.Cli.Report;

/// <summary>
/// A quantum that did not succeed: its ledger key, state (Failed or Unprocessable), error class and message, and,
/// when known, its visit, detector and the sky position of the detector's centre (degrees).
/// </summary>
public sealed record ReportFailure(
    string QuantumKey,
    string State,
    string? ErrorClass,
    string? Message,
    long? Visit = null,
    int? Detector = null,
    double? Ra = null,
    double? Dec = null)
{
    public bool HasPosition => Ra is { } ra && Dec is { } dec && double.IsFinite(ra) && double.IsFinite(dec);
}

/// <summary>
/// Everything one run's report shows, already in memory: Source rows, the CcdVisit summaries (zero points, detector
/// corners), QA reports, failed quanta, and optionally the truth per band (simulated runs). No storage here: the
/// gathering is <see cref="RunReportGatherer"/>'s job, so the page can be built and tested from simulated inputs.
/// </summary>
public sealed record RunReportInput
{
    public required string Run { get; init; }

    /// <summary>Source rows (<see cref="SourceSchema"/> columns; another table works too, without the Source plots' columns).</summary>
    public required CatalogTable Sources { get; init; }

    public IReadOnlyList<CcdVisitSummary> CcdVisits { get; init; } = [];

    public IReadOnlyList<QaReport> Qa { get; init; } = [];

    public IReadOnlyList<ReportFailure> Failures { get; init; } = [];

    /// <summary>Quanta of the run in the ledger (succeeded, unprocessable, failed, running); 0 when unknown.</summary>
    public int QuantaTotal { get; init; }

    /// <summary>Truth objects per band (ra, dec, flux in nJy in that band); null when the run has no truth.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ReferenceObject>>? Truth { get; init; }

    /// <summary>Where the truth came from, for the page.</summary>
    public string? TruthSource { get; init; }

    /// <summary>Things the gathering noticed (an output missing for a succeeded quantum, an unreadable header ...).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Positional match radius for photometry against the truth.</summary>
    public double MatchRadiusArcsec { get; init; } = 0.5;

    /// <summary>Shown on the page; null leaves the time out (tests compare pages).</summary>
    public DateTimeOffset? GeneratedAt { get; init; }
}
