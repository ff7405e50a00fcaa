using System.Diagnostics;
using Drp.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Drp.Jobs;

/// <summary>
/// Runs the quanta of a job one by one, in planned order, each independently through the <see cref="QuantumRunner"/>:
/// a quantum that throws is recorded as failed and the rest are still attempted (DP0.2 lost whole 315-quantum clusters
/// to one failure).
/// </summary>
public sealed class JobRunner(Func<QuantumRequest, CancellationToken, Task<QuantumResult>> runQuantum, ILogger<JobRunner> logger)
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
                results.Add(await runQuantum(job.RequestFor(q), cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Job {JobId}: quantum {Quantum} failed; carrying on with the rest", job.JobId, q.Key);
                results.Add(QuantumResult.Failed(q, e.GetType().FullName, e.Message));
            }
        }
        logger.LogInformation("Job {JobId}: {Succeeded}/{Total} quanta succeeded in {ElapsedMs:F0} ms",
            job.JobId, results.Count(r => r.State == QuantumState.Succeeded), results.Count, clock.Elapsed.TotalMilliseconds);
        return new JobResult(job.JobId, results, clock.Elapsed.TotalMilliseconds);
    }
}
