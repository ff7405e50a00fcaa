namespace Drp.Local;

/// <summary>
/// How <see cref="AzuriteHost"/> starts Azurite. Every property has a usable default: with none set, Azurite runs
/// in memory on three free loopback ports, from the repository's pinned npm package.
/// </summary>
public sealed class AzuriteOptions
{
    /// <summary>
    /// The folder holding <c>package.json</c> and <c>node_modules</c> (the repository root). Null: found by walking
    /// up from <see cref="AppContext.BaseDirectory"/>, then from the current directory.
    /// </summary>
    public string? RepositoryRoot { get; set; }

    /// <summary>
    /// Azurite's data folder (<c>--location</c>), created if missing; data survives a restart. Null: in memory
    /// (<c>--inMemoryPersistence</c>), the choice for tests.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Blob port; null or 0 picks a free one.</summary>
    public int? BlobPort { get; set; }

    /// <summary>Queue port; null or 0 picks a free one.</summary>
    public int? QueuePort { get; set; }

    /// <summary>Table port; null or 0 picks a free one.</summary>
    public int? TablePort { get; set; }

    /// <summary>How long to wait for all three ports to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The Node.js executable; a bare name is looked up on PATH.</summary>
    public string NodeExecutable { get; set; } = "node";

    /// <summary>Creates options for a persistent Azurite that keeps its data in <paramref name="dataDirectory"/>.</summary>
    public static AzuriteOptions Persistent(string dataDirectory) => new() { DataDirectory = dataDirectory };
}
