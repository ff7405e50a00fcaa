using System.Text.Json;
using Drp.Storage;
using Drp.Core.Provenance;
using Drp.Storage.Provenance;
using Drp.Storage.Resilience;

namespace Drp.Cli;

public sealed record RawCounts(int Uploaded, int Registered, int Rejected, int DuplicateEvents);

public sealed record QuantumCounts(int Total, int Succeeded, int Unprocessable, int Failed, int Skipped);

public sealed record TableCounts(long AzureTableRows, long ParquetRows, long DistinctIds, long DuplicateIds);

public sealed record OutputLocations(string OutDir, string CatalogFolder, IReadOnlyList<string> CatalogFiles, string DataContainer, string Collection);

/// <summary>What <c>drp demo</c> prints and writes to <c>summary.json</c>.</summary>
public sealed record DemoSummary
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public required string Run { get; init; }
    public required string Instrument { get; init; }
    public required RawCounts Raws { get; init; }
    /// <summary>Every quantum of the campaign; <see cref="Steps"/> has them per step.</summary>
    public required QuantumCounts Quanta { get; init; }

    /// <summary>Quanta per step of the campaign.</summary>
    public Dictionary<string, QuantumCounts> Steps { get; init; } = [];
    public required IReadOnlyList<string> Failures { get; init; }
    public required Dictionary<string, TableCounts> Tables { get; init; }
    public required OutputLocations Outputs { get; init; }
    public DatasetAccessSummary? DatasetAccess { get; init; }

    /// <summary>The failed storage attempts each client of the demo retried, by class: what a faulty network cost.</summary>
    public Dictionary<string, ClientResilience> Resilience { get; init; } = [];

    /// <summary>Which software versions processed the campaign's quanta (a skipped quantum counts for the version that ran it).</summary>
    public IReadOnlyList<VersionCount> SoftwareVersions { get; init; } = [];

    /// <summary>The run's compute per task type, from the ledger (what <c>drp accounting</c> prints).</summary>
    public RunAccountingReport? Accounting { get; init; }

    /// <summary>Step 1's catalog QA (every column from the schema, row counts, coverage maps).</summary>
    public Drp.Workflows.Activities.StepQaResult? CatalogQa { get; init; }

    /// <summary>Every step's catalog QA, as the campaign's gates ran it.</summary>
    public IReadOnlyList<Drp.Workflows.Activities.StepQaResult> StepQa { get; init; } = [];
    public string StorageLocation { get; init; } = "";
    public Dictionary<string, double> TimingsSeconds { get; init; } = [];
    public double ElapsedSeconds { get; init; }
}

/// <summary>The workers' dataset access: injected faults and, per dataset type, GETs, bytes, cache hits and misses, retries.</summary>
public sealed record DatasetAccessSummary(
    double FaultRate,
    Dictionary<string, long> InjectedFaults,
    IReadOnlyDictionary<string, DatasetTypeMetrics> ByDatasetType,
    long CacheHighWaterBytes)
{
    /// <summary>From the workers' clients (null when the workers never built them).</summary>
    public static DatasetAccessSummary? From(StorageClients? storage, double faultRate)
    {
        if (storage is null)
        {
            return null;
        }
        var injected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var policy in new[] { storage.BlobFaults, storage.TableFaults })
        {
            foreach (var (kind, n) in policy?.Injected ?? new Dictionary<FaultKinds, long>())
            {
                injected[kind.ToString()] = injected.GetValueOrDefault(kind.ToString()) + n;
            }
        }
        return new DatasetAccessSummary(faultRate, injected, storage.Metrics.Snapshot(), storage.Cache?.HighWaterBytes ?? 0);
    }
}

/// <summary>One client's retries and the faults they absorbed, by class (HTTP status and code, reset, timeout, ...).</summary>
public sealed record ClientResilience(long Retries, IReadOnlyDictionary<string, long> FaultsSeen)
{
    public static ClientResilience From(DatasetStoreMetrics metrics) =>
        new(metrics.Snapshot().Values.Sum(m => m.Retries), metrics.FaultsSeen());
}
