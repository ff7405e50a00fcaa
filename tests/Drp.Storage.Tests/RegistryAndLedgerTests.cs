using Drp.Storage.Registry;

namespace Drp.Storage.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class RegistryAndLedgerTests(AzuriteFixture fixture)
{
    private static RawRecord Raw(string blob, long visit = 10, int detector = 3, string etag = "etag") =>
        new("LSSTCam", visit, detector, "r", 30, 60000.5, "raw", blob, etag);

    [Fact]
    public async Task Register_SameBlobAndContentTwice_IsIdempotent()
    {
        // A retry after a lost response, or a replayed activity: the ingest goes on as registered, one row exists.
        var storage = await fixture.NewStorageAsync();
        var registry = new RegistryTable(storage.Registry);

        var (first, _) = await registry.RegisterAsync(Raw("a.fits"));
        var (second, existing) = await registry.RegisterAsync(Raw("a.fits"));

        Assert.Equal(RegisterOutcome.Registered, first);
        Assert.Equal(RegisterOutcome.Registered, second);
        Assert.Equal("a.fits", existing.BlobName);
        Assert.Single(await registry.ListAsync("LSSTCam"));
    }

    [Fact]
    public async Task Register_SameBlobReuploaded_IsAlreadyRegisteredAndOneRowExists()
    {
        var storage = await fixture.NewStorageAsync();
        var registry = new RegistryTable(storage.Registry);

        var (first, _) = await registry.RegisterAsync(Raw("a.fits"));
        var (second, existing) = await registry.RegisterAsync(Raw("a.fits", etag: "other"));

        Assert.Equal(RegisterOutcome.Registered, first);
        Assert.Equal(RegisterOutcome.AlreadyRegistered, second);
        Assert.Equal("a.fits", existing.BlobName);
        Assert.Single(await registry.ListAsync("LSSTCam"));
    }

    [Fact]
    public async Task Register_SameDataIdFromAnotherBlob_IsConflictAndKeepsTheFirst()
    {
        var storage = await fixture.NewStorageAsync();
        var registry = new RegistryTable(storage.Registry);
        await registry.RegisterAsync(Raw("a.fits"));

        var (outcome, existing) = await registry.RegisterAsync(Raw("b.fits"));

        Assert.Equal(RegisterOutcome.Conflict, outcome);
        Assert.Equal("a.fits", existing.BlobName);
        Assert.Equal("a.fits", (await registry.GetAsync("LSSTCam", 10, 3))!.BlobName);
    }

    [Fact]
    public async Task List_ReturnsVisitDetectorOrder()
    {
        var storage = await fixture.NewStorageAsync();
        var registry = new RegistryTable(storage.Registry);
        await registry.RegisterAsync(Raw("c", 20, 1));
        await registry.RegisterAsync(Raw("a", 3, 10));
        await registry.RegisterAsync(Raw("b", 3, 2));

        var list = await registry.ListAsync("LSSTCam");

        Assert.Equal([(3L, 2), (3L, 10), (20L, 1)], list.Select(r => (r.Visit, r.Detector)).ToArray());
    }

    [Fact]
    public async Task Ledger_AttemptsCountAndCompletionIsRecorded()
    {
        var storage = await fixture.NewStorageAsync();
        var ledger = new QuantumLedger(storage.Ledger);

        Assert.Equal(1, await ledger.StartAttemptAsync("run", "q1"));
        await ledger.CompleteAsync(new QuantumRecord("run", "q1", QuantumState.Failed, 1, "System.IO.IOException", "boom", 5, 0, null));
        Assert.Equal(2, await ledger.StartAttemptAsync("run", "q1"));
        await ledger.CompleteAsync(new QuantumRecord("run", "q1", QuantumState.Succeeded, 2, null, null, 7, 42, "[]"));

        var q = await ledger.GetAsync("run", "q1");
        Assert.NotNull(q);
        Assert.Equal(QuantumState.Succeeded, q.State);
        Assert.Equal(2, q.Attempts);
        Assert.Equal(42, q.OutputRows);
        Assert.Null(await ledger.GetAsync("other-run", "q1"));
    }
}
