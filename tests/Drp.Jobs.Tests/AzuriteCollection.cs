using Drp.TestSupport;

namespace Drp.Jobs.Tests;

/// <summary>The tests of this project that share one Azurite (<see cref="AzuriteFixture"/>).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = AzuriteFixture.Collection;
}
