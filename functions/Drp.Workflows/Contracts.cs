using Drp.Storage.Arrivals;

namespace Drp.Workflows;

// Orchestration payloads: ids and blob references only, never pixels or catalogs.

/// <summary>Input of the ingest of one raw arrival; with <paramref name="Processing"/>, the raw then processes itself.</summary>
public sealed record IngestRawInput(RawArrival Arrival, ArrivalProcessing? Processing = null);

/// <summary>
/// How an arrival processes itself (from <c>Drp:Processing</c> when the event came in, so a replay does the same): the
/// run it writes, the calibrations it reads, and when its visit is complete: <paramref name="ExpectedDetectors"/> with a
/// step-1 outcome (0: not known), or <paramref name="QuietTime"/> after the visit's last arrival.
/// </summary>
public sealed record ArrivalProcessing(string Run, string CalibCollection, int ExpectedDetectors, TimeSpan QuietTime);

/// <summary>What ingest did with a raw: registered, a duplicate of a registered one, or rejected with the reason.</summary>
public sealed record IngestRawResult(string Outcome, string Container, string BlobName, string? Instrument, long? Visit, int? Detector, string? Reason,
    string? Band = null)
{
    public const string Registered = "registered";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}

/// <summary>The pipeline's work for an arrival: its detector's quanta of the first step, and its visit's of the second.</summary>
public sealed record ArrivalPlan(string DetectorStep, IReadOnlyList<Core.Planning.PlannedQuantum> DetectorQuanta, string VisitStep, IReadOnlyList<Core.Planning.PlannedQuantum> VisitQuanta);

/// <summary>Is the arrival's visit ready for its visit-level step, and is this arrival the one to close it?</summary>
public sealed record VisitCheckInput(string Run, ArrivalPlan Plan, int Detector, ArrivalProcessing Processing);

/// <summary>
/// The visit as the Registry and the ledger have it: <see cref="Latest"/> when this arrival is the visit's last (only the
/// last closes it), <see cref="Ready"/> when the visit-level step should run now, else when to look again.
/// </summary>
public sealed record VisitCheck(bool Latest, bool Ready, int Registered, int WithOutcome, DateTimeOffset LookAgainAt, string Reason);
