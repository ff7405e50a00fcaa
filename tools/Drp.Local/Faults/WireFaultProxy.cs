using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Drp.Local.Faults;

/// <summary>The faults <see cref="WireFaultProxy"/> injects: each is one way a real network or storage service fails.</summary>
[Flags]
public enum WireFaultKinds
{
    None = 0,

    /// <summary>503 ServerBusy with the service's error body; the request never reaches the service.</summary>
    ServerBusy = 1,

    /// <summary>500 OperationTimedOut with the service's error body; the request never reaches the service.</summary>
    OperationTimedOut = 2,

    /// <summary>429 with <c>Retry-After</c>; the request never reaches the service.</summary>
    TooManyRequests = 4,

    /// <summary>The request reaches the service, then the connection is reset before any byte of the response.</summary>
    ResetBeforeResponse = 8,

    /// <summary>The request reaches the service; the response's head and half its body arrive, then a reset.</summary>
    ResetMidBody = 16,

    /// <summary>The request reaches the service; half the body arrives and the connection closes cleanly, its Content-Length promising more.</summary>
    TruncatedBody = 32,

    /// <summary>A 503 ServerBusy whose error body is cut short (Content-Length promising more), then a clean close.</summary>
    TruncatedErrorBody = 64,

    /// <summary>No answer for <see cref="WireFaultOptions.StallTime"/>, then a close; the request never reaches the service.</summary>
    Stall = 128,

    All = 255,
}

/// <summary>What the proxy injects, how often, and for which seed. <see cref="Rate"/> may change while it runs.</summary>
public sealed class WireFaultOptions
{
    private double _rate;

    /// <summary>Share of requests that get a fault, in [0, 1].</summary>
    public double Rate
    {
        get => Volatile.Read(ref _rate);
        set => Volatile.Write(ref _rate, value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Rate), value, "a rate in [0, 1]"));
    }

    /// <summary>The same seed gives the same request (method, path and query, and how many times it was sent) the same fault.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>The kinds to choose among, uniformly.</summary>
    public WireFaultKinds Kinds { get; set; } = WireFaultKinds.All;

    /// <summary>How long a stalled request waits before its connection is closed (longer than the client's attempt timeout).</summary>
    public TimeSpan StallTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The <c>Retry-After</c> (whole seconds) of a 429.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}

/// <summary>The proxy's own count of requests and of the faults it injected, per kind (thread-safe).</summary>
public sealed class WireFaultCounters
{
    private readonly ConcurrentDictionary<string, long> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<WireFaultKinds, long> _faults = new();
    private long _requests;

    /// <summary>Requests seen, faulted or not.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Faults injected, per kind (kinds never injected are absent).</summary>
    public IReadOnlyDictionary<WireFaultKinds, long> Faults => new SortedDictionary<WireFaultKinds, long>(_faults);

    /// <summary>Faults injected in all.</summary>
    public long TotalFaults => _faults.Values.Sum();

    internal long NextOrdinal(string key)
    {
        Interlocked.Increment(ref _requests);
        return _sent.AddOrUpdate(key, 1, (_, n) => n + 1);
    }

    internal void Record(WireFaultKinds kind) => _faults.AddOrUpdate(kind, 1, (_, n) => n + 1);
}

/// <summary>
/// An HTTP/1.1 proxy on loopback in front of one Azurite service (tests and <c>drp bench</c>): it forwards each
/// request and, for a share of them chosen deterministically from the seed, fails it the way a network or a busy
/// storage service does (<see cref="WireFaultKinds"/>). Clients reach it through an ordinary connection string
/// (<see cref="WireFaultNetwork"/>), so every SDK client, retry policy and parser of the process is exercised.
/// </summary>
public sealed class WireFaultProxy : IAsyncDisposable
{
    private static readonly WireFaultKinds[] Each = Enum.GetValues<WireFaultKinds>().Where(k => k is not WireFaultKinds.None and not WireFaultKinds.All).ToArray();

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly Task _accepting;

    /// <param name="service">"blob", "queue" or "table": the shape of the error bodies.</param>
    /// <param name="upstreamPort">The service's port on 127.0.0.1.</param>
    /// <param name="options">What to inject.</param>
    /// <param name="counters">Where injected faults are counted (shared by the proxies of one account).</param>
    public WireFaultProxy(string service, int upstreamPort, WireFaultOptions options, WireFaultCounters counters)
    {
        Service = service is "blob" or "queue" or "table" ? service : throw new ArgumentException("blob, queue or table", nameof(service));
        UpstreamPort = upstreamPort;
        Options = options;
        Counters = counters;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_stop.Token);
    }

    public string Service { get; }

    /// <summary>The port clients connect to.</summary>
    public int Port { get; }

    public int UpstreamPort { get; }

    public WireFaultOptions Options { get; }

    public WireFaultCounters Counters { get; }

    /// <summary>The fault for the <paramref name="ordinal"/>-th sending of <paramref name="key"/>: a pure function of the seed.</summary>
    public static WireFaultKinds Decide(WireFaultOptions options, string key, long ordinal)
    {
        double rate = options.Rate;
        if (rate <= 0)
        {
            return WireFaultKinds.None;
        }
        ulong h = Fnv1a($"{options.Seed}|{key}|{ordinal}");
        if ((h >> 11) * (1.0 / (1UL << 53)) >= rate)
        {
            return WireFaultKinds.None;
        }
        var kinds = Each.Where(k => options.Kinds.HasFlag(k)).ToArray();
        return kinds.Length == 0 ? WireFaultKinds.None : kinds[(int)(Fnv1a($"kind|{h}") % (ulong)kinds.Length)];
    }

    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        // Finalizer (splitmix64): FNV's low bits mix poorly for short keys.
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9UL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebUL;
        return h ^ (h >> 31);
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            client.NoDelay = true;
            var task = Task.Run(() => ServeAsync(client, ct), CancellationToken.None);
            _connections[task] = true;
            _ = task.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken ct)
    {
        TcpClient? upstream = null;
        try
        {
            using var _ = client;
            var down = new HttpReader(client.GetStream());
            HttpReader? up = null;
            while (!ct.IsCancellationRequested)
            {
                var request = await down.ReadRequestAsync(client.GetStream(), ct);
                if (request is null)
                {
                    return;
                }
                string key = $"{Service} {request.Method} {request.Target}";
                var fault = Decide(Options, key, Counters.NextOrdinal(key));
                if (fault != WireFaultKinds.None)
                {
                    Counters.Record(fault);
                }
                switch (fault)
                {
                    case WireFaultKinds.ServerBusy:
                        await WriteAsync(client, ErrorResponse(503, "ServerBusy", "The server is busy."), ct);
                        continue;
                    case WireFaultKinds.OperationTimedOut:
                        await WriteAsync(client, ErrorResponse(500, "OperationTimedOut", "Operation could not be completed within the specified time."), ct);
                        continue;
                    case WireFaultKinds.TooManyRequests:
                        await WriteAsync(client, ErrorResponse(429, "TooManyRequests", "Too many requests.",
                            ("Retry-After", Options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture))), ct);
                        continue;
                    case WireFaultKinds.TruncatedErrorBody:
                        var error = ErrorResponse(503, "ServerBusy", "The server is busy.");
                        await WriteAsync(client, error.AsMemory(0, error.Length - (error.Length - HeadLength(error)) / 2), ct);
                        client.Client.Shutdown(SocketShutdown.Send);
                        return;
                    case WireFaultKinds.Stall:
                        await Task.Delay(Options.StallTime, ct);
                        return;
                }

                HttpResponse response;
                (upstream, up, response) = await ForwardAsync(request, upstream, up, ct);
                var bytes = response.Serialize();
                switch (fault)
                {
                    case WireFaultKinds.None:
                        await WriteAsync(client, bytes, ct);
                        if (response.CloseAfter)
                        {
                            return;
                        }
                        continue;
                    case WireFaultKinds.ResetBeforeResponse:
                        Reset(client);
                        return;
                    case WireFaultKinds.ResetMidBody:
                        await WriteAsync(client, bytes.AsMemory(0, HalfWay(bytes, response)), ct);
                        Reset(client);
                        return;
                    case WireFaultKinds.TruncatedBody:
                        await WriteAsync(client, bytes.AsMemory(0, HalfWay(bytes, response)), ct);
                        client.Client.Shutdown(SocketShutdown.Send);
                        return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            // The client went away, or the upstream is down (a reset is then what the client sees: like a refused connection).
            try
            {
                Reset(client);
            }
            catch (Exception inner) when (inner is SocketException or ObjectDisposedException)
            {
                // Already closed.
            }
        }
        finally
        {
            upstream?.Dispose();
        }
    }

    /// <summary>Where to cut a response: half its body, or half its head when it has no body.</summary>
    private static int HalfWay(byte[] bytes, HttpResponse response) =>
        response.Body.Length > 0 ? bytes.Length - response.Body.Length + response.Body.Length / 2 : Math.Max(1, (bytes.Length - 2) / 2);

    private static int HeadLength(byte[] message)
    {
        for (int i = 3; i < message.Length; i++)
        {
            if (message[i - 3] == '\r' && message[i - 2] == '\n' && message[i - 1] == '\r' && message[i] == '\n')
            {
                return i + 1;
            }
        }
        return message.Length;
    }

    /// <summary>Sends the request upstream (again on a new connection if a kept-alive one was closed by the service) and reads the whole response.</summary>
    private async Task<(TcpClient?, HttpReader?, HttpResponse)> ForwardAsync(HttpRequest request, TcpClient? upstream, HttpReader? up, CancellationToken ct)
    {
        var bytes = request.Serialize();
        for (int attempt = 0; ; attempt++)
        {
            bool reused = upstream is not null;
            if (upstream is null || up is null)
            {
                upstream = new TcpClient { NoDelay = true };
                await upstream.ConnectAsync(IPAddress.Loopback, UpstreamPort, ct);
                up = new HttpReader(upstream.GetStream());
            }
            try
            {
                await upstream.GetStream().WriteAsync(bytes, ct);
                var response = await up.ReadResponseAsync(request.Method == "HEAD", ct)
                    ?? throw new IOException("the service closed the connection without a response");
                if (response.CloseAfter)
                {
                    upstream.Dispose();
                    return (null, null, response);
                }
                return (upstream, up, response);
            }
            catch (IOException) when (reused && attempt == 0)
            {
                // Node closes idle kept-alive connections: nothing was processed; send again on a new one.
                upstream.Dispose();
                upstream = null;
                up = null;
            }
        }
    }

    private byte[] ErrorResponse(int status, string code, string message, params (string Name, string Value)[] extra)
    {
        string requestId = Guid.NewGuid().ToString();
        string text = $"{message}\nRequestId:{requestId}\nTime:{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffffffZ}";
        string body, type;
        if (Service == "table")
        {
            type = "application/json;odata=minimalmetadata;streaming=true;charset=utf-8";
            body = $"{{\"odata.error\":{{\"code\":\"{code}\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{text.Replace("\n", "\\n", StringComparison.Ordinal)}\"}}}}}}";
        }
        else
        {
            type = "application/xml";
            body = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{text}</Message></Error>";
        }
        var reason = status switch { 503 => "Service Unavailable", 500 => "Internal Server Error", 429 => "Too Many Requests", _ => "Error" };
        var head = new StringBuilder($"HTTP/1.1 {status} {reason}\r\n");
        var payload = Encoding.UTF8.GetBytes(body);
        head.Append(CultureInfo.InvariantCulture, $"Content-Type: {type}\r\nContent-Length: {payload.Length}\r\nx-ms-request-id: {requestId}\r\nx-ms-version: 2025-11-05\r\nx-ms-error-code: {code}\r\n");
        foreach (var (name, value) in extra)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        head.Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.ToString()), .. payload];
    }

    private static async Task WriteAsync(TcpClient client, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var stream = client.GetStream();
        await stream.WriteAsync(bytes, ct);
        await stream.FlushAsync(ct);
    }

    /// <summary>Closes with a TCP reset (SO_LINGER 0), as a dropped connection looks to the client.</summary>
    private static void Reset(TcpClient client)
    {
        if (client.Client is { } socket)
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        try
        {
            await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
        _stop.Dispose();
    }
}

/// <summary>
/// Three <see cref="WireFaultProxy"/>s, one per service of an Azurite, with one seed and one set of counters, and the
/// connection string that sends a process's every storage call through them.
/// </summary>
public sealed class WireFaultNetwork : IAsyncDisposable
{
    private WireFaultNetwork(WireFaultProxy blob, WireFaultProxy queue, WireFaultProxy table, WireFaultOptions options, WireFaultCounters counters) =>
        (Blob, Queue, Table, Options, Counters) = (blob, queue, table, options, counters);

    public WireFaultProxy Blob { get; }

    public WireFaultProxy Queue { get; }

    public WireFaultProxy Table { get; }

    public WireFaultOptions Options { get; }

    public WireFaultCounters Counters { get; }

    /// <summary>The development account's connection string through the proxies.</summary>
    public string ConnectionString => AzuriteHost.BuildConnectionString(Blob.Port, Queue.Port, Table.Port);

    /// <summary>Proxies in front of <paramref name="azurite"/>'s three services.</summary>
    public static WireFaultNetwork Start(AzuriteHost azurite, WireFaultOptions options) =>
        Start(azurite.BlobPort, azurite.QueuePort, azurite.TablePort, options);

    /// <summary>Proxies in front of the three services on these loopback ports.</summary>
    public static WireFaultNetwork Start(int blobPort, int queuePort, int tablePort, WireFaultOptions options)
    {
        var counters = new WireFaultCounters();
        return new WireFaultNetwork(new WireFaultProxy("blob", blobPort, options, counters), new WireFaultProxy("queue", queuePort, options, counters),
            new WireFaultProxy("table", tablePort, options, counters), options, counters);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Blob.DisposeAsync();
        await Queue.DisposeAsync();
        await Table.DisposeAsync();
    }
}
