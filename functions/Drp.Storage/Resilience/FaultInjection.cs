using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Drp.Storage.Resilience;

/// <summary>The faults <see cref="FaultInjectionPolicy"/> can inject.</summary>
[Flags]
public enum FaultKinds
{
    /// <summary>No fault.</summary>
    None = 0,

    /// <summary>429 Too Many Requests with <c>x-ms-retry-after-ms</c>, without reaching the service.</summary>
    Throttle = 1,

    /// <summary>503 Server Busy with <c>Retry-After</c> (whole seconds), without reaching the service.</summary>
    ServerBusy = 2,

    /// <summary>The connection is reset before the request is sent.</summary>
    DroppedConnection = 4,

    /// <summary>The response comes after <see cref="FaultInjectionOptions.SlowResponseDelay"/>.</summary>
    SlowResponse = 8,

    /// <summary>A GET's body ends early without an error (the Content-Length header still names the full length).</summary>
    TruncatedBody = 16,

    /// <summary>Every kind.</summary>
    All = Throttle | ServerBusy | DroppedConnection | SlowResponse | TruncatedBody,
}

/// <summary>
/// Fault injection for tests and <c>drp demo --inject-faults RATE</c>: bound from <c>Drp:Storage:FaultInjection</c>;
/// off while <see cref="Rate"/> is 0. Never set it in production.
/// </summary>
public sealed class FaultInjectionOptions
{
    public const string SectionName = "Drp:Storage:FaultInjection";

    /// <summary>Fraction of requests that get a fault (0 = off, 1 = every request).</summary>
    [Range(0.0, 1.0)]
    public double Rate { get; set; }

    /// <summary>Same seed, same faults for the same sequence of requests to each URL.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Which faults to draw from (uniformly among those that apply to the request).</summary>
    public FaultKinds Kinds { get; set; } = FaultKinds.All;

    /// <summary>The wait an injected 429 or 503 asks for.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Extra latency of a slow response.</summary>
    public TimeSpan SlowResponseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Inject into Table calls too (without <see cref="FaultKinds.TruncatedBody"/>: the SDK parses those bodies itself).</summary>
    public bool ApplyToTables { get; set; } = true;
}

/// <summary>
/// An Azure SDK pipeline policy (per retry: every attempt is a new draw) that injects throttling, server-busy
/// answers, dropped connections, slow responses and truncated bodies at a configured rate. The draw for the n-th
/// request to a URL (method, path, query and range) is a hash of the seed, the request and n: deterministic for a
/// seed even when requests to different URLs interleave differently.
/// </summary>
public sealed class FaultInjectionPolicy : HttpPipelinePolicy
{
    private readonly FaultInjectionOptions _options;
    private readonly FaultKinds _kinds;
    private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<FaultKinds, long> _injected = new();
    private long _requests;

    /// <param name="options">Rate, seed, kinds and timings.</param>
    /// <param name="kinds">The kinds this client may get (intersected with the options' kinds).</param>
    public FaultInjectionPolicy(FaultInjectionOptions options, FaultKinds kinds = FaultKinds.All)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Rate is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Rate, "fault rate must be in [0, 1]");
        }
        _options = options;
        _kinds = options.Kinds & kinds;
    }

    /// <summary>Requests seen.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Faults injected so far, per kind.</summary>
    public IReadOnlyDictionary<FaultKinds, long> Injected => new Dictionary<FaultKinds, long>(_injected);

    /// <summary>Faults injected so far, all kinds.</summary>
    public long InjectedTotal => _injected.Values.Sum();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var fault = Draw(message);
        Interlocked.Increment(ref _requests);
        if (fault != FaultKinds.None)
        {
            _injected.AddOrUpdate(fault, 1, (_, n) => n + 1);
        }
        switch (fault)
        {
            case FaultKinds.Throttle:
                message.Response = new InjectedResponse(429, "Too Many Requests", message.Request.ClientRequestId,
                    ("x-ms-retry-after-ms", ((long)_options.RetryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
                    ("x-ms-error-code", "ServerBusy"));
                return;
            case FaultKinds.ServerBusy:
                message.Response = new InjectedResponse(503, "Server Busy", message.Request.ClientRequestId,
                    ("Retry-After", ((long)_options.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture)),
                    ("x-ms-error-code", "ServerBusy"));
                return;
            case FaultKinds.DroppedConnection:
                throw new RequestFailedException("injected fault: connection reset by peer",
                    new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)));
            case FaultKinds.SlowResponse:
                await Task.Delay(_options.SlowResponseDelay, message.CancellationToken);
                await ProcessNextAsync(message, pipeline);
                return;
            case FaultKinds.TruncatedBody:
                await ProcessNextAsync(message, pipeline);
                if (message.Response.ContentStream is { } body)
                {
                    message.Response.ContentStream = new TruncatingStream(body, TruncatedLength(message.Response));
                }
                return;
            default:
                await ProcessNextAsync(message, pipeline);
                return;
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    private FaultKinds Draw(HttpMessage message)
    {
        if (_options.Rate <= 0 || _kinds == FaultKinds.None)
        {
            return FaultKinds.None;
        }
        var request = message.Request;
        request.Headers.TryGetValue("x-ms-range", out var range);
        if (range is null)
        {
            request.Headers.TryGetValue("Range", out range);
        }
        string key = $"{request.Method}|{request.Uri.Path}|{request.Uri.Query}|{range}";
        int n = _seen.AddOrUpdate(key, 0, (_, v) => v + 1);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(FormattableString.Invariant($"{_options.Seed}|{key}|{n}")));
        double u = (BitConverter.ToUInt64(hash, 0) >> 11) * (1.0 / (1UL << 53));
        if (u >= _options.Rate)
        {
            return FaultKinds.None;
        }
        var eligible = Enum.GetValues<FaultKinds>()
            .Where(k => k is not (FaultKinds.None or FaultKinds.All) && _kinds.HasFlag(k))
            .Where(k => k != FaultKinds.TruncatedBody || request.Method == RequestMethod.Get)
            .ToArray();
        return eligible.Length == 0 ? FaultKinds.None : eligible[BitConverter.ToUInt32(hash, 8) % eligible.Length];
    }

    private static long TruncatedLength(Response response)
    {
        long declared = response.Headers.ContentLength ?? 0;
        return declared / 2;
    }

    private sealed class InjectedResponse : Response
    {
        private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

        public InjectedResponse(int status, string reason, string clientRequestId, params (string Name, string Value)[] headers)
        {
            Status = status;
            ReasonPhrase = reason;
            ClientRequestId = clientRequestId;
            foreach (var (name, value) in headers)
            {
                _headers[name] = value;
            }
            _headers["x-ms-client-request-id"] = clientRequestId;
        }

        public override int Status { get; }

        public override string ReasonPhrase { get; }

        public override Stream? ContentStream { get; set; } = new MemoryStream([]);

        public override string ClientRequestId { get; set; }

        public override bool IsError => Status >= 400;

        public override void Dispose() => ContentStream?.Dispose();

        protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => _headers.TryGetValue(name, out value);

        protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
        {
            values = _headers.TryGetValue(name, out var v) ? [v] : null;
            return values is not null;
        }

        protected override bool ContainsHeader(string name) => _headers.ContainsKey(name);

        protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers.Select(kv => new HttpHeader(kv.Key, kv.Value));
    }

    /// <summary>Ends the inner stream silently after a number of bytes: the dangerous kind of short read.</summary>
    private sealed class TruncatingStream(Stream inner, long keep) : Stream
    {
        private long _left = keep;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0)
            {
                return 0;
            }
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_left <= 0)
            {
                return 0;
            }
            int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
            _left -= n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
