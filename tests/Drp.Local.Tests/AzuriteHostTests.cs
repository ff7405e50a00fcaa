using System.Net.Sockets;
using Drp.Local;

namespace Drp.Local.Tests;

public sealed class AzuriteHostTests
{
    [Fact]
    public async Task StartAsync_InMemory_ServesBlobQueueAndTableUntilDisposed()
    {
        var azurite = await AzuriteHost.StartAsync();
        int[] ports = [azurite.BlobPort, azurite.QueuePort, azurite.TablePort];

        Assert.Equal(3, ports.Distinct().Count());
        Assert.Contains($"BlobEndpoint=http://127.0.0.1:{azurite.BlobPort}/devstoreaccount1", azurite.ConnectionString);
        Assert.Contains($"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}/devstoreaccount1", azurite.ConnectionString);
        Assert.Contains($"TableEndpoint=http://127.0.0.1:{azurite.TablePort}/devstoreaccount1", azurite.ConnectionString);
        foreach (var port in ports)
        {
            Assert.True(await AcceptsAsync(port), $"port {port} should accept connections");
        }

        await azurite.DisposeAsync();

        foreach (var port in ports)
        {
            Assert.False(await AcceptsAsync(port), $"port {port} should be closed after dispose");
        }
    }

    [Fact]
    public async Task StartAsync_WithoutNodeModules_SaysToRunNpmCi()
    {
        var emptyRoot = Directory.CreateTempSubdirectory("drp-no-node-modules-");
        try
        {
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(
                () => AzuriteHost.StartAsync(new AzuriteOptions { RepositoryRoot = emptyRoot.FullName }));

            Assert.Contains("run npm ci at the repository root", ex.Message);
        }
        finally
        {
            emptyRoot.Delete(recursive: true);
        }
    }

    [Fact]
    public void FindRepositoryRoot_FromTestOutput_FindsFolderWithPackageJson()
    {
        var root = AzuriteHost.FindRepositoryRoot();

        Assert.NotNull(root);
        Assert.True(File.Exists(Path.Combine(root, "package.json")));
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
