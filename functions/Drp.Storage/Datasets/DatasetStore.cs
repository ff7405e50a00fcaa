using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Drp.Storage.Datasets;

/// <summary>A read returned fewer or other bytes than the object holds: never treat the data as whole.</summary>
public sealed class IncompleteReadException(string message) : IOException(message);

/// <summary>A dataset the caller needs does not exist.</summary>
public sealed class DatasetNotFoundException(string path) : FileNotFoundException($"dataset not found: {path}", path);

/// <summary>
/// Reads and writes datasets as blobs of one container. Every read returns exactly the bytes the service declares
/// (length always checked, MD5 checked when the service stores one) or throws.
/// </summary>
public sealed class DatasetStore(BlobContainerClient container)
{
    public BlobContainerClient Container { get; } = container;

    public async Task<byte[]> ReadAllAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await Container.GetBlobClient(path).DownloadContentAsync(cancellationToken);
            var details = response.Value.Details;
            var bytes = response.Value.Content.ToArray();
            if (bytes.LongLength != details.ContentLength)
            {
                throw new IncompleteReadException($"{path}: read {bytes.LongLength} bytes, the service declared {details.ContentLength}");
            }
            if (details.ContentHash is { Length: > 0 } md5 && !MD5.HashData(bytes).AsSpan().SequenceEqual(md5))
            {
                throw new IncompleteReadException($"{path}: content MD5 does not match the stored hash");
            }
            return bytes;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new DatasetNotFoundException(path);
        }
    }

    /// <summary>Reads <paramref name="length"/> bytes from <paramref name="offset"/>; fewer bytes (the object is shorter) throws.</summary>
    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await Container.GetBlobClient(path).DownloadContentAsync(
                new BlobDownloadOptions { Range = new HttpRange(offset, length) }, cancellationToken);
            var bytes = response.Value.Content.ToArray();
            if (bytes.Length != length)
            {
                throw new IncompleteReadException($"{path}: range [{offset}, +{length}) returned {bytes.Length} bytes");
            }
            return bytes;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new DatasetNotFoundException(path);
        }
    }

    /// <summary>Reads up to <paramref name="maxLength"/> bytes from the start: for headers of objects that may be shorter.</summary>
    public async Task<byte[]> ReadPrefixAsync(string path, int maxLength, CancellationToken cancellationToken = default)
    {
        try
        {
            var blob = Container.GetBlobClient(path);
            var response = await blob.DownloadContentAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, maxLength) }, cancellationToken);
            var bytes = response.Value.Content.ToArray();
            long expected = Math.Min(maxLength, TotalLength(response.Value.Details));
            if (bytes.Length != expected)
            {
                throw new IncompleteReadException($"{path}: prefix read returned {bytes.Length} bytes, expected {expected}");
            }
            return bytes;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new DatasetNotFoundException(path);
        }
    }

    /// <summary>Writes (or, for a retry of the same quantum, overwrites) a dataset, storing its MD5 for later reads.</summary>
    public async Task WriteAsync(string path, ReadOnlyMemory<byte> content, string contentType = "application/octet-stream", CancellationToken cancellationToken = default)
    {
        var md5 = MD5.HashData(content.Span);
        await Container.GetBlobClient(path).UploadAsync(
            BinaryData.FromBytes(content),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentHash = md5, ContentType = contentType } },
            cancellationToken);
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        (await Container.GetBlobClient(path).ExistsAsync(cancellationToken)).Value;

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
