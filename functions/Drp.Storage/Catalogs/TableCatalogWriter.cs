using System.ComponentModel.DataAnnotations;
using Azure.Data.Tables;
using Drp.Pipeline.Catalogs;

namespace Drp.Storage.Catalogs;

/// <summary>
/// The writer stage every catalog table write of a process goes through (registered once, as a singleton): catalog
/// rows become batch transactions (<see cref="TableBatchPlanner"/>: one partition each, at most 100 entities, an
/// estimated payload under 4 MiB) of idempotent upserts (<see cref="TableTransactionActionType.UpsertReplace"/>, keys
/// from <see cref="CatalogTableKeys"/>), so a retry rewrites the same entities and never duplicates a row; at most
/// <see cref="TableWriterOptions.MaxConcurrentBatches"/> batches are in flight at once over all callers and tables,
/// as DP0.2's merge queue bounded its database connections.
/// <para>
/// Why a <see cref="SemaphoreSlim"/> and not a <c>Channel</c> with a pool of consumers: a caller's batches are sent
/// from the caller's own call, so a failing batch's exception reaches exactly the caller whose rows it held (no
/// completion sources to route errors back), cancellation is the caller's token, backpressure is the caller awaiting
/// its slot (its rows are in memory already, so a queue would hold nothing more), and there is no background loop to
/// start, drain or dispose. Waiting callers are served in arrival order (the semaphore queues async waiters first
/// in, first out). Each call sends its own batches with at most the same bound in parallel (stopping at its first
/// failure) and returns only when none of them is in flight, so a caller's retry never races its earlier attempt.
/// </para>
/// <para>
/// Retries: none here. The Table clients of <see cref="StorageClients"/> carry the storage resilience pipeline in
/// the SDK's retry slot (429/503 with Retry-After, timeouts, resets), so each batch request is retried there; a
/// failure left after that comes back as <see cref="TableBatchWriteException"/>.
/// </para>
/// </summary>
public sealed class TableCatalogWriter
{
    private readonly SemaphoreSlim _slots;
    private int _inFlight;
    private int _peakInFlight;
    private long _batches;
    private long _entities;

    /// <param name="options">The bound on batches in flight (defaults when null); validated here.</param>
    public TableCatalogWriter(TableWriterOptions? options = null)
    {
        options ??= new TableWriterOptions();
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
        {
            throw new ArgumentException($"{TableWriterOptions.SectionName}: {string.Join("; ", problems.Select(p => p.ErrorMessage))}", nameof(options));
        }
        MaxConcurrentBatches = options.MaxConcurrentBatches;
        _slots = new SemaphoreSlim(MaxConcurrentBatches, MaxConcurrentBatches);
    }

    /// <summary>The bound on batch transactions in flight at once.</summary>
    public int MaxConcurrentBatches { get; }

    /// <summary>Batch transactions being sent now.</summary>
    public int InFlightBatches => Volatile.Read(ref _inFlight);

    /// <summary>The most batch transactions that were in flight at once since this writer was made.</summary>
    public int PeakInFlightBatches => Volatile.Read(ref _peakInFlight);

    /// <summary>Batch transactions that succeeded.</summary>
    public long BatchesWritten => Interlocked.Read(ref _batches);

    /// <summary>Entities written by batches that succeeded (a rewrite counts again).</summary>
    public long EntitiesWritten => Interlocked.Read(ref _entities);

    /// <summary>
    /// Upserts every row of <paramref name="catalog"/> into <paramref name="table"/> with the keys
    /// <paramref name="keys"/> declare; returns the number of entities written. Every row is checked before anything
    /// is sent (<see cref="InvalidTableEntityException"/>); a batch that fails throws
    /// <see cref="TableBatchWriteException"/> after this call's other batches in flight have ended (batches already
    /// written stay written: writing again is the retry).
    /// </summary>
    public async Task<int> WriteAsync(TableClient table, CatalogTable catalog, CatalogTableKeys keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(keys);
        var batches = TableBatchPlanner.Plan(table.Name, catalog, keys);
        if (batches.Count == 1)
        {
            return await SubmitAsync(table, batches[0], cancellationToken, cancellationToken);
        }
        int written = 0;
        // After a failure no more batches start (the loop's token), but those already sent finish (the caller's token).
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentBatches, CancellationToken = cancellationToken },
            async (batch, loopToken) => Interlocked.Add(ref written, await SubmitAsync(table, batch, loopToken, cancellationToken)));
        return written;
    }

    private async Task<int> SubmitAsync(TableClient table, TableBatch batch, CancellationToken waitToken, CancellationToken cancellationToken)
    {
        var actions = batch.Entities.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)).ToList();
        await _slots.WaitAsync(waitToken);
        int now = Interlocked.Increment(ref _inFlight);
        for (int peak = Volatile.Read(ref _peakInFlight); now > peak; peak = Volatile.Read(ref _peakInFlight))
        {
            if (Interlocked.CompareExchange(ref _peakInFlight, now, peak) == peak)
            {
                break;
            }
        }
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TableBatchWriteException(table.Name, batch, (e as TableTransactionFailedException)?.FailedTransactionActionIndex, e);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
            _slots.Release();
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _entities, batch.Entities.Count);
        return batch.Entities.Count;
    }
}
