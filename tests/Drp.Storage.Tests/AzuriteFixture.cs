using Drp.Local;
using Drp.Storage;
using Drp.Storage.Caching;
using Drp.Storage.Resilience;

namespace Drp.Storage.Tests;

/// <summary>One in-memory Azurite for this project's tests; each test uses its own uniquely named containers and tables.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteHost Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();

    /// <summary>Storage clients whose container, queue and table names are unique to the calling test.</summary>
    public async Task<StorageClients> NewStorageAsync() => (await Azurite.NewIsolatedStorageAsync()).Storage;

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

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
