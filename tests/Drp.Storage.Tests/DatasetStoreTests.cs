using Drp.Core.Datasets;
using Drp.Storage.Datasets;

namespace Drp.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class DatasetStoreTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task WriteThenRead_WholeRangeAndPrefix_ReturnExactBytes()
    {
        var storage = await fixture.NewStorageAsync();
        var store = new DatasetStore(storage.DataContainer);
        var bytes = new byte[10_000];
        new Random(3).NextBytes(bytes);

        await store.WriteAsync("run/x.bin", bytes);

        Assert.Equal(bytes, await store.ReadAllAsync("run/x.bin"));
        Assert.Equal(bytes[2880..5760], await store.ReadRangeAsync("run/x.bin", 2880, 2880));
        Assert.Equal(bytes[..100], await store.ReadPrefixAsync("run/x.bin", 100));
        Assert.Equal(bytes, await store.ReadPrefixAsync("run/x.bin", 1 << 20)); // shorter object: all of it
    }

    [Fact]
    public async Task ReadRange_PastTheEnd_ThrowsIncompleteRead()
    {
        var storage = await fixture.NewStorageAsync();
        var store = new DatasetStore(storage.DataContainer);
        await store.WriteAsync("short.bin", new byte[100]);

        await Assert.ThrowsAsync<IncompleteReadException>(() => store.ReadRangeAsync("short.bin", 50, 100));
    }

    [Fact]
    public async Task Read_MissingDataset_ThrowsDatasetNotFound()
    {
        var storage = await fixture.NewStorageAsync();
        var store = new DatasetStore(storage.DataContainer);
        var e = await Assert.ThrowsAsync<DatasetNotFoundException>(() => store.ReadAllAsync("nope.fits"));
        Assert.Contains("nope.fits", e.Message);
    }
}
