using Drp.Storage.Arrivals;

namespace Drp.Workflows;

// Orchestration payloads: ids and blob references only, never pixels or catalogs.

/// <summary>Input of the ingest of one raw arrival.</summary>
public sealed record IngestRawInput(RawArrival Arrival);

/// <summary>What ingest did with a raw: registered, a duplicate of a registered one, or rejected with the reason.</summary>
public sealed record IngestRawResult(string Outcome, string Container, string BlobName, string? Instrument, long? Visit, int? Detector, string? Reason)
{
    public const string Registered = "registered";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}
