using Drp.Local;
using Drp.Storage;
using Drp.Storage.Caching;
using Drp.Storage.Resilience;

namespace Drp.TestSupport;

/// <summary>
/// One in-memory Azurite (from the repository's pinned npm package) for a test class or collection; each test uses
/// its own uniquely named containers, queues and tables (<see cref="NewStorageAsync"/>). A test project declares its
/// collection in one line: <c>[CollectionDefinition(AzuriteFixture.Collection)] class C : ICollectionFixture&lt;AzuriteFixture&gt;;</c>.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The name test projects give the collection that shares one Azurite.</summary>
    public const string Collection = "Azurite";

    /// <summary>The running Azurite.</summary>
    public AzuriteHost Azurite { get; private set; } = null!;

    /// <summary>The connection string of the running Azurite.</summary>
    public string ConnectionString => Azurite.ConnectionString;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();

    /// <summary>Storage clients whose container, queue and table names are unique to the calling test, created.</summary>
    public async Task<StorageClients> NewStorageAsync() => (await Azurite.NewIsolatedStorageAsync()).Storage;

    /// <summary>Storage of the calling test's own and a run name with the same suffix.</summary>
    public async Task<(StorageClients Storage, string Run)> NewRunStorageAsync()
    {
        var (storage, suffix) = await Azurite.NewIsolatedStorageAsync();
        return (storage, "run" + suffix);
    }

    /// <summary>Quick retries for tests: the bound on attempts is what matters here, not the waits.</summary>
    public static StorageResilienceOptions FastRetries(int maxRetryAttempts = 10) => new()
    {
        MaxRetryAttempts = maxRetryAttempts,
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(10),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        TotalTimeout = TimeSpan.FromSeconds(120),
    };

    /// <summary>Faults at <paramref name="rate"/> with waits short enough for tests.</summary>
    public static FaultInjectionOptions Faults(double rate, int seed = 7, bool tables = true) => new()
    {
        Rate = rate,
        Seed = seed,
        RetryAfter = TimeSpan.FromMilliseconds(2),
        SlowResponseDelay = TimeSpan.FromMilliseconds(5),
        ApplyToTables = tables,
    };

    /// <summary>New clients on the same containers and tables as <paramref name="storage"/>, with other resilience, cache and faults.</summary>
    public static StorageClients Reopen(StorageClients storage, StorageResilienceOptions? resilience = null, DatasetCacheOptions? cache = null,
        FaultInjectionOptions? faults = null) =>
        new(storage.Options, resilience ?? FastRetries(), cache, faults);
}
