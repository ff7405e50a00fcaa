using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Catalogs.Partitioning;

namespace Drp.Storage.Catalogs;

/// <summary>Where a partitioned export writes its files (a local folder; a blob container later).</summary>
public interface IExportTarget
{
    /// <summary>Writes (or overwrites) the file <paramref name="name"/>, a path relative to the export's root.</summary>
    Task WriteAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);
}

/// <summary>An export into a local folder (created when missing).</summary>
public sealed class DirectoryExportTarget(string root) : IExportTarget
{
    public string Root { get; } = Path.GetFullPath(root);

    public async Task WriteAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        string path = Path.GetFullPath(Path.Combine(Root, name));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is outside the export folder", nameof(name));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var file = File.Create(path);
        await file.WriteAsync(content, cancellationToken);
    }
}

/// <summary>Bad input to an export: a missing or mistyped position column, a position off the sky, mixed schemas.</summary>
public sealed class CatalogExportException(string message) : Exception(message);

/// <summary>The partitioning an export used, as the manifest records it.</summary>
public sealed record PartitioningParameters(
    string Scheme, int NumStripes, int NumSubStripesPerStripe, double OverlapDeg, string RaColumn, string DecColumn);

/// <summary>One chunk file of an export: its rows (own plus overlap copies), SHA-256 and size.</summary>
public sealed record PartitionFile(int ChunkId, string Path, long Rows, long OwnRows, long OverlapRows, string Sha256, long Bytes);

/// <summary>Totals of an export: every input row is an own row of exactly one file.</summary>
public sealed record PartitionTotals(long InputRows, long OwnRows, long OverlapRows, int Files, long Bytes);

/// <summary>The manifest of a partitioned export (<c>manifest.json</c>): what an ingest needs to load and check it.</summary>
public sealed record PartitionManifest(
    string Table, PartitioningParameters Partitioning, IReadOnlyList<string> Columns, IReadOnlyList<PartitionFile> Files, PartitionTotals Totals)
{
    public static PartitionManifest Parse(string json) =>
        JsonSerializer.Deserialize(json, PartitionManifestJson.Default.PartitionManifest) ?? throw new InvalidDataException("empty manifest");
}

/// <summary>The manifest's JSON, generated at compile time (no reflection: a native build of drp writes it too).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PartitionManifest))]
internal sealed partial class PartitionManifestJson : JsonSerializerContext;

/// <summary>Progress of an export: the pass, rows read in it so far, chunk files written of all.</summary>
public readonly record struct PartitionExportProgress(string Pass, long RowsRead, int FilesWritten, int FilesTotal);

/// <summary>
/// An ingest-ready export of a catalog partitioned on the sky as Qserv's partitioner does it
/// (<see cref="SkyPartitioner"/>): every row gains <see cref="PartitionColumns"/> (chunkId, subChunkId, overlap) and goes
/// to the Parquet file of its own chunk, and a copy flagged overlap = true goes to the file of every other chunk whose
/// overlap margin holds it. One file per chunk that has rows, <c>chunk_{chunkId}.parquet</c>, then <c>manifest.json</c>.
/// <para>Memory stays bounded: a first pass over the batches counts rows per chunk; then chunks are written in groups
/// of at most <see cref="MaxRowsInMemory"/> rows (a bigger chunk alone), each group from one more pass over the
/// batches. The batches must therefore be enumerable more than once (an async iterator over files is). Rows keep the
/// input order (own rows first, then overlap copies), so the same input gives byte-identical files.</para>
/// </summary>
public sealed class PartitionedCatalogExport(SkyPartitioner partitioner, string raColumn = "coord_ra", string decColumn = "coord_dec")
{
    public const string ManifestName = "manifest.json";

    public const string PartitioningMetadataKey = "drp.partitioning";

    /// <summary>Rows held in memory at once while writing (a single chunk with more is still written whole).</summary>
    public long MaxRowsInMemory { get; init; } = 2_000_000;

    /// <summary>The file of a chunk, relative to the export's root.</summary>
    public static string FileNameFor(int chunkId) => string.Create(CultureInfo.InvariantCulture, $"chunk_{chunkId}.parquet");

    /// <summary>The input columns followed by <see cref="PartitionColumns.All"/>.</summary>
    public static IReadOnlyList<ColumnDef> OutputColumns(IReadOnlyList<ColumnDef> input)
    {
        foreach (var c in PartitionColumns.All)
        {
            if (input.Any(i => i.Name == c.Name))
            {
                throw new CatalogExportException($"the input already has a column {c.Name}: is it an export already?");
            }
        }
        return [.. input, .. PartitionColumns.All];
    }

    public PartitioningParameters Parameters => new("qserv-stripes", partitioner.Config.NumStripes,
        partitioner.Config.NumSubStripesPerStripe, partitioner.Config.OverlapDeg, raColumn, decColumn);

    public async Task<PartitionManifest> ExportAsync(
        IAsyncEnumerable<CatalogTable> batches, IExportTarget target, IProgress<PartitionExportProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        // Pass 1: the schema, and own and overlap rows per chunk.
        string? table = null;
        IReadOnlyList<ColumnDef>? columns = null;
        var counts = new SortedDictionary<int, (long Own, long Overlap)>();
        long inputRows = 0;
        await foreach (var batch in batches.WithCancellation(cancellationToken))
        {
            var (ra, dec) = CheckSchema(batch, ref table, ref columns);
            foreach (var row in batch.Rows)
            {
                var (r, d) = Position(batch, row, ra, dec, inputRows);
                int own = partitioner.Locate(r, d).ChunkId;
                counts[own] = counts.TryGetValue(own, out var c) ? (c.Own + 1, c.Overlap) : (1, 0);
                foreach (var o in partitioner.OverlapLocations(r, d))
                {
                    counts[o.ChunkId] = counts.TryGetValue(o.ChunkId, out c) ? (c.Own, c.Overlap + 1) : (0, 1);
                }
                inputRows++;
            }
            progress?.Report(new PartitionExportProgress("count", inputRows, 0, 0));
        }
        if (columns is null)
        {
            throw new CatalogExportException("the input has no catalog at all");
        }
        var outColumns = OutputColumns(columns);
        string partitioningJson = JsonSerializer.Serialize(Parameters, PartitionManifestJson.Default.PartitioningParameters);

        // Passes 2..n: groups of whole chunks, in chunk id order.
        var files = new List<PartitionFile>();
        foreach (var group in Groups(counts))
        {
            var rows = group.ToDictionary(id => id, id => (Own: new List<object?[]>(), Overlap: new List<object?[]>()));
            long read = 0;
            await foreach (var batch in batches.WithCancellation(cancellationToken))
            {
                int ra = batch.IndexOf(raColumn), dec = batch.IndexOf(decColumn);
                foreach (var row in batch.Rows)
                {
                    var (r, d) = Position(batch, row, ra, dec, read);
                    var own = partitioner.Locate(r, d);
                    if (rows.TryGetValue(own.ChunkId, out var lists))
                    {
                        lists.Own.Add([.. row, own.ChunkId, own.SubChunkId, false]);
                    }
                    foreach (var o in partitioner.OverlapLocations(r, d))
                    {
                        if (rows.TryGetValue(o.ChunkId, out lists))
                        {
                            lists.Overlap.Add([.. row, o.ChunkId, o.SubChunkId, true]);
                        }
                    }
                    read++;
                }
                progress?.Report(new PartitionExportProgress("write", read, files.Count, counts.Count));
            }
            if (read != inputRows)
            {
                throw new CatalogExportException($"the input changed during the export: {inputRows} rows at first, {read} now");
            }
            foreach (var id in group)
            {
                var (own, overlap) = rows[id];
                if (own.Count != counts[id].Own || overlap.Count != counts[id].Overlap)
                {
                    throw new CatalogExportException($"the input changed during the export: chunk {id} had {counts[id].Own} + {counts[id].Overlap} rows at first, {own.Count} + {overlap.Count} now");
                }
                var chunk = new CatalogTable(table!, outColumns);
                chunk.Rows.AddRange(own);
                chunk.Rows.AddRange(overlap);
                using var ms = new MemoryStream();
                await ParquetCatalogWriter.WriteAsync(ms, chunk, new Dictionary<string, string>
                {
                    [PartitioningMetadataKey] = partitioningJson,
                    ["drp.chunkId"] = id.ToString(CultureInfo.InvariantCulture),
                }, cancellationToken);
                var bytes = ms.GetBuffer().AsMemory(0, (int)ms.Length);
                string name = FileNameFor(id);
                await target.WriteAsync(name, bytes, cancellationToken);
                files.Add(new PartitionFile(id, name, own.Count + overlap.Count, own.Count, overlap.Count,
                    Convert.ToHexStringLower(SHA256.HashData(bytes.Span)), bytes.Length));
                rows.Remove(id);
                progress?.Report(new PartitionExportProgress("write", read, files.Count, counts.Count));
            }
        }

        var manifest = new PartitionManifest(table!, Parameters, outColumns.Select(c => c.Name).ToArray(), files,
            new PartitionTotals(inputRows, files.Sum(f => f.OwnRows), files.Sum(f => f.OverlapRows), files.Count, files.Sum(f => f.Bytes)));
        await target.WriteAsync(ManifestName, JsonSerializer.SerializeToUtf8Bytes(manifest, PartitionManifestJson.Default.PartitionManifest), cancellationToken);
        return manifest;
    }

    private IEnumerable<List<int>> Groups(SortedDictionary<int, (long Own, long Overlap)> counts)
    {
        var group = new List<int>();
        long held = 0;
        foreach (var (id, (own, overlap)) in counts)
        {
            long n = own + overlap;
            if (group.Count > 0 && held + n > MaxRowsInMemory)
            {
                yield return group;
                group = [];
                held = 0;
            }
            group.Add(id);
            held += n;
        }
        if (group.Count > 0)
        {
            yield return group;
        }
    }

    private (int Ra, int Dec) CheckSchema(CatalogTable batch, ref string? table, ref IReadOnlyList<ColumnDef>? columns)
    {
        if (columns is null)
        {
            table = batch.Name;
            columns = batch.Columns;
            OutputColumns(columns);
        }
        else if (batch.Name != table || !batch.Columns.SequenceEqual(columns))
        {
            throw new CatalogExportException($"catalog {batch.Name} has other columns than the first catalog ({table}): one export is one table");
        }
        return (PositionColumn(batch, raColumn), PositionColumn(batch, decColumn));
    }

    private static int PositionColumn(CatalogTable batch, string name)
    {
        int i = batch.Columns.ToList().FindIndex(c => c.Name == name);
        if (i < 0)
        {
            throw new CatalogExportException($"catalog {batch.Name} has no column {name}: it cannot be partitioned on the sky");
        }
        if (batch.Columns[i].Type is not (ColumnType.Double or ColumnType.Float))
        {
            throw new CatalogExportException($"catalog {batch.Name}: column {name} is {batch.Columns[i].Type}, a position must be Double or Float");
        }
        return i;
    }

    private static (double Ra, double Dec) Position(CatalogTable batch, object?[] row, int ra, int dec, long rowIndex)
    {
        double r = Convert.ToDouble(row[ra], CultureInfo.InvariantCulture);
        double d = Convert.ToDouble(row[dec], CultureInfo.InvariantCulture);
        if (row[ra] is null || row[dec] is null || !double.IsFinite(r) || !(d >= -90 && d <= 90))
        {
            throw new CatalogExportException(string.Create(CultureInfo.InvariantCulture,
                $"catalog {batch.Name}, row {rowIndex}: position ({row[ra] ?? "null"}, {row[dec] ?? "null"}) is not on the sky"));
        }
        return (r, d);
    }
}
