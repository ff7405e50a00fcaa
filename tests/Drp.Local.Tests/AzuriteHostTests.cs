using System.Net.Sockets;
using Drp.Local;

namespace Drp.Local.Tests;

public sealed class AzuriteHostTests
{
    [Fact]
    public async Task StartAsync_OnAFolderWhoseAzuriteWasOrphaned_StopsTheOrphanAndServesTheSameData()
    {
        // A drp killed with SIGKILL leaves its Azurite child running on the data folder; the next start stops it.
        var dir = Path.Combine(Path.GetTempPath(), "drp-orphan-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var orphan = await AzuriteHost.StartAsync(AzuriteOptions.Persistent(dir));
            using var orphanProcess = System.Diagnostics.Process.GetProcessById(orphan.ProcessId);
            var container = new Azure.Storage.Blobs.BlobContainerClient(orphan.ConnectionString, "kept");
            await container.CreateAsync();
            await container.UploadBlobAsync("x.txt", BinaryData.FromString("still here"));

            await using var next = await AzuriteHost.StartAsync(AzuriteOptions.Persistent(dir));

            Assert.True(orphanProcess.WaitForExit(15_000), "the orphaned Azurite is still running");
            var blob = new Azure.Storage.Blobs.BlobClient(next.ConnectionString, "kept", "x.txt");
            Assert.Equal("still here", (await blob.DownloadContentAsync()).Value.Content.ToString());
            orphan.Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

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
