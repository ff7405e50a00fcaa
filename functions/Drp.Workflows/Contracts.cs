using Drp.Storage.Arrivals;
using Drp.Storage.Registry;

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

/// <summary>Step 1 (single-frame processing) over every registered raw of an instrument, written to run collection <paramref name="Run"/>.</summary>
public sealed record Step1Input(string Run, string Instrument, string CalibCollection = "calib");

/// <summary>One visit's work: its detectors.</summary>
public sealed record VisitWork(long Visit, string Band, IReadOnlyList<int> Detectors);

/// <summary>Input of a visit orchestration.</summary>
public sealed record VisitInput(string Run, string Instrument, string CalibCollection, VisitWork Work);

/// <summary>One step-1 quantum: a (visit, detector) of a run.</summary>
public sealed record DetectorQuantum(string Run, string Instrument, string CalibCollection, long Visit, int Detector, string Band)
{
    /// <summary>The quantum's key in the ledger.</summary>
    public string Key => KeyFor(Visit, Detector);

    public static string KeyFor(long visit, int detector) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"step1|visit={visit}|detector={detector}");

    /// <summary>The visit and detector of a ledger key made by <see cref="KeyFor"/>; false for any other key.</summary>
    public static bool TryParseKey(string key, out long visit, out int detector)
    {
        visit = 0;
        detector = 0;
        var parts = key.Split('|');
        return parts.Length == 3 && parts[0] == "step1"
            && parts[1].StartsWith("visit=", StringComparison.Ordinal)
            && long.TryParse(parts[1].AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out visit)
            && parts[2].StartsWith("detector=", StringComparison.Ordinal)
            && int.TryParse(parts[2].AsSpan(9), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out detector)
            && KeyFor(visit, detector) == key;
    }
}

/// <summary>
/// The outcome of one quantum; <see cref="Skipped"/> when the ledger already had it succeeded. <see cref="SoftwareVersion"/>
/// is the version its ledger row records (for a skipped one, the version that processed it earlier); null when unknown
/// (a quantum that failed as an activity, or a row from before versions were recorded).
/// </summary>
public sealed record QuantumResult(long Visit, int Detector, QuantumState State, int Attempts, long SourceRows, string? ErrorClass, string? Message, bool Skipped, double ElapsedMs,
    string? SoftwareVersion = null);

/// <summary>Fan-in of a visit: each detector's outcome and the consolidated Source table.</summary>
public sealed record VisitResult(long Visit, IReadOnlyList<QuantumResult> Quanta, string? SourceTableVisitPath, long SourceRows);

/// <summary>Fan-in of step 1.</summary>
public sealed record StepResult(string Run, IReadOnlyList<VisitResult> Visits)
{
    public int Count(QuantumState state) => Visits.Sum(v => v.Quanta.Count(q => q.State == state));

    public long SourceRows => Visits.Sum(v => v.SourceRows);
}

/// <summary>Progress shown in the step orchestration's custom status.</summary>
public sealed record StepProgress(int VisitsTotal, int VisitsDone, int QuantaTotal, int QuantaDone, int Failed, int Unprocessable);

/// <summary>Input of the consolidation of a visit's per-detector Source tables.</summary>
public sealed record ConsolidateVisitInput(string Run, string Instrument, long Visit, IReadOnlyList<int> Detectors);
