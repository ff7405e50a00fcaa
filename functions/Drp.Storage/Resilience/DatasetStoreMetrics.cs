using System.Collections.Concurrent;
using Drp.Core.Provenance;

namespace Drp.Storage.Resilience;

/// <summary>What the dataset store did for one dataset type: service GETs, bytes, cache use, retries, writes.</summary>
public sealed record DatasetTypeMetrics(
    long Gets,
    long BytesRead,
    long CacheHits,
    long CacheMisses,
    long Retries,
    long Writes,
    long BytesWritten);

/// <summary>
/// Thread-safe counters per dataset type (the label a read or write names; Table calls count under <c>table</c>).
/// One instance per <see cref="StorageClients"/>; <see cref="Snapshot"/> is what summary.json and the benchmark print.
/// </summary>
public sealed class DatasetStoreMetrics
{
    private readonly ConcurrentDictionary<string, Counters> _byType = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _faults = new(StringComparer.Ordinal);

    /// <summary>
    /// One GET request sent to the service (each attempt counts) and the body bytes it returned; counted for the
    /// current quantum too (<see cref="QuantumScope"/>), when there is one.
    /// </summary>
    public void RecordGet(string datasetType, long bytes)
    {
        var c = For(datasetType);
        Interlocked.Increment(ref c.Gets);
        Interlocked.Add(ref c.BytesRead, bytes);
        QuantumScope.Current?.RecordGet(bytes);
    }

    /// <summary>A read served from the local cache (no request).</summary>
    public void RecordCacheHit(string datasetType) => Interlocked.Increment(ref For(datasetType).CacheHits);

    /// <summary>A cacheable read the cache could not serve.</summary>
    public void RecordCacheMiss(string datasetType) => Interlocked.Increment(ref For(datasetType).CacheMisses);

    /// <summary>One retry of a failed attempt.</summary>
    public void RecordRetry(string datasetType) => Interlocked.Increment(ref For(datasetType).Retries);

    /// <summary>One failed attempt that was retried, by its class (<see cref="StorageErrors.Describe(Exception)"/>).</summary>
    public void RecordFault(string kind) => _faults.AddOrUpdate(kind, 1, (_, n) => n + 1);

    /// <summary>The failed attempts that were retried, per class, sorted.</summary>
    public SortedDictionary<string, long> FaultsSeen() => new(_faults, StringComparer.Ordinal);

    /// <summary>One dataset written.</summary>
    public void RecordWrite(string datasetType, long bytes)
    {
        var c = For(datasetType);
        Interlocked.Increment(ref c.Writes);
        Interlocked.Add(ref c.BytesWritten, bytes);
    }

    /// <summary>The counters now, per dataset type, sorted by name.</summary>
    public SortedDictionary<string, DatasetTypeMetrics> Snapshot()
    {
        var result = new SortedDictionary<string, DatasetTypeMetrics>(StringComparer.Ordinal);
        foreach (var (type, c) in _byType)
        {
            result[type] = new DatasetTypeMetrics(
                Interlocked.Read(ref c.Gets), Interlocked.Read(ref c.BytesRead), Interlocked.Read(ref c.CacheHits),
                Interlocked.Read(ref c.CacheMisses), Interlocked.Read(ref c.Retries), Interlocked.Read(ref c.Writes),
                Interlocked.Read(ref c.BytesWritten));
        }
        return result;
    }

    /// <summary>The counters of one dataset type (zeros when it saw nothing).</summary>
    public DatasetTypeMetrics Get(string datasetType) =>
        Snapshot().TryGetValue(datasetType, out var m) ? m : new DatasetTypeMetrics(0, 0, 0, 0, 0, 0, 0);

    private Counters For(string datasetType) => _byType.GetOrAdd(datasetType, _ => new Counters());

    private sealed class Counters
    {
        public long Gets;
        public long BytesRead;
        public long CacheHits;
        public long CacheMisses;
        public long Retries;
        public long Writes;
        public long BytesWritten;
    }
}
