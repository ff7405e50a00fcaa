namespace Drp.Pipeline.Catalogs.Partitioning;

/// <summary>
/// The columns a partitioned (Qserv ingest-ready) export adds to every row, as declared in <c>schema/catalogs.yaml</c>
/// (<c>drp:partitionColumns</c>, <see cref="CatalogSchema.PartitionColumns"/>).
/// </summary>
public static class PartitionColumns
{
    public static ColumnDef ChunkId { get; } = Declared("chunkId");

    public static ColumnDef SubChunkId { get; } = Declared("subChunkId");

    public static ColumnDef Overlap { get; } = Declared("overlap");

    /// <summary>The three columns, in the order they are appended.</summary>
    public static IReadOnlyList<ColumnDef> All { get; } = [ChunkId, SubChunkId, Overlap];

    private static ColumnDef Declared(string name) =>
        CatalogSchema.Default.PartitionColumns.FirstOrDefault(c => c.Name == name)
        ?? throw new InvalidOperationException($"schema/catalogs.yaml declares no partition column {name} (drp:partitionColumns)");
}
