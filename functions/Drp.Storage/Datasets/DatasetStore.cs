using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Drp.Storage.Caching;
using Drp.Core.Provenance;
using Drp.Storage.Resilience;
using Drp.Core.Datasets;

namespace Drp.Storage.Datasets;

/// <summary>
/// A read returned fewer or other bytes than the object holds: never treat the data as whole. <see cref="IsTransient"/>
/// says whether reading again may help (a body cut short, a hash mismatch) or not (the object itself is shorter).
/// </summary>
public sealed class IncompleteReadException(string message, bool isTransient = true) : IOException(message)
{
    /// <summary>True when the transfer, not the object, was at fault: the read is retried.</summary>
    public bool IsTransient { get; } = isTransient;
}

/// <summary>A dataset the caller needs does not exist.</summary>
public sealed class DatasetNotFoundException(string path) : FileNotFoundException($"dataset not found: {path}", path);

/// <summary>
/// A read or write still failed after the bounded attempts and total time of the resilience pipeline (throttling,
/// server errors, timeouts, connections reset, bodies cut short): the quantum must fail, never carry on.
/// </summary>
public sealed class DatasetUnavailableException(string operation, string path, string datasetType, Exception lastError)
    : IOException(lastError is StorageUnavailableException u
        ? $"{operation} of {datasetType} {path} failed: {u.Detail}"
        : $"{operation} of {datasetType} {path} failed after retries: {StorageErrors.Describe(lastError)}: {lastError.Message}", lastError)
{
    /// <summary>The dataset's path.</summary>
    public string Path { get; } = path;

    /// <summary>The dataset type label of the call.</summary>
    public string DatasetType { get; } = datasetType;
}

/// <summary>
/// A write would replace a dataset another producer wrote: outputs are write-once, except that the producer that
/// wrote a dataset (a retry of the same quantum) may overwrite it.
/// </summary>
public sealed class DatasetConflictException(string path, string existingProducer, string producer)
    : InvalidOperationException($"{path} was written by '{existingProducer}'; '{producer}' may not overwrite it")
{
    /// <summary>The dataset's path.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// Reads and writes datasets as blobs of one container. Every read returns exactly the bytes asked for (length
/// always checked; MD5 checked when the service gives one: whole objects, and ranges of up to 4 MiB) or throws a
/// typed error: <see cref="DatasetNotFoundException"/>, <see cref="IncompleteReadException"/> (past the end), or
/// <see cref="DatasetUnavailableException"/> once the resilience pipeline's bounded retries are spent. Reads of a
/// dataset type with a read-through cache policy fetch the whole object once and serve every later read (whole,
/// range or prefix) from the local cache. Writes are write-once per producer (<see cref="DatasetConflictException"/>).
/// Provenance lives in each blob's metadata, one place for every output: producer, software version and, for a
/// quantum's outputs (<see cref="QuantumScope"/>), its config hash and task type.
/// </summary>
public sealed class DatasetStore
{
    /// <summary>The label of reads and writes that name no dataset type (never cached).</summary>
    public const string Untyped = "untyped";

    /// <summary>The producer of path-based writes that name none (uploads of calibrations and the like).</summary>
    public const string Unattributed = "unattributed";

    /// <summary>Blob metadata naming the producer (quantum) that wrote a dataset.</summary>
    public const string ProducerMetadataKey = "drp_producer";

    /// <summary>Blob metadata: the <see cref="SoftwareVersion.Label"/> of the software that wrote a dataset (every write).</summary>
    public const string SoftwareVersionMetadataKey = "drp_software_version";

    /// <summary>Blob metadata: the config hash of the quantum that wrote a dataset (writes inside a <see cref="QuantumScope"/>).</summary>
    public const string ConfigHashMetadataKey = "drp_config_hash";

    /// <summary>Blob metadata: the task type of the quantum that wrote a dataset (writes inside a <see cref="QuantumScope"/>).</summary>
    public const string TaskTypeMetadataKey = "drp_task_type";

    /// <summary>The largest range the service returns an MD5 for.</summary>
    public const int MaxRangeHashBytes = 4 * 1024 * 1024;

    private readonly StorageResilience _resilience;
    private readonly DatasetCache? _cache;

    /// <param name="container">The container holding the datasets.</param>
    /// <param name="resilience">The account's pipeline (a default one with its own metrics when null).</param>
    /// <param name="cache">The local cache (none when null).</param>
    public DatasetStore(BlobContainerClient container, StorageResilience? resilience = null, DatasetCache? cache = null)
    {
        Container = container;
        _resilience = resilience ?? new StorageResilience(new StorageResilienceOptions(), container.AccountName, new DatasetStoreMetrics());
        _cache = cache;
    }

    /// <summary>The container.</summary>
    public BlobContainerClient Container { get; }

    /// <summary>GETs, bytes, cache hits and misses, retries and writes per dataset type.</summary>
    public DatasetStoreMetrics Metrics => _resilience.Metrics;

    // ---- typed access: the path always comes from DatasetPaths.For ----

    /// <summary>Reads the whole dataset of <paramref name="type"/> and <paramref name="id"/> in a collection.</summary>
    public Task<byte[]> ReadAsync(DatasetType type, DataId id, string collection, CancellationToken cancellationToken = default) =>
        ReadAllAsync(DatasetPaths.For(type, id, collection), type.Name, cancellationToken);

    /// <summary>Reads a byte range of a dataset (a band of image rows: <c>FitsHduInfo.GetRowRange</c>).</summary>
    public Task<byte[]> ReadRangeAsync(DatasetType type, DataId id, string collection, long offset, int length, CancellationToken cancellationToken = default) =>
        ReadRangeAsync(DatasetPaths.For(type, id, collection), offset, length, type.Name, cancellationToken);

    /// <summary>Reads up to <paramref name="maxLength"/> bytes from the start of a dataset (a FITS header).</summary>
    public Task<byte[]> ReadPrefixAsync(DatasetType type, DataId id, string collection, int maxLength, CancellationToken cancellationToken = default) =>
        ReadPrefixAsync(DatasetPaths.For(type, id, collection), maxLength, type.Name, cancellationToken);

    /// <summary>Whether the dataset exists in the collection.</summary>
    public Task<bool> ExistsAsync(DatasetType type, DataId id, string collection, CancellationToken cancellationToken = default) =>
        ExistsAsync(DatasetPaths.For(type, id, collection), type.Name, cancellationToken);

    /// <summary>
    /// Writes an output of <paramref name="producer"/> (the quantum's key) to its run collection and returns its
    /// path. A dataset another producer wrote is never replaced (<see cref="DatasetConflictException"/>).
    /// </summary>
    public async Task<string> WriteAsync(DatasetType type, DataId id, string run, ReadOnlyMemory<byte> content, string producer,
        string contentType = "application/octet-stream", CancellationToken cancellationToken = default)
    {
        var path = DatasetPaths.For(type, id, run);
        await WriteCoreAsync(path, content, producer, contentType, type.Name, cancellationToken);
        return path;
    }

    /// <summary>The paths of every dataset of <paramref name="type"/> in <paramref name="collection"/>, in name order.</summary>
    public Task<IReadOnlyList<string>> ListAsync(DatasetType type, string collection, CancellationToken cancellationToken = default)
    {
        string prefix = DatasetPaths.PrefixFor(type, collection);
        return Run<IReadOnlyList<string>>("list", prefix, type.Name, async ct =>
        {
            var names = new List<string>();
            await foreach (var blob in Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, ct))
            {
                names.Add(blob.Name);
            }
            names.Sort(StringComparer.Ordinal);
            return names;
        }, cancellationToken);
    }

    // ---- chained collections ----

    /// <summary>
    /// Defines (or redefines) a chained collection: an ordered list of run collections that readers search in turn,
    /// so each submission keeps its own run collection and nothing grows without bound.
    /// </summary>
    public async Task DefineChainAsync(string name, IReadOnlyList<string> collections, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collections);
        if (collections.Count == 0)
        {
            throw new ArgumentException($"chain {name} must name at least one collection", nameof(collections));
        }
        foreach (var c in collections)
        {
            DatasetPaths.ValidateCollection(c);
        }
        var path = DatasetPaths.ForChain(name);
        var json = JsonSerializer.SerializeToUtf8Bytes(collections);
        await Run("define chain", path, "chain", async ct =>
        {
            await Container.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(json),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentHash = MD5.HashData(json), ContentType = "application/json" } }, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>The run collections of a chained collection, in search order.</summary>
    public async Task<IReadOnlyList<string>> GetChainAsync(string name, CancellationToken cancellationToken = default)
    {
        var bytes = await ReadAllAsync(DatasetPaths.ForChain(name), "chain", cancellationToken);
        return JsonSerializer.Deserialize<List<string>>(bytes)
            ?? throw new InvalidDataException($"chain {name} is empty");
    }

    /// <summary>The path of the dataset in the first of <paramref name="collections"/> that holds it.</summary>
    public async Task<string> FindAsync(DatasetType type, DataId id, IReadOnlyList<string> collections, CancellationToken cancellationToken = default)
    {
        foreach (var c in collections)
        {
            var path = DatasetPaths.For(type, id, c);
            if (await ExistsAsync(path, type.Name, cancellationToken))
            {
                return path;
            }
        }
        throw new DatasetNotFoundException($"{type.Name} {id} in none of [{string.Join(", ", collections)}]");
    }

    /// <summary>Reads the dataset from the first collection of the chain that holds it.</summary>
    public async Task<byte[]> ReadFromChainAsync(DatasetType type, DataId id, string chain, CancellationToken cancellationToken = default)
    {
        var path = await FindAsync(type, id, await GetChainAsync(chain, cancellationToken), cancellationToken);
        return await ReadAllAsync(path, type.Name, cancellationToken);
    }

    // ---- path-based access (raws land at their own names; calibration uploads) ----

    /// <summary>Reads a whole object, labelled untyped (never cached).</summary>
    public Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default) =>
        ReadAllAsync(path, Untyped, cancellationToken);

    /// <summary>Reads a whole object; <paramref name="datasetType"/> labels metrics and chooses the cache policy.</summary>
    public async Task<byte[]> ReadAllAsync(string path, string datasetType, CancellationToken cancellationToken = default)
    {
        if (await ViaCacheAsync(path, datasetType, c => c.ReadAll(), cancellationToken) is { } cached)
        {
            return cached;
        }
        return await FetchWholeAsync(path, datasetType, cancellationToken);
    }

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/>; fewer bytes (the object is shorter) throws.</summary>
    public Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default) =>
        ReadRangeAsync(path, offset, length, Untyped, cancellationToken);

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/>, labelled with a dataset type.</summary>
    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, string datasetType, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (await ViaCacheAsync(path, datasetType, c => offset + length <= c.Length ? c.ReadRange(offset, length)
            : throw new IncompleteReadException($"{path}: range [{offset}, +{length}) lies past the end of the {c.Length}-byte object", isTransient: false),
            cancellationToken) is { } cached)
        {
            return cached;
        }
        return await Run("read range", path, datasetType, async ct =>
        {
            var response = await DownloadAsync(path, new HttpRange(offset, length), length <= MaxRangeHashBytes, ct);
            var bytes = response.Content.ToArray();
            _resilience.Metrics.RecordGet(datasetType, bytes.Length);
            long total = TotalLength(response.Details);
            if (offset + length > total)
            {
                throw new IncompleteReadException($"{path}: range [{offset}, +{length}) lies past the end of the {total}-byte object", isTransient: false);
            }
            if (bytes.Length != length)
            {
                throw new IncompleteReadException($"{path}: range [{offset}, +{length}) returned {bytes.Length} bytes");
            }
            CheckHash(path, bytes, response.Details.ContentHash);
            return bytes;
        }, cancellationToken);
    }

    /// <summary>Reads up to <paramref name="maxLength"/> bytes from the start: for headers of objects that may be shorter.</summary>
    public Task<byte[]> ReadPrefixAsync(string path, int maxLength, CancellationToken cancellationToken = default) =>
        ReadPrefixAsync(path, maxLength, Untyped, cancellationToken);

    /// <summary>Reads up to <paramref name="maxLength"/> bytes from the start, labelled with a dataset type.</summary>
    public async Task<byte[]> ReadPrefixAsync(string path, int maxLength, string datasetType, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        if (await ViaCacheAsync(path, datasetType, c => c.ReadRange(0, (int)Math.Min(maxLength, c.Length)), cancellationToken) is { } cached)
        {
            return cached;
        }
        return await Run("read prefix", path, datasetType, async ct =>
        {
            var response = await DownloadAsync(path, new HttpRange(0, maxLength), maxLength <= MaxRangeHashBytes, ct);
            var bytes = response.Content.ToArray();
            _resilience.Metrics.RecordGet(datasetType, bytes.Length);
            long expected = Math.Min(maxLength, TotalLength(response.Details));
            if (bytes.Length != expected)
            {
                throw new IncompleteReadException($"{path}: prefix read returned {bytes.Length} bytes, expected {expected}");
            }
            CheckHash(path, bytes, response.Details.ContentHash);
            return bytes;
        }, cancellationToken);
    }

    /// <summary>
    /// Writes a dataset by path, as producer <see cref="Unattributed"/> (calibration uploads: the same upload
    /// again may replace it; an output of a quantum may not be replaced this way).
    /// </summary>
    public Task WriteAsync(string path, ReadOnlyMemory<byte> content, string contentType = "application/octet-stream", CancellationToken cancellationToken = default) =>
        WriteCoreAsync(path, content, Unattributed, contentType, Untyped, cancellationToken);

    /// <summary>Whether an object exists at the path.</summary>
    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => ExistsAsync(path, Untyped, cancellationToken);

    private Task<bool> ExistsAsync(string path, string datasetType, CancellationToken cancellationToken) =>
        Run("exists", path, datasetType, async ct => (await Container.GetBlobClient(path).ExistsAsync(ct)).Value, cancellationToken);

    private async Task WriteCoreAsync(string path, ReadOnlyMemory<byte> content, string producer, string contentType, string datasetType, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(producer);
        var md5 = MD5.HashData(content.Span);
        var metadata = new Dictionary<string, string>
        {
            [ProducerMetadataKey] = Uri.EscapeDataString(producer),
            // Version, hash and task type are ASCII without spaces (assembly attributes, hex, pipeline task names): stored as they are.
            [SoftwareVersionMetadataKey] = SoftwareVersion.Current.Label,
        };
        if (QuantumScope.Current?.Provenance is { } provenance)
        {
            metadata[ConfigHashMetadataKey] = provenance.ConfigHash;
            metadata[TaskTypeMetadataKey] = provenance.TaskType;
        }
        var headers = new BlobHttpHeaders { ContentHash = md5, ContentType = contentType };
        var blob = Container.GetBlobClient(path);
        await Run("write", path, datasetType, async ct =>
        {
            try
            {
                await blob.UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
                {
                    HttpHeaders = headers,
                    Metadata = metadata,
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, ct);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // It exists: only its own producer (a retry of the same quantum) may overwrite it, and only that version.
                var props = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
                string existing = props.Metadata.TryGetValue(ProducerMetadataKey, out var p) ? Uri.UnescapeDataString(p) : "(unknown)";
                if (existing != producer)
                {
                    throw new DatasetConflictException(path, existing, producer);
                }
                try
                {
                    await blob.UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions
                    {
                        HttpHeaders = headers,
                        Metadata = metadata,
                        Conditions = new BlobRequestConditions { IfMatch = props.ETag },
                    }, ct);
                }
                catch (RequestFailedException e2) when (e2.Status == 412)
                {
                    throw new DatasetConflictException(path, "a concurrent writer", producer);
                }
            }
            return true;
        }, cancellationToken);
        _resilience.Metrics.RecordWrite(datasetType, content.Length);
    }

    /// <summary>Null when the type is not cached; else <paramref name="read"/> applied to the cached object.</summary>
    private async Task<byte[]?> ViaCacheAsync(string path, string datasetType, Func<CachedObject, byte[]> read, CancellationToken cancellationToken)
    {
        if (_cache is null || _cache.PolicyFor(datasetType) != DatasetCachePolicy.ReadThrough)
        {
            return null;
        }
        for (int attempt = 0; ; attempt++)
        {
            var cached = await _cache.GetAsync($"{Container.Uri}/{path}", ct => FetchWholeAsync(path, datasetType, ct), cancellationToken);
            if (cached.Hit)
            {
                _resilience.Metrics.RecordCacheHit(datasetType);
            }
            else
            {
                _resilience.Metrics.RecordCacheMiss(datasetType);
            }
            try
            {
                return read(cached);
            }
            catch (FileNotFoundException e) when (attempt < 3 && e.GetType() == typeof(FileNotFoundException))
            {
                // Evicted by another reader between the look-up and this read: look again.
            }
        }
    }

    private Task<byte[]> FetchWholeAsync(string path, string datasetType, CancellationToken cancellationToken) =>
        Run("read", path, datasetType, async ct =>
        {
            var response = await DownloadAsync(path, default, rangeHash: false, ct);
            var bytes = response.Content.ToArray();
            _resilience.Metrics.RecordGet(datasetType, bytes.Length);
            if (bytes.LongLength != response.Details.ContentLength)
            {
                throw new IncompleteReadException($"{path}: read {bytes.LongLength} bytes, the service declared {response.Details.ContentLength}");
            }
            CheckHash(path, bytes, response.Details.ContentHash);
            return bytes;
        }, cancellationToken);

    private async Task<BlobDownloadResult> DownloadAsync(string path, HttpRange range, bool rangeHash, CancellationToken ct)
    {
        try
        {
            var options = new BlobDownloadOptions { Range = range };
            if (rangeHash && range.Length is not null)
            {
                options.TransferValidation = new DownloadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, AutoValidateChecksum = false };
            }
            return (await Container.GetBlobClient(path).DownloadContentAsync(options, ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new DatasetNotFoundException(path);
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            throw new IncompleteReadException($"{path}: range starting at {range.Offset} lies past the end of the object", isTransient: false);
        }
    }

    private static void CheckHash(string path, byte[] bytes, byte[]? md5)
    {
        if (md5 is { Length: > 0 } && !MD5.HashData(bytes).AsSpan().SequenceEqual(md5))
        {
            throw new IncompleteReadException($"{path}: content MD5 does not match the service's hash");
        }
    }

    private async Task<T> Run<T>(string operation, string path, string datasetType, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        try
        {
            return await _resilience.ExecuteAsync(operation, datasetType, path, attempt, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not DatasetNotFoundException
            && (e is StorageUnavailableException || StorageErrors.IsTransient(e) || e is OperationCanceledException))
        {
            throw new DatasetUnavailableException(operation, path, datasetType, e);
        }
    }

    private static long TotalLength(BlobDownloadDetails details)
    {
        // Content-Range: "bytes 0-2879/1234567"
        var range = details.ContentRange;
        if (range is not null)
        {
            int slash = range.LastIndexOf('/');
            if (slash > 0 && long.TryParse(range.AsSpan(slash + 1), out var total))
            {
                return total;
            }
        }
        return details.ContentLength;
    }
}
