using System.Security.Cryptography;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Catalogs.Partitioning;
using Drp.Storage.Catalogs;

namespace Drp.Storage.Tests;

/// <summary>
/// The partitioned export against brute force: every input row once as an own row in its chunk's file, overlap copies
/// exactly where a scan of every chunk puts them, a manifest that matches the files, and the same bytes twice.
/// </summary>
public sealed class PartitionedCatalogExportTests : IDisposable
{
    private static readonly ColumnDef[] s_columns =
    [
        new("sourceId", ColumnType.Long, null, "id"),
        new("coord_ra", ColumnType.Double, "deg", "ra"),
        new("coord_dec", ColumnType.Double, "deg", "dec"),
        new("band", ColumnType.String, null, "band"),
        new("psfFlux", ColumnType.Float, "nJy", "flux", Nullable: true),
        new("flag", ColumnType.Boolean, null, "a flag"),
    ];

    // Large enough an overlap (0.1 deg, under the 0.176 deg sub-stripe) that many rows have copies.
    private static readonly SkyPartitioner s_partitioner = new(new SkyPartitioningConfig(85, 12, 0.1));

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-export-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Three batches of sources on patches across RA 0, around a chunk corner, and at the south pole.</summary>
    private static List<CatalogTable> Batches()
    {
        var rng = new Random(5);
        var centres = new (double Ra, double Dec)[] { (0, 1), (45.0, -30.7), (17, -89.5) };
        var batches = new List<CatalogTable>();
        long id = 0;
        foreach (var (ra0, dec0) in centres)
        {
            var t = new CatalogTable("Source", s_columns);
            for (int i = 0; i < 700; i++)
            {
                double dec = Math.Clamp(dec0 + (rng.NextDouble() - 0.5) * 3, -90, 90);
                double ra = SkyPartitioner.NormalizeRa(ra0 + (rng.NextDouble() - 0.5) * 3 / Math.Max(Math.Cos(dec * Math.PI / 180), 0.05));
                t.Add(id++, ra, dec, "griz"[i % 4].ToString(), i % 9 == 0 ? null : (float?)(rng.NextDouble() * 1000), i % 3 == 0);
            }
            batches.Add(t);
        }
        return batches;
    }

    private static async IAsyncEnumerable<CatalogTable> AsAsync(IEnumerable<CatalogTable> batches)
    {
        foreach (var b in batches)
        {
            await Task.Yield();
            yield return b;
        }
    }

    private async Task<(PartitionManifest Manifest, string Dir)> ExportAsync(string name, long maxRowsInMemory = 2_000_000)
    {
        string dir = Path.Combine(_dir, name);
        var export = new PartitionedCatalogExport(s_partitioner) { MaxRowsInMemory = maxRowsInMemory };
        var manifest = await export.ExportAsync(AsAsync(Batches()), new DirectoryExportTarget(dir));
        return (manifest, dir);
    }

    [Fact]
    public async Task Export_SourcesAcrossChunkEdges_EveryRowOnceOwnAndOverlapCopiesAsABruteForceScanPutsThem()
    {
        var (manifest, dir) = await ExportAsync("a");

        var input = Batches().SelectMany(b => b.Rows).ToDictionary(r => (long)r[0]!);
        var outColumns = PartitionedCatalogExport.OutputColumns(s_columns);
        var own = new List<(long Id, int Chunk)>();
        var overlap = new HashSet<(long Id, int Chunk)>();
        foreach (var file in manifest.Files)
        {
            CatalogTable t;
            await using (var s = File.OpenRead(Path.Combine(dir, file.Path)))
            {
                t = await ParquetCatalogWriter.ReadAsync(s, "Source", outColumns);
            }
            foreach (var row in t.Rows)
            {
                long id = (long)row[0]!;
                Assert.Equal(input[id], row[..s_columns.Length]); // every value kept
                Assert.Equal(file.ChunkId, (int)row[6]!);
                if ((bool)row[8]!)
                {
                    Assert.True(overlap.Add((id, file.ChunkId)), $"row {id} copied twice into chunk {file.ChunkId}");
                    Assert.Contains(new ChunkLocation(file.ChunkId, (int)row[7]!), s_partitioner.OverlapLocations((double)row[1]!, (double)row[2]!));
                }
                else
                {
                    var loc = s_partitioner.Locate((double)row[1]!, (double)row[2]!);
                    Assert.Equal(new ChunkLocation(loc.ChunkId, loc.SubChunkId), new ChunkLocation((int)row[6]!, (int)row[7]!));
                    own.Add((id, file.ChunkId));
                }
            }
        }
        Assert.Equal(input.Keys.Order(), own.Select(o => o.Id).Order()); // every row exactly once, in exactly one chunk

        // Brute force: every chunk of the sky whose overlap margin holds the row.
        var everyChunk = s_partitioner.AllChunkIds().Select(c => (Id: c, Box: s_partitioner.ChunkBounds(c))).ToArray();
        var expected = new HashSet<(long, int)>();
        foreach (var (id, row) in input)
        {
            double ra = (double)row[1]!, dec = (double)row[2]!;
            foreach (var (c, box) in everyChunk)
            {
                if (dec >= box.DecMin - 1 && dec <= box.DecMax + 1 && s_partitioner.IsInOverlapOf(c, ra, dec))
                {
                    expected.Add((id, c));
                }
            }
        }
        Assert.Subset(expected, overlap);
        Assert.Superset(expected, overlap);
        Assert.InRange(overlap.Count, 100, int.MaxValue); // the data did exercise the overlap
    }

    [Fact]
    public async Task Export_Manifest_CountsShaAndSizesMatchTheFiles()
    {
        var (manifest, dir) = await ExportAsync("m");

        var onDisk = Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(manifest.Files.Select(f => f.Path).Append(PartitionedCatalogExport.ManifestName).Order(), onDisk);
        var outColumns = PartitionedCatalogExport.OutputColumns(s_columns);
        foreach (var f in manifest.Files)
        {
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(dir, f.Path));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), f.Sha256);
            Assert.Equal(bytes.Length, f.Bytes);
            var t = await ParquetCatalogWriter.ReadAsync(new MemoryStream(bytes), "Source", outColumns);
            Assert.Equal(f.Rows, t.Rows.Count);
            Assert.Equal(f.OverlapRows, t.Rows.Count(r => (bool)r[8]!));
            Assert.Equal(f.OwnRows, t.Rows.Count(r => !(bool)r[8]!));
        }
        Assert.Equal(2100, manifest.Totals.InputRows);
        Assert.Equal(manifest.Totals.InputRows, manifest.Totals.OwnRows);
        Assert.Equal(manifest.Files.Sum(f => f.OverlapRows), manifest.Totals.OverlapRows);
        Assert.Equal(manifest.Files.Count, manifest.Totals.Files);
        Assert.Equal(manifest.Files.Sum(f => f.Bytes), manifest.Totals.Bytes);
        Assert.Equal(new PartitioningParameters("qserv-stripes", 85, 12, 0.1, "coord_ra", "coord_dec"), manifest.Partitioning);
        Assert.Equal([.. s_columns.Select(c => c.Name), "chunkId", "subChunkId", "overlap"], manifest.Columns);

        var reread = PartitionManifest.Parse(await File.ReadAllTextAsync(Path.Combine(dir, PartitionedCatalogExport.ManifestName)));
        Assert.Equal(manifest.Files, reread.Files);
        Assert.Equal(manifest.Totals, reread.Totals);
    }

    [Fact]
    public async Task Export_Twice_AndInSmallMemoryGroups_GivesByteIdenticalFiles()
    {
        var (first, a) = await ExportAsync("first");
        var (_, b) = await ExportAsync("second");
        var (grouped, c) = await ExportAsync("grouped", maxRowsInMemory: 150); // many passes, a few chunks each

        Assert.InRange(first.Files.Count, 6, int.MaxValue);
        foreach (var name in Directory.GetFiles(a).Select(Path.GetFileName))
        {
            byte[] expected = await File.ReadAllBytesAsync(Path.Combine(a, name!));
            Assert.Equal(expected, await File.ReadAllBytesAsync(Path.Combine(b, name!)));
            Assert.Equal(expected, await File.ReadAllBytesAsync(Path.Combine(c, name!)));
        }
        Assert.Equal(Directory.GetFiles(a).Length, Directory.GetFiles(c).Length);
    }

    [Fact]
    public async Task Export_WithoutAPositionColumn_ThrowsNamingIt()
    {
        var t = new CatalogTable("Source", [new ColumnDef("sourceId", ColumnType.Long, null, "id"), new ColumnDef("coord_ra", ColumnType.Double, "deg", "ra")]);
        t.Add(1L, 10.0);
        var e = await Assert.ThrowsAsync<CatalogExportException>(() =>
            new PartitionedCatalogExport(s_partitioner).ExportAsync(AsAsync([t]), new DirectoryExportTarget(Path.Combine(_dir, "x"))));
        Assert.Contains("coord_dec", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public async Task Export_PositionOffTheSky_ThrowsNamingTheRow()
    {
        var batches = Batches();
        batches[1].Rows[3][2] = 91.0;
        var e = await Assert.ThrowsAsync<CatalogExportException>(() =>
            new PartitionedCatalogExport(s_partitioner).ExportAsync(AsAsync(batches), new DirectoryExportTarget(Path.Combine(_dir, "x"))));
        Assert.Contains("row 703", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public async Task Export_InputAlreadyPartitioned_Throws()
    {
        var t = new CatalogTable("Source", [.. s_columns, PartitionColumns.ChunkId]);
        var e = await Assert.ThrowsAsync<CatalogExportException>(() =>
            new PartitionedCatalogExport(s_partitioner).ExportAsync(AsAsync([t]), new DirectoryExportTarget(Path.Combine(_dir, "x"))));
        Assert.Contains("chunkId", e.Message);
    }
}
