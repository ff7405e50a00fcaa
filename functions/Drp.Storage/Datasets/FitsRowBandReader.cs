using Drp.Pipeline.Fits;
using Drp.Core.Datasets;

namespace Drp.Storage.Datasets;

/// <summary>
/// The coadd access pattern: read an image dataset's primary header (range read of its first blocks), then its pixels
/// in bands of rows (one range read per band, <see cref="FitsHduInfo.GetRowRange"/>), never the whole file at once.
/// </summary>
public static class FitsRowBandReader
{
    /// <summary>Header bytes read first; more are read if the END card is not in them.</summary>
    public const int FirstHeaderBytes = 2 * 2880;

    /// <summary>The primary HDU of a FITS dataset, from as few leading bytes as hold its header.</summary>
    public static async Task<FitsHduInfo> ReadPrimaryHduAsync(DatasetStore store, DatasetType type, DataId id, string collection,
        CancellationToken cancellationToken = default)
    {
        for (int length = FirstHeaderBytes; ; length *= 4)
        {
            var prefix = await store.ReadPrefixAsync(type, id, collection, length, cancellationToken);
            if (FitsHeaderReader.TryParse(prefix, out var header, out int headerBytes))
            {
                return FitsHduInfo.FromHeader(header, 0, 0, headerBytes);
            }
            if (prefix.Length < length || length >= 64 * 2880)
            {
                throw new FitsFormatException(FitsErrorKind.MissingEnd, $"{type.Name} {id}: no END card in the first {prefix.Length} bytes");
            }
        }
    }

    /// <summary>Every pixel of the primary image, row-major, read in bands of <paramref name="bandRows"/> rows.</summary>
    public static async Task<float[]> ReadImageAsync(DatasetStore store, DatasetType type, DataId id, string collection, int bandRows,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bandRows);
        var hdu = await ReadPrimaryHduAsync(store, type, id, collection, cancellationToken);
        var pixels = new float[checked((int)(hdu.Width * hdu.Height))];
        for (long row = 0; row < hdu.Height; row += bandRows)
        {
            long rows = Math.Min(bandRows, hdu.Height - row);
            var (offset, length) = hdu.GetRowRange(row, rows);
            var bytes = await store.ReadRangeAsync(type, id, collection, offset, checked((int)length), cancellationToken);
            hdu.DecodePixels(bytes, pixels.AsSpan(checked((int)(row * hdu.Width)), checked((int)(rows * hdu.Width))));
        }
        return pixels;
    }
}
