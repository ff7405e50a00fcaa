using System.Text.Json.Serialization;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Storage.Registry;

namespace Drp.Execution;

/// <summary>
/// One quantum to run: the run it writes, the instrument and calibration collection it reads, its step and the quantum.
/// <see cref="Rerun"/> runs it even when the ledger has it done (a visit's step 2 after a late detector), replacing its outputs.
/// </summary>
public sealed record QuantumRequest(string Run, string Instrument, string CalibCollection, string Step, PlannedQuantum Quantum)
{
    public bool Rerun { get; init; }
}

/// <summary>
/// The outcome of one quantum; <see cref="Skipped"/> when the ledger already had it succeeded or unprocessable.
/// <see cref="OutputRows"/> counts the catalog rows it wrote; <see cref="SoftwareVersion"/> is the version its ledger row
/// records (for a skipped one, the version that processed it earlier); null when unknown.
/// </summary>
public sealed record QuantumResult(string Task, DataId DataId, QuantumState State, int Attempts, long OutputRows, string? ErrorClass, string? Message, bool Skipped, double ElapsedMs,
    string? SoftwareVersion = null)
{
    /// <summary>The quantum's ledger key.</summary>
    [JsonIgnore]
    public string Key => Quantum.Key;

    /// <summary>The quantum it is the outcome of.</summary>
    [JsonIgnore]
    public PlannedQuantum Quantum => new(Task, DataId);

    /// <summary>A quantum that threw before the runner could record it (e.g. its activity failed after every retry).</summary>
    public static QuantumResult Failed(PlannedQuantum q, string? errorClass, string? message) =>
        new(q.Task, q.DataId, QuantumState.Failed, 0, 0, errorClass, message, Skipped: false, ElapsedMs: 0);
}
