using System.Text.Json;

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
    public required QuantumCounts Quanta { get; init; }
    public required IReadOnlyList<string> Failures { get; init; }
    public required Dictionary<string, TableCounts> Tables { get; init; }
    public required OutputLocations Outputs { get; init; }
    public string StorageLocation { get; init; } = "";
    public Dictionary<string, double> TimingsSeconds { get; init; } = [];
    public double ElapsedSeconds { get; init; }
}
