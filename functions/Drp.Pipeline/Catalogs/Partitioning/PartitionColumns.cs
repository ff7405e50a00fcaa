namespace Drp.Pipeline.Catalogs.Partitioning;

/// <summary>
/// The columns a partitioned (Qserv ingest-ready) export adds to every row: the one place they are declared.
/// </summary>
public static class PartitionColumns
{
    public static ColumnDef ChunkId { get; } = new("chunkId", ColumnType.Int, null,
        "Qserv chunk of the row's file: the row's own chunk, or for an overlap copy the chunk whose overlap holds it.");

    public static ColumnDef SubChunkId { get; } = new("subChunkId", ColumnType.Int, null,
        "Qserv sub-chunk within chunkId: the row's own, or for an overlap copy the sub-chunk of chunkId nearest the row.");

    public static ColumnDef Overlap { get; } = new("overlap", ColumnType.Boolean, null,
        "True for a copy of a row of another chunk that lies within the overlap radius of this chunk.");

    /// <summary>The three columns, in the order they are appended.</summary>
    public static IReadOnlyList<ColumnDef> All { get; } = [ChunkId, SubChunkId, Overlap];
}
