using Drp.Local;
using Drp.Storage;

namespace Drp.Storage.Tests;

/// <summary>One in-memory Azurite for this project's tests; each test uses its own uniquely named containers and tables.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteHost Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();

    /// <summary>Storage clients whose container, queue and table names are unique to the calling test.</summary>
    public async Task<StorageClients> NewStorageAsync()
    {
        string s = Guid.NewGuid().ToString("N")[..10];
        var clients = new StorageClients(new DrpStorageOptions
        {
            ConnectionString = Azurite.ConnectionString,
            RawContainer = "raw" + s,
            DataContainer = "data" + s,
            ArrivalsQueue = "arrivals" + s,
            RegistryTable = "Registry" + s,
            LedgerTable = "Ledger" + s,
            SourceTable = "Source" + s,
        });
        await clients.EnsureCreatedAsync();
        return clients;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
