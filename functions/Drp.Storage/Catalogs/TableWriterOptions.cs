using System.ComponentModel.DataAnnotations;

namespace Drp.Storage.Catalogs;

/// <summary>
/// How catalog rows are written to Azure Tables: bound from <c>Drp:Storage:Tables</c> and validated at start-up.
/// </summary>
public sealed class TableWriterOptions
{
    public const string SectionName = "Drp:Storage:Tables";

    /// <summary>
    /// Batch transactions in flight at once from this process, over every caller and table (the writer stage's bound;
    /// DP0.2 limited database connections the same way with one merge queue). Each batch also holds one of the
    /// account's request slots (<see cref="Resilience.StorageResilienceOptions.MaxConcurrentRequestsPerAccount"/>)
    /// while it is sent, so keep this below that to leave room for blob reads.
    /// </summary>
    [Range(1, 256)]
    public int MaxConcurrentBatches { get; set; } = 8;
}
