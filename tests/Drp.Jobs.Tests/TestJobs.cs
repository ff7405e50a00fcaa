using Azure.Data.Tables;
using Drp.Storage.Registry;
using Drp.Workflows;

namespace Drp.Jobs.Tests;

/// <summary>Jobs, quanta and quantum functions the runner tests share.</summary>
internal static class TestJobs
{
    public static DetectorQuantum Q(string run, int detector) => new(run, "LSSTCam", "calib", 7, detector, "r");

    public static JobMessage Job(string run, string id, params int[] detectors) =>
        new(id, detectors.Select(d => Q(run, d)).ToList(), HeartbeatInterval: TimeSpan.FromMinutes(1), HeartbeatTimeout: TimeSpan.FromMinutes(20));

    public static QuantumResult Succeeded(DetectorQuantum q) => new(q.Visit, q.Detector, QuantumState.Succeeded, 1, 5, null, null, false, 1);

    /// <summary>A quantum function: detectors in <paramref name="failing"/> throw what <paramref name="fault"/> makes, the rest succeed.</summary>
    public static Func<DetectorQuantum, CancellationToken, Task<QuantumResult>> Failing(Func<Exception> fault, params int[] failing) =>
        (q, _) => failing.Contains(q.Detector) ? throw fault() : Task.FromResult(Succeeded(q));

    public static async Task<JobLedger> NewLedgerAsync(string connectionString)
    {
        var table = new TableClient(connectionString, "jobs" + Guid.NewGuid().ToString("N")[..10]);
        await table.CreateAsync();
        return new JobLedger(table);
    }

    public static string NewRun() => "run-" + Guid.NewGuid().ToString("N")[..8];
}
