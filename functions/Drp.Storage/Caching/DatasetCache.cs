using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Drp.Storage.Caching;

/// <summary>An object as the cache hands it out: a verified file entry, or (too big for the budget) the bytes in memory.</summary>
public sealed class CachedObject
{
    private readonly string? _file;
    private readonly byte[]? _bytes;

    internal CachedObject(string? file, byte[]? bytes, long length, bool hit)
    {
        _file = file;
        _bytes = bytes;
        Length = length;
        Hit = hit;
    }

    /// <summary>The object's length in bytes.</summary>
    public long Length { get; }

    /// <summary>True when no request to the service was made for this read.</summary>
    public bool Hit { get; }

    /// <summary>The whole object.</summary>
    public byte[] ReadAll() => _bytes ?? ReadRange(0, checked((int)Length));

    /// <summary>
    /// <paramref name="length"/> bytes from <paramref name="offset"/>; the caller has checked the range lies inside the
    /// object. Throws <see cref="FileNotFoundException"/> if the entry was evicted meanwhile (the caller reads again).
    /// </summary>
    public byte[] ReadRange(long offset, int length)
    {
        if (_bytes is not null)
        {
            return _bytes.AsSpan(checked((int)offset), length).ToArray();
        }
        var result = new byte[length];
        using var handle = File.OpenHandle(_file!, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        int done = 0;
        while (done < length)
        {
            int n = RandomAccess.Read(handle, result.AsSpan(done), DatasetCache.HeaderBytes + offset + done);
            if (n == 0)
            {
                throw new IOException($"cache entry {_file} ends before byte {offset + done}");
            }
            done += n;
        }
        return result;
    }
}

/// <summary>
/// A bounded read-through LRU disk cache of whole objects. The byte budget covers committed entries and files being
/// written: space is reserved (evicting least recently used entries) before a file is written, so the folder never
/// holds more than <see cref="DatasetCacheOptions.MaxBytes"/>. Concurrent readers of one object share one fetch.
/// Entries are written to a temporary file and renamed into place, so a crash leaves no half entry under an entry's
/// name; temporary files are deleted at start. Each entry carries its length and MD5 and is verified on its first
/// hit in this process (an entry is immutable once renamed); a bad entry is dropped and fetched again.
/// </summary>
public sealed class DatasetCache
{
    internal const int HeaderBytes = 32;
    private static readonly byte[] Magic = "DRPCACH1"u8.ToArray();

    private readonly object _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new();
    private readonly ConcurrentDictionary<string, Task<CachedObject>> _inflight = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private long _bytes;
    private long _highWater;

    /// <summary>Opens (creating it if needed) the cache folder: drops leftover temporary files and indexes the entries there.</summary>
    public DatasetCache(DatasetCacheOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBytes);
        Options = options;
        Root = options.ResolvedRoot;
        _logger = logger ?? NullLogger.Instance;
        Directory.CreateDirectory(Root);
        foreach (var tmp in Directory.EnumerateFiles(Root, "*.tmp"))
        {
            TryDelete(tmp);
        }
        foreach (var file in new DirectoryInfo(Root).EnumerateFiles("*.entry").OrderBy(f => f.LastWriteTimeUtc))
        {
            var entry = new Entry(Path.GetFileNameWithoutExtension(file.Name), file.FullName, file.Length) { Verified = false };
            entry.Node = _lru.AddFirst(entry);
            _entries[entry.Name] = entry;
            _bytes += entry.Size;
        }
        lock (_lock)
        {
            EvictUntilFits(0);
        }
        _highWater = _bytes;
    }

    /// <summary>The options in force.</summary>
    public DatasetCacheOptions Options { get; }

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary>Bytes of entries and reservations now.</summary>
    public long CurrentBytes => Interlocked.Read(ref _bytes);

    /// <summary>The most bytes held at once since start.</summary>
    public long HighWaterBytes => Interlocked.Read(ref _highWater);

    /// <summary>Entries dropped to stay in the budget.</summary>
    public long Evictions { get; private set; }

    /// <summary>Entries found corrupt on a hit and fetched again.</summary>
    public long CorruptEntries { get; private set; }

    /// <summary>The policy of a dataset type name.</summary>
    public DatasetCachePolicy PolicyFor(string datasetType) => Options.PolicyFor(datasetType);

    /// <summary>
    /// The object named <paramref name="key"/> (any string unique to it, e.g. its URL): from the cache when an
    /// entry is there and sound; otherwise fetched once by <paramref name="fetch"/> (which must return the whole,
    /// checked object), stored if it fits the budget, and shared with concurrent readers of the same key.
    /// </summary>
    public async Task<CachedObject> GetAsync(string key, Func<CancellationToken, Task<byte[]>> fetch, CancellationToken cancellationToken = default)
    {
        string name = NameOf(key);
        for (int attempt = 0; ; attempt++)
        {
            if (TryHit(name) is { } hit)
            {
                return hit;
            }
            var mine = new TaskCompletionSource<CachedObject>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _inflight.GetOrAdd(name, mine.Task);
            if (ReferenceEquals(task, mine.Task))
            {
                try
                {
                    // Another reader's fetch may have finished between the look-up above and claiming the fetch.
                    mine.SetResult(TryHit(name) ?? await FetchAndStoreAsync(name, fetch, cancellationToken));
                }
                catch (Exception e)
                {
                    mine.SetException(e);
                }
                finally
                {
                    _inflight.TryRemove(new KeyValuePair<string, Task<CachedObject>>(name, mine.Task));
                }
                return await mine.Task;
            }
            try
            {
                var shared = await task;
                // A reader that joined another's fetch made no request of its own.
                return new CachedObject(null, (byte[])shared.ReadAll().Clone(), shared.Length, hit: true);
            }
            catch (FileNotFoundException e) when (attempt < 3 && e.GetType() == typeof(FileNotFoundException))
            {
                // The entry was evicted between its write and our read: look again.
            }
        }
    }

    private CachedObject? TryHit(string name)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(name, out entry))
            {
                return null;
            }
            _lru.Remove(entry.Node!);
            _lru.AddFirst(entry.Node!);
        }
        try
        {
            if (!entry.Verified)
            {
                Verify(entry);
                entry.Verified = true;
            }
            return new CachedObject(entry.Path, null, entry.Size - HeaderBytes, hit: true);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            if (e is not FileNotFoundException)
            {
                CorruptEntries++;
                _logger.LogWarning("Dropping cache entry {Entry}: {Reason}", entry.Path, e.Message);
            }
            lock (_lock)
            {
                Remove(entry);
            }
            return null;
        }
    }

    private async Task<CachedObject> FetchAndStoreAsync(string name, Func<CancellationToken, Task<byte[]>> fetch, CancellationToken ct)
    {
        var bytes = await fetch(ct);
        long size = HeaderBytes + bytes.LongLength;
        bool reserved;
        lock (_lock)
        {
            reserved = size <= Options.MaxBytes && EvictUntilFits(size);
            if (reserved)
            {
                _bytes += size;
                _highWater = Math.Max(_highWater, _bytes);
            }
        }
        if (!reserved)
        {
            _logger.LogInformation("Not caching {Entry} ({Bytes} bytes): no room in the {MaxBytes}-byte budget", name, bytes.LongLength, Options.MaxBytes);
            return new CachedObject(null, bytes, bytes.LongLength, hit: false);
        }
        string final = Path.Combine(Root, name + ".entry");
        string temp = Path.Combine(Root, $"{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), bytes.LongLength);
            MD5.HashData(bytes).CopyTo(header, 16);
            await using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await f.WriteAsync(header, ct);
                await f.WriteAsync(bytes, ct);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temp);
            lock (_lock)
            {
                _bytes -= size;
            }
            if (e is OperationCanceledException)
            {
                throw;
            }
            _logger.LogWarning("Could not write cache entry {Entry}: {Reason}", final, e.Message);
            return new CachedObject(null, bytes, bytes.LongLength, hit: false);
        }
        lock (_lock)
        {
            // Written and verified just now: this process may trust it.
            var entry = new Entry(name, final, size) { Verified = true };
            if (_entries.Remove(name, out var old))
            {
                _lru.Remove(old.Node!);
                _bytes -= old.Size;
            }
            entry.Node = _lru.AddFirst(entry);
            _entries[name] = entry;
        }
        return new CachedObject(null, bytes, bytes.LongLength, hit: false);
    }

    /// <summary>Evicts least recently used entries until <paramref name="size"/> more bytes fit; false if they cannot.</summary>
    private bool EvictUntilFits(long size)
    {
        while (_bytes + size > Options.MaxBytes && _lru.Last is { } last)
        {
            Remove(last.Value);
            Evictions++;
        }
        return _bytes + size <= Options.MaxBytes;
    }

    private void Remove(Entry entry)
    {
        if (_entries.TryGetValue(entry.Name, out var current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Name);
            _lru.Remove(entry.Node!);
            _bytes -= entry.Size;
            TryDelete(entry.Path);
        }
    }

    private static void Verify(Entry entry)
    {
        var all = File.ReadAllBytes(entry.Path);
        if (all.Length < HeaderBytes || !all.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a cache entry");
        }
        long length = BinaryPrimitives.ReadInt64LittleEndian(all.AsSpan(8));
        if (length != all.Length - HeaderBytes)
        {
            throw new InvalidDataException($"entry holds {all.Length - HeaderBytes} bytes, its header says {length}");
        }
        if (!MD5.HashData(all.AsSpan(HeaderBytes)).AsSpan().SequenceEqual(all.AsSpan(16, 16)))
        {
            throw new InvalidDataException("entry content does not match its MD5");
        }
    }

    private static string NameOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a file we cannot delete now is not in the index and is never served.
        }
    }

    private sealed class Entry(string name, string path, long size)
    {
        public string Name { get; } = name;

        public string Path { get; } = path;

        public long Size { get; } = size;

        public bool Verified { get; set; }

        public LinkedListNode<Entry>? Node { get; set; }
    }
}
