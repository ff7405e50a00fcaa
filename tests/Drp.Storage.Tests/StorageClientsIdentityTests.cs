using System.ComponentModel.DataAnnotations;
using Azure.Core;
using Drp.Storage;

namespace Drp.Storage.Tests;

/// <summary>The two ways to reach the account: a connection string (Azurite) or service URIs with a credential (Azure).</summary>
public sealed class StorageClientsIdentityTests
{
    private static DrpStorageOptions UriOptions() => new()
    {
        BlobServiceUri = "https://stdrp.blob.core.windows.net/",
        QueueServiceUri = "https://stdrp.queue.core.windows.net/",
        TableServiceUri = "https://stdrp.table.core.windows.net/",
        ManagedIdentityClientId = "00000000-0000-0000-0000-000000000001",
    };

    private static List<ValidationResult> Validate(DrpStorageOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Fact]
    public void Constructor_ServiceUris_ClientsAddressThoseEndpoints()
    {
        var clients = new StorageClients(UriOptions(), credential: new NoCredential());

        Assert.Equal("stdrp", clients.Blobs.AccountName);
        Assert.Equal(new Uri("https://stdrp.queue.core.windows.net/"), clients.Queues.Uri);
        Assert.Equal("stdrp", clients.Tables.AccountName);
        Assert.Equal("https://stdrp.blob.core.windows.net/raw", clients.RawContainer.Uri.ToString());
    }

    [Fact]
    public void CredentialFor_ClientId_IsThatManagedIdentity()
    {
        Assert.IsType<Azure.Identity.ManagedIdentityCredential>(StorageClients.CredentialFor(UriOptions()));
        Assert.IsType<Azure.Identity.DefaultAzureCredential>(StorageClients.CredentialFor(new DrpStorageOptions()));
    }

    [Fact]
    public void Validate_ConnectionStringOnly_IsValid()
    {
        Assert.Empty(Validate(new DrpStorageOptions { ConnectionString = "UseDevelopmentStorage=true" }));
        Assert.Empty(Validate(UriOptions()));
    }

    [Fact]
    public void Validate_Neither_AsksForOneOfTheTwo()
    {
        var problems = Validate(new DrpStorageOptions());

        var only = Assert.Single(problems);
        Assert.Contains("set ConnectionString, or BlobServiceUri, QueueServiceUri and TableServiceUri", only.ErrorMessage);
    }

    [Fact]
    public void Validate_Both_IsRejected()
    {
        var options = UriOptions();
        options.ConnectionString = "UseDevelopmentStorage=true";

        Assert.Contains(Validate(options), r => r.ErrorMessage!.Contains("not both"));
    }

    [Fact]
    public void Constructor_MissingTableUri_ThrowsNamingIt()
    {
        var options = UriOptions();
        options.TableServiceUri = "not a uri";

        var e = Assert.Throws<InvalidOperationException>(() => new StorageClients(options, credential: new NoCredential()));

        Assert.Contains("TableServiceUri must be an absolute http(s) URI", e.Message);
    }

    /// <summary>A credential that is never asked for a token: constructing clients makes no request.</summary>
    private sealed class NoCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no token expected");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no token expected");
    }
}
