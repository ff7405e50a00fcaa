using System.Globalization;
using System.Text;

namespace Drp.Local.Faults;

/// <summary>One HTTP/1.1 request as read off the wire, body de-chunked.</summary>
internal sealed record HttpRequest(string Method, string Target, string Version, List<(string Name, string Value)> Headers, byte[] Body)
{
    /// <summary>The request as sent upstream: a Content-Length instead of chunks, and no <c>Expect</c> (the proxy already said 100 Continue).</summary>
    public byte[] Serialize() => HttpWire.Serialize($"{Method} {Target} {Version}", Headers, Body, writeLength: Body.Length > 0 || Method is not ("GET" or "HEAD" or "DELETE" or "OPTIONS"),
        drop: ["Expect"]);
}

/// <summary>One HTTP/1.1 response as read off the wire, body de-chunked.</summary>
internal sealed record HttpResponse(int Status, string StatusLine, List<(string Name, string Value)> Headers, byte[] Body, bool CloseAfter, bool NoBody)
{
    /// <summary>The response as sent to the client (a HEAD's or 204's Content-Length kept as the service gave it).</summary>
    public byte[] Serialize() => NoBody
        ? HttpWire.Serialize(StatusLine, Headers, Body, writeLength: false, drop: [])
        : HttpWire.Serialize(StatusLine, Headers, Body, writeLength: true, drop: []);
}

internal static class HttpWire
{
    public static string? Get(List<(string Name, string Value)> headers, string name) =>
        headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    public static byte[] Serialize(string startLine, List<(string Name, string Value)> headers, byte[] body, bool writeLength, string[] drop)
    {
        var head = new StringBuilder(startLine).Append("\r\n");
        foreach (var (name, value) in headers)
        {
            bool framing = name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
                || (writeLength && name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
            if (!framing && !drop.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        if (writeLength)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }
        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }
}

/// <summary>A buffered reader of HTTP/1.1 messages on one connection.</summary>
internal sealed class HttpReader(Stream stream)
{
    private const int MaxLine = 64 * 1024;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next request, or null when the client closed the connection between requests.</summary>
    public async Task<HttpRequest?> ReadRequestAsync(Stream replies, CancellationToken ct)
    {
        string? line;
        do
        {
            line = await ReadLineAsync(ct);
            if (line is null)
            {
                return null;
            }
        }
        while (line.Length == 0);
        var parts = line.Split(' ', 3);
        if (parts.Length != 3)
        {
            throw new InvalidDataException($"not an HTTP request line: {line}");
        }
        var headers = await ReadHeadersAsync(ct);
        if (string.Equals(HttpWire.Get(headers, "Expect"), "100-continue", StringComparison.OrdinalIgnoreCase))
        {
            await replies.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), ct);
        }
        byte[] body = IsChunked(headers) ? await ReadChunkedAsync(ct)
            : long.TryParse(HttpWire.Get(headers, "Content-Length"), out long length) ? await ReadExactlyAsync(checked((int)length), ct)
            : [];
        return new HttpRequest(parts[0], parts[1], parts[2], headers, body);
    }

    /// <summary>The next response (skipping 1xx), or null when the service closed the connection before one.</summary>
    public async Task<HttpResponse?> ReadResponseAsync(bool headRequest, CancellationToken ct)
    {
        while (true)
        {
            var line = await ReadLineAsync(ct);
            if (line is null)
            {
                return null;
            }
            var parts = line.Split(' ', 3);
            if (parts.Length < 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status))
            {
                throw new InvalidDataException($"not an HTTP status line: {line}");
            }
            var headers = await ReadHeadersAsync(ct);
            if (status is >= 100 and < 200)
            {
                continue;
            }
            bool close = string.Equals(HttpWire.Get(headers, "Connection"), "close", StringComparison.OrdinalIgnoreCase) || parts[0] == "HTTP/1.0";
            bool noBody = headRequest || status is 204 or 304;
            byte[] body = noBody ? []
                : IsChunked(headers) ? await ReadChunkedAsync(ct)
                : long.TryParse(HttpWire.Get(headers, "Content-Length"), out long length) ? await ReadExactlyAsync(checked((int)length), ct)
                : await ReadToEndAsync(ct);
            if (!noBody && HttpWire.Get(headers, "Content-Length") is null && !IsChunked(headers))
            {
                close = true;
            }
            return new HttpResponse(status, line, headers, body, close, noBody);
        }
    }

    private static bool IsChunked(List<(string Name, string Value)> headers) =>
        HttpWire.Get(headers, "Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;

    private async Task<List<(string, string)>> ReadHeadersAsync(CancellationToken ct)
    {
        var headers = new List<(string, string)>();
        while (true)
        {
            var line = await ReadLineAsync(ct) ?? throw new IOException("connection closed in the middle of the headers");
            if (line.Length == 0)
            {
                return headers;
            }
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidDataException($"not an HTTP header: {line}");
            }
            headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken ct)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(ct) ?? throw new IOException("connection closed in the middle of a chunked body");
            int semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
            int size = int.Parse(semicolon >= 0 ? sizeLine[..semicolon] : sizeLine, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                while ((await ReadLineAsync(ct) ?? "").Length > 0)
                {
                    // Trailers: dropped.
                }
                return body.ToArray();
            }
            body.Write(await ReadExactlyAsync(size, ct));
            await ReadLineAsync(ct);
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        int scanned = 0;
        while (true)
        {
            int at = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
            if (at >= 0)
            {
                int length = at - _start;
                var line = Encoding.Latin1.GetString(_buffer, _start, length > 0 && _buffer[at - 1] == '\r' ? length - 1 : length);
                _start = at + 1;
                return line;
            }
            scanned = _end - _start;
            if (scanned > MaxLine)
            {
                throw new InvalidDataException("HTTP line too long");
            }
            if (!await FillAsync(ct))
            {
                if (_end == _start)
                {
                    return null;
                }
                throw new IOException("connection closed in the middle of a line");
            }
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        int copied = 0;
        while (copied < count)
        {
            if (_start == _end && !await FillAsync(ct))
            {
                throw new IOException($"connection closed after {copied} of {count} body bytes");
            }
            int n = Math.Min(count - copied, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private async Task<byte[]> ReadToEndAsync(CancellationToken ct)
    {
        using var body = new MemoryStream();
        do
        {
            body.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
        while (await FillAsync(ct));
        return body.ToArray();
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
        }
        int n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
        _end += n;
        return n > 0;
    }
}
