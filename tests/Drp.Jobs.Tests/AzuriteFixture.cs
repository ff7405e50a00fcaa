using Drp.Local;

namespace Drp.Jobs.Tests;

/// <summary>
/// One in-memory Azurite per test collection. Use with <c>[Collection(AzuriteCollection.Name)]</c>; other test
/// projects can copy this file (it is all there is to it) or reference this project.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The running Azurite.</summary>
    public AzuriteHost Azurite { get; private set; } = null!;

    /// <summary>The connection string of the running Azurite.</summary>
    public string ConnectionString => Azurite.ConnectionString;

    public async Task InitializeAsync() => Azurite = await AzuriteHost.StartAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();
}

/// <summary>The test collection that shares one <see cref="AzuriteFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
