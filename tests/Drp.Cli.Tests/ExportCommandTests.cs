using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Catalogs.Partitioning;
using Drp.Storage.Catalogs;

namespace Drp.Cli.Tests;

/// <summary>
/// <c>drp export</c> as a user runs it on Source Parquet files written by <see cref="ParquetCatalogWriter"/>: the chunk
/// files and manifest, a rerun into the same folder, and each bad input with its exit code (2 usage, 3 invalid input).
/// </summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-exp-" + Guid.NewGuid().ToString("N")[..8]);

    private string Input => Path.Combine(_dir, "in");

    private string Out => Path.Combine(_dir, "out");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Source catalogs with every declared column; positions on a 4-deg patch across RA 0.</summary>
    private async Task WriteSourcesAsync(string path, int rows, long firstId, int seed)
    {
        var rng = new Random(seed);
        var t = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        for (int i = 0; i < rows; i++)
        {
            var row = new object?[SourceSchema.Columns.Count];
            for (int c = 0; c < row.Length; c++)
            {
                var col = SourceSchema.Columns[c];
                row[c] = col.Name switch
                {
                    "sourceId" => firstId + i,
                    "coord_ra" => SkyPartitioner.NormalizeRa((rng.NextDouble() - 0.5) * 4),
                    "coord_dec" => -2 + rng.NextDouble() * 4,
                    _ => col.Type switch
                    {
                        ColumnType.Long => (long)i,
                        ColumnType.Int => i,
                        ColumnType.Double => rng.NextDouble(),
                        ColumnType.Float => (float)rng.NextDouble(),
                        ColumnType.Boolean => i % 2 == 0,
                        _ => "r",
                    },
                };
            }
            t.Add(row);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var s = File.Create(path);
        await ParquetCatalogWriter.WriteAsync(s, t);
    }

    [Fact]
    public async Task Export_FolderOfSourceParquet_WritesChunkFilesManifestAndSummary_AndARerunIsIdentical()
    {
        await WriteSourcesAsync(Path.Combine(Input, "visit=1", "source_1.parquet"), 600, 0, 1);
        await WriteSourcesAsync(Path.Combine(Input, "visit=2", "source_2.parquet"), 400, 1000, 2);

        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out, "--overlap", "0.05");

        Assert.True(exit == 0, stderr);
        var manifest = PartitionManifest.Parse(await File.ReadAllTextAsync(Path.Combine(Out, PartitionedCatalogExport.ManifestName)));
        Assert.Equal(1000, manifest.Totals.InputRows);
        Assert.Equal(1000, manifest.Totals.OwnRows);
        Assert.Contains($"exported 1000 rows from 2 files into {manifest.Totals.Files} chunks", stdout);
        Assert.Contains($"{manifest.Totals.OverlapRows} overlap copies", stdout);
        Assert.InRange(manifest.Totals.Files, 4, 20); // the patch spans chunks on both sides of RA 0 and of Dec 0
        Assert.Equal(new PartitioningParameters("qserv-stripes", 85, 12, 0.05, "coord_ra", "coord_dec"), manifest.Partitioning);

        var columns = PartitionedCatalogExport.OutputColumns(SourceSchema.Columns);
        int idCol = columns.ToList().FindIndex(c => c.Name == "sourceId");
        var ownIds = new List<long>();
        foreach (var f in manifest.Files)
        {
            await using var s = File.OpenRead(Path.Combine(Out, f.Path));
            var t = await ParquetCatalogWriter.ReadAsync(s, SourceSchema.TableName, columns);
            Assert.Equal(f.Rows, t.Rows.Count);
            ownIds.AddRange(t.Rows.Where(r => !(bool)r[^1]!).Select(r => (long)r[idCol]!));
        }
        Assert.Equal(Enumerable.Range(0, 600).Select(i => (long)i).Concat(Enumerable.Range(1000, 400).Select(i => (long)i)), ownIds.Order());

        string first = await File.ReadAllTextAsync(Path.Combine(Out, PartitionedCatalogExport.ManifestName));
        var (exit2, _, stderr2) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out, "--overlap", "0.05");
        Assert.True(exit2 == 0, stderr2);
        Assert.Equal(first, await File.ReadAllTextAsync(Path.Combine(Out, PartitionedCatalogExport.ManifestName))); // same SHA-256 per file
    }

    [Fact]
    public async Task Export_RerunWithOtherStripes_ReplacesThePreviousExport_AndAFailedRunLeavesItWhole()
    {
        await WriteSourcesAsync(Path.Combine(Input, "source.parquet"), 300, 0, 5);
        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out);
        Assert.True(exit == 0, stderr);

        (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out, "--stripes", "18", "--substripes", "4");
        Assert.True(exit == 0, stderr);
        string manifestJson = await File.ReadAllTextAsync(Path.Combine(Out, PartitionedCatalogExport.ManifestName));
        var manifest = PartitionManifest.Parse(manifestJson);
        Assert.Equal(18, manifest.Partitioning.NumStripes);
        Assert.Equal(manifest.Files.Select(f => f.Path).Append(PartitionedCatalogExport.ManifestName).Order(),
            Directory.GetFiles(Out).Select(Path.GetFileName).Order()); // no chunk of the 85-stripe export is left

        await File.WriteAllTextAsync(Path.Combine(Input, "zz-broken.parquet"), "not parquet");
        (exit, _, _) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out);
        Assert.Equal(3, exit);
        Assert.Equal(manifestJson, await File.ReadAllTextAsync(Path.Combine(Out, PartitionedCatalogExport.ManifestName)));
        Assert.All(manifest.Files, f => Assert.True(File.Exists(Path.Combine(Out, f.Path))));
    }

    [Fact]
    public async Task Export_InputThatDoesNotExist_ExitsUsageNamingIt()
    {
        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Path.Combine(_dir, "nope"), "--out", Out);

        Assert.Equal(2, exit);
        Assert.Contains("nope", stderr);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task Export_ParquetWithoutSourceColumns_ExitsInvalidInputAndWritesNothing()
    {
        var t = new CatalogTable("Other", [new ColumnDef("sourceId", ColumnType.Long, null, "id")]);
        t.Add(1L);
        Directory.CreateDirectory(Input);
        await using (var s = File.Create(Path.Combine(Input, "other.parquet")))
        {
            await ParquetCatalogWriter.WriteAsync(s, t);
        }

        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out);

        Assert.Equal(3, exit);
        Assert.Contains("other.parquet", stderr);
        Assert.Contains("lacks column", stderr);
        Assert.False(File.Exists(Path.Combine(Out, PartitionedCatalogExport.ManifestName)));
    }

    [Fact]
    public async Task Export_FileThatIsNotParquet_ExitsInvalidInput()
    {
        Directory.CreateDirectory(Input);
        await File.WriteAllTextAsync(Path.Combine(Input, "broken.parquet"), "not parquet at all");

        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out);

        Assert.Equal(3, exit);
        Assert.Contains("broken.parquet", stderr);
    }

    [Fact]
    public async Task Export_OutFolderHoldingOtherFiles_ExitsUsageAndLeavesThem()
    {
        await WriteSourcesAsync(Path.Combine(Input, "source.parquet"), 10, 0, 3);
        Directory.CreateDirectory(Out);
        await File.WriteAllTextAsync(Path.Combine(Out, "keep.txt"), "mine");

        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out);

        Assert.Equal(2, exit);
        Assert.Contains("not empty", stderr);
        Assert.Equal(["keep.txt"], Directory.GetFiles(Out).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Export_OverlapWiderThanASubStripe_ExitsUsage()
    {
        await WriteSourcesAsync(Path.Combine(Input, "source.parquet"), 10, 0, 4);

        var (exit, _, stderr) = await DrpProcess.RunDrpAsync("export", "--input", Input, "--out", Out, "--overlap", "1");

        Assert.Equal(2, exit);
        Assert.Contains("sub-stripe", stderr);
    }
}
