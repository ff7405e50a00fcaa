using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Local;

/// <summary>
/// A running Azurite (Blob, Queue, Table) started from the repository's pinned npm package
/// (<c>node_modules/azurite</c>, installed by <c>npm ci</c> at the repository root), listening on 127.0.0.1.
/// Disposing it kills Azurite's whole process tree.
/// </summary>
/// <example>
/// <code>
/// await using var azurite = await AzuriteHost.StartAsync();            // in memory, free ports
/// var blobs = new BlobServiceClient(azurite.ConnectionString);
/// </code>
/// </example>
public sealed class AzuriteHost : IAsyncDisposable, IDisposable
{
    /// <summary>Azurite's well-known development account name.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development account key (public, documented by Microsoft).</summary>
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const int PortAttempts = 3;
    private const int MaxCapturedChars = 16_000;

    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly ILogger _logger;
    private int _disposed;

    private AzuriteHost(Process process, StringBuilder output, int blobPort, int queuePort, int tablePort,
        string? dataDirectory, ILogger logger)
    {
        _process = process;
        _output = output;
        _logger = logger;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        DataDirectory = dataDirectory;
        BlobEndpoint = new Uri($"http://127.0.0.1:{blobPort}/{AccountName}");
        QueueEndpoint = new Uri($"http://127.0.0.1:{queuePort}/{AccountName}");
        TableEndpoint = new Uri($"http://127.0.0.1:{tablePort}/{AccountName}");
        ConnectionString = BuildConnectionString(blobPort, queuePort, tablePort);
    }

    /// <summary>The Blob service port.</summary>
    public int BlobPort { get; }

    /// <summary>The Queue service port.</summary>
    public int QueuePort { get; }

    /// <summary>The Table service port.</summary>
    public int TablePort { get; }

    /// <summary>The Blob endpoint, account included (<c>http://127.0.0.1:port/devstoreaccount1</c>).</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>The Queue endpoint, account included.</summary>
    public Uri QueueEndpoint { get; }

    /// <summary>The Table endpoint, account included.</summary>
    public Uri TableEndpoint { get; }

    /// <summary>The data folder, or null when Azurite runs in memory.</summary>
    public string? DataDirectory { get; }

    /// <summary>Azurite's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// A storage connection string for the development account with explicit Blob, Queue and Table endpoints, usable
    /// by the Azure SDK clients and by the Durable Task Azure Storage backend.
    /// </summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Storage of one tenant of this Azurite (a test, a bench run): every container, queue and table named with the
    /// suffix (fresh when null), created. Returns the clients and the suffix (tests name their run after it).
    /// </summary>
    public async Task<(Drp.Storage.StorageClients Storage, string Suffix)> NewIsolatedStorageAsync(string? suffix = null, CancellationToken cancellationToken = default)
    {
        string s = suffix ?? Guid.NewGuid().ToString("N")[..10];
        var storage = new Drp.Storage.StorageClients(new Drp.Storage.DrpStorageOptions
        {
            ConnectionString = ConnectionString,
            RawContainer = "raw" + s,
            DataContainer = "data" + s,
            ArrivalsQueue = "arrivals" + s,
            RegistryTable = "Registry" + s,
            LedgerTable = "Ledger" + s,
            SourceTable = "Source" + s,
            CcdVisitTable = "CcdVisit" + s,
            VisitTable = "Visit" + s,
        });
        await storage.EnsureCreatedAsync(cancellationToken);
        return (storage, s);
    }

    /// <summary>The connection string for the well-known development account on the given ports of 127.0.0.1.</summary>
    public static string BuildConnectionString(int blobPort, int queuePort, int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{queuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{tablePort}/{AccountName};";

    /// <summary>Starts Azurite in memory on free ports (the usual choice for tests).</summary>
    public static Task<AzuriteHost> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(new AzuriteOptions(), logger: null, cancellationToken);

    /// <summary>
    /// Starts Azurite and waits until its Blob, Queue and Table ports accept connections.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <c>node_modules/azurite</c> is missing (run <c>npm ci</c> at the repository root), Node.js cannot be started,
    /// or Azurite exited or did not listen within <see cref="AzuriteOptions.StartTimeout"/> (the message carries its
    /// output).
    /// </exception>
    public static async Task<AzuriteHost> StartAsync(AzuriteOptions options, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var script = FindAzuriteScript(options.RepositoryRoot);
        string? dataDirectory = null;
        if (options.DataDirectory is not null)
        {
            dataDirectory = Path.GetFullPath(options.DataDirectory);
            Directory.CreateDirectory(dataDirectory);
            StopOrphan(dataDirectory, logger);
        }

        var choosesPorts = IsFree(options.BlobPort) || IsFree(options.QueuePort) || IsFree(options.TablePort);
        for (var attempt = 1; ; attempt++)
        {
            var ports = ChoosePorts(options);
            try
            {
                var host = await StartOnceAsync(options, script, dataDirectory, ports, logger, cancellationToken)
                    .ConfigureAwait(false);
                if (dataDirectory is not null)
                {
                    File.WriteAllText(Path.Combine(dataDirectory, PidFileName), host.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                return host;
            }
            catch (AzuritePortInUseException ex) when (choosesPorts && attempt < PortAttempts)
            {
                // Another process took a port between our probe and Azurite's bind: choose again.
                logger.LogWarning("Azurite could not bind a chosen port ({Reason}); retrying, attempt {Attempt}",
                    ex.Message, attempt + 1);
            }
        }
    }

    /// <summary>
    /// Stops Azurite as a service manager would: SIGTERM first, so a persistent Azurite saves its database (its
    /// store is written to disk periodically, and a SIGKILL loses the last writes), then a kill of the whole tree
    /// if it has not exited within the grace period.
    /// </summary>
    private static void Terminate(Process process)
    {
        try
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                kill?.WaitForExit(5_000);
                if (process.WaitForExit(10_000))
                {
                    return;
                }
            }
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    /// <summary>Where a persistent Azurite's process id is kept, in its data folder.</summary>
    public const string PidFileName = ".drp-azurite.pid";

    /// <summary>
    /// A drp killed with SIGKILL cannot stop its Azurite child, which then keeps the data folder open. The next start
    /// on the same folder finds its pid file and, if that process is still an Azurite serving this folder, stops it.
    /// </summary>
    private static void StopOrphan(string dataDirectory, ILogger logger)
    {
        var pidFile = Path.Combine(dataDirectory, PidFileName);
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid))
        {
            return;
        }
        try
        {
            var cmdline = File.Exists($"/proc/{pid}/cmdline") ? File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ') : "";
            if (cmdline.Contains("azurite", StringComparison.OrdinalIgnoreCase) && cmdline.Contains(dataDirectory, StringComparison.Ordinal))
            {
                using var orphan = Process.GetProcessById(pid);
                logger.LogWarning("Stopping Azurite (pid {ProcessId}) left running on {DataDirectory} by an earlier process", pid, dataDirectory);
                Terminate(orphan);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // Gone already, or not ours to stop.
        }
        File.Delete(pidFile);
    }

    /// <summary>
    /// The repository root: the nearest folder, walking up from <paramref name="start"/> (default: the application's
    /// base directory, then the current directory), that contains <c>package.json</c>. Null if none does.
    /// </summary>
    public static string? FindRepositoryRoot(string? start = null)
    {
        var starts = start is not null
            ? new[] { start }
            : new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (var s in starts)
        {
            for (var dir = new DirectoryInfo(Path.GetFullPath(s)); dir is not null; dir = dir.Parent)
            {
                // Skip folders inside node_modules: every npm package there has its own package.json.
                if (dir.FullName.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}",
                        StringComparison.Ordinal) || dir.Name == "node_modules")
                {
                    continue;
                }

                if (File.Exists(Path.Combine(dir.FullName, "package.json")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                Terminate(_process);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        if (DataDirectory is not null)
        {
            try
            {
                File.Delete(Path.Combine(DataDirectory, PidFileName));
            }
            catch (IOException)
            {
            }
        }
        _logger.LogDebug("Azurite (pid {ProcessId}) stopped", _process.Id);
        _process.Dispose();
    }

    /// <summary>What Azurite wrote to stdout and stderr so far (bounded).</summary>
    public string CapturedOutput()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string FindAzuriteScript(string? repositoryRoot)
    {
        // DRP_REPOSITORY_ROOT: where package.json and node_modules are, for a drp that runs from elsewhere (a published copy).
        var root = repositoryRoot ?? NonEmpty(Environment.GetEnvironmentVariable("DRP_REPOSITORY_ROOT")) ?? FindRepositoryRoot()
            ?? throw new InvalidOperationException(
                "Cannot find the repository root (a folder with package.json) above " +
                $"'{AppContext.BaseDirectory}' or '{Directory.GetCurrentDirectory()}': set DRP_REPOSITORY_ROOT to the repository (where npm ci ran).");
        // Run Azurite's entry script with node directly (what node_modules/.bin/azurite links to): no shell, the same
        // on Linux and Windows, and the process we kill is Azurite itself.
        var script = Path.Combine(root, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed under '{root}' ('{script}' is missing): run npm ci at the repository root.");
        }

        return script;
    }

    private static async Task<AzuriteHost> StartOnceAsync(AzuriteOptions options, string script, string? dataDirectory,
        (int Blob, int Queue, int Table) ports, ILogger logger, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.NodeExecutable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
            // In memory, Azurite still resolves a workspace; keep it away from whatever the caller's cwd is.
            WorkingDirectory = dataDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(script);
        foreach (var (name, port) in new[] { ("blob", ports.Blob), ("queue", ports.Queue), ("table", ports.Table) })
        {
            start.ArgumentList.Add($"--{name}Host");
            start.ArgumentList.Add("127.0.0.1");
            start.ArgumentList.Add($"--{name}Port");
            start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        start.ArgumentList.Add("--skipApiVersionCheck");
        start.ArgumentList.Add("--loose");
        start.ArgumentList.Add("--silent");
        start.ArgumentList.Add("--disableTelemetry");
        if (dataDirectory is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(dataDirectory);
        }

        var output = new StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler capture = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                if (output.Length < MaxCapturedChars)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += capture;
        process.ErrorDataReceived += capture;
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException(
                $"Cannot start Node.js ('{options.NodeExecutable}') to run Azurite: {ex.Message}. Install Node.js 20+.",
                ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new AzuriteHost(process, output, ports.Blob, ports.Queue, ports.Table, dataDirectory, logger);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await host.WaitUntilListeningAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        logger.LogInformation(
            "Azurite (pid {ProcessId}) listening on blob {BlobPort}, queue {QueuePort}, table {TablePort}; data {DataLocation}; ready in {ElapsedMs} ms",
            process.Id, ports.Blob, ports.Queue, ports.Table, dataDirectory ?? "in memory",
            stopwatch.ElapsedMilliseconds);
        return host;
    }

    private async Task WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var pending = new List<int> { BlobPort, QueuePort, TablePort };
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                // Let the asynchronous readers drain what the process wrote before it died.
                _process.WaitForExit();
                var text = CapturedOutput();
                var message = $"Azurite exited with code {_process.ExitCode} before listening on ports " +
                    $"{BlobPort}/{QueuePort}/{TablePort}. Its output:{Environment.NewLine}{text}";
                if (text.Contains("EADDRINUSE", StringComparison.Ordinal))
                {
                    throw new AzuritePortInUseException(message);
                }

                throw new InvalidOperationException(message);
            }

            if (deadline.Elapsed > timeout)
            {
                throw new InvalidOperationException(
                    $"Azurite (pid {_process.Id}) did not accept connections on port(s) {string.Join(", ", pending)} " +
                    $"within {timeout.TotalSeconds:0} s. Its output:{Environment.NewLine}{CapturedOutput()}");
            }

            for (var i = pending.Count - 1; i >= 0; i--)
            {
                if (await AcceptsAsync(pending[i], cancellationToken).ConfigureAwait(false))
                {
                    pending.RemoveAt(i);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient(AddressFamily.InterNetwork);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when ((ex is SocketException or OperationCanceledException) &&
                                   !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static bool IsFree(int? port) => port is null or 0;

    private static (int Blob, int Queue, int Table) ChoosePorts(AzuriteOptions options)
    {
        // Hold all probe listeners at once so the three ports differ.
        var listeners = new List<TcpListener>();
        try
        {
            int Pick(int? requested)
            {
                if (!IsFree(requested))
                {
                    return requested!.Value;
                }

                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
                return ((IPEndPoint)listener.LocalEndpoint).Port;
            }

            return (Pick(options.BlobPort), Pick(options.QueuePort), Pick(options.TablePort));
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private sealed class AzuritePortInUseException(string message) : InvalidOperationException(message);
}
