using System.Diagnostics;
using Drp.Storage.Registry;
using Drp.Workflows;
using Microsoft.Extensions.Logging;

namespace Drp.Jobs;

/// <summary>
/// Runs the quanta of a job one by one, each independently: a quantum that throws is recorded as failed and the
/// rest are still attempted (DP0.2 lost whole 315-quantum clusters to one failure).
/// </summary>
public sealed class JobRunner(Func<DetectorQuantum, CancellationToken, Task<QuantumResult>> runQuantum, ILogger<JobRunner> logger)
{
    public async Task<JobResult> RunAsync(JobMessage job, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var results = new List<QuantumResult>(job.Quanta.Count);
        foreach (var q in job.Quanta)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                results.Add(await runQuantum(q, cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Job {JobId}: quantum {Quantum} failed; carrying on with the rest", job.JobId, q.Key);
                results.Add(new QuantumResult(q.Visit, q.Detector, QuantumState.Failed, 0, 0, e.GetType().FullName, e.Message, Skipped: false, ElapsedMs: 0));
            }
        }
        logger.LogInformation("Job {JobId}: {Succeeded}/{Total} quanta succeeded in {ElapsedMs:F0} ms",
            job.JobId, results.Count(r => r.State == QuantumState.Succeeded), results.Count, clock.Elapsed.TotalMilliseconds);
        return new JobResult(job.JobId, results, clock.Elapsed.TotalMilliseconds);
    }
}
