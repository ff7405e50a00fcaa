using Azure.Data.Tables;
using Drp.Core.Datasets;
using Drp.Core.Planning;
using Drp.Storage.Registry;

namespace Drp.Jobs.Tests;

/// <summary>Jobs, quanta and quantum functions the runner tests share.</summary>
internal static class TestJobs
{
    public static PlannedQuantum Q(int detector) => new("processFrame", new DataId("LSSTCam", 7, detector, Band: "r"));

    public static JobMessage Job(string run, string id, params int[] detectors) =>
        new(id, run, "LSSTCam", "calib", "step1", detectors.Select(Q).ToList(), HeartbeatInterval: TimeSpan.FromMinutes(1), HeartbeatTimeout: TimeSpan.FromMinutes(20));

    /// <summary>The detector of a step-1 quantum.</summary>
    public static int Detector(this QuantumRequest r) => r.Quantum.DataId.Detector!.Value;

    /// <summary>The detector of a step-1 quantum's result.</summary>
    public static int Detector(this QuantumResult r) => r.DataId.Detector!.Value;

    /// <summary>The detector of a step-1 quantum.</summary>
    public static int Detector(this PlannedQuantum q) => q.DataId.Detector!.Value;

    public static QuantumResult Succeeded(QuantumRequest r) => new(r.Quantum.Task, r.Quantum.DataId, QuantumState.Succeeded, 1, 5, null, null, false, 1);

    /// <summary>A quantum function: detectors in <paramref name="failing"/> throw what <paramref name="fault"/> makes, the rest succeed.</summary>
    public static Func<QuantumRequest, CancellationToken, Task<QuantumResult>> Failing(Func<Exception> fault, params int[] failing) =>
        (q, _) => failing.Contains(q.Detector()) ? throw fault() : Task.FromResult(Succeeded(q));

    public static async Task<JobLedger> NewLedgerAsync(string connectionString)
    {
        var table = new TableClient(connectionString, "jobs" + Guid.NewGuid().ToString("N")[..10]);
        await table.CreateAsync();
        return new JobLedger(table);
    }

    public static string NewRun() => "run-" + Guid.NewGuid().ToString("N")[..8];
}
