using Drp.Local;

namespace Drp.EndToEnd.Tests;

/// <summary>One in-memory Azurite for the end-to-end tests (started from the repository's pinned npm package).</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteHost Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
