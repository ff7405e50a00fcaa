using Azure.Data.Tables;
using Drp.Pipeline.Catalogs;
using Drp.Storage.Catalogs;

namespace Drp.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class CatalogWriterTests(AzuriteFixture fixture)
{
    private static readonly ColumnDef[] s_columns =
    [
        new("sourceId", ColumnType.Long, null, "id"),
        new("ccdVisitId", ColumnType.Long, null, "partition"),
        new("band", ColumnType.String, null, "band"),
        new("psfFlux", ColumnType.Double, "nJy", "flux"),
        new("psfFluxErr", ColumnType.Double, "nJy", "flux error", Nullable: true),
        new("flag", ColumnType.Boolean, null, "a flag"),
        new("n", ColumnType.Int, null, "a count"),
    ];

    private static CatalogTable Table(int rows, int partitions)
    {
        var t = new CatalogTable("Source", s_columns);
        for (int i = 0; i < rows; i++)
        {
            t.Add((long)i, (long)(i % partitions), "r", i * 1.5, i % 7 == 0 ? null : (double?)0.1 * i, i % 2 == 0, i);
        }
        return t;
    }

    [Fact]
    public async Task Upsert_250RowsIn3Partitions_AllLandOnceAndARetryDuplicatesNothing()
    {
        var storage = await fixture.NewStorageAsync();
        var writer = new TableCatalogWriter();
        var table = Table(250, 3);

        Assert.Equal(250, await writer.WriteAsync(storage.Sources, table, CatalogTableKeys.Source));
        Assert.Equal(250, await writer.WriteAsync(storage.Sources, table, CatalogTableKeys.Source)); // a retry rewrites the same entities

        var all = new List<TableEntity>();
        await foreach (var e in storage.Sources.QueryAsync<TableEntity>())
        {
            all.Add(e);
        }
        Assert.Equal(250, all.Count);
        Assert.Equal(3, all.Select(e => e.PartitionKey).Distinct().Count());
        var e7 = all.Single(e => e.GetInt64("sourceId") == 7);
        Assert.Equal(10.5, e7.GetDouble("psfFlux"));
        Assert.False(e7.ContainsKey("psfFluxErr")); // null is an absent property
        Assert.Equal("r", e7.GetString("band"));
    }

    [Fact]
    public async Task Parquet_RoundTrip_KeepsValuesNullsAndUnits()
    {
        var table = Table(37, 2);
        using var ms = new MemoryStream();
        await ParquetCatalogWriter.WriteAsync(ms, table);
        ms.Position = 0;

        var back = await ParquetCatalogWriter.ReadAsync(ms, "Source", s_columns);

        Assert.Equal(table.Rows.Count, back.Rows.Count);
        for (int r = 0; r < table.Rows.Count; r++)
        {
            Assert.Equal(table.Rows[r], back.Rows[r]);
        }
        ms.Position = 0;
        await using var reader = await Parquet.ParquetReader.CreateAsync(ms);
        Assert.Contains("nJy", reader.CustomMetadata[ParquetCatalogWriter.SchemaMetadataKey]);
        using var rg = reader.OpenRowGroupReader(0);
        Assert.Equal("nJy", rg.GetCustomMetadata(reader.Schema.DataFields[3])["unit"]);
    }

    [Fact]
    public void Add_WrongTypeOrArity_Throws()
    {
        var t = new CatalogTable("Source", s_columns);
        Assert.Throws<ArgumentException>(() => t.Add(1L, 2L, "r", 1.0, null, true));
        Assert.Throws<ArgumentException>(() => t.Add(1, 2L, "r", 1.0, null, true, 3)); // int where long is declared
        Assert.Throws<ArgumentException>(() => t.Add(1L, 2L, "r", null, null, true, 3)); // null in a non-nullable column
    }
}
