using System.Buffers;

namespace Drp.Pipeline.Fits;

/// <summary>Limits that protect a reader from hostile or broken files.</summary>
public sealed record FitsReadOptions
{
    /// <summary>Largest data unit a reader will allocate for, in bytes (default 4 GiB).</summary>
    public long MaxDataBytes { get; init; } = 4L << 30;

    /// <summary>Most header blocks (2880 bytes, 36 cards) read before giving up on finding END.</summary>
    public int MaxHeaderBlocks { get; init; } = 1000;

    public static FitsReadOptions Default { get; } = new();
}

/// <summary>
/// Reads and writes FITS files of image HDUs (primary + IMAGE extensions), BITPIX 8, 16, 32, -32 and -64.
/// Offsets in <see cref="FitsHduInfo"/> count from the position the stream had when reading began.
/// </summary>
public static class FitsFile
{
    private const int ChunkValues = 1 << 16;

    // From a non-seekable stream, data units above this size are read in segments before the pixel array exists.
    private const long DirectReadBytes = 64L << 20;
    private const int SegmentBytes = 16 << 20;

    /// <summary>
    /// Reads every HDU of the stream: the first is the primary HDU. Each <see cref="FitsImage.Header"/> holds the
    /// file's cards except the structural ones the writer generates (SIMPLE, XTENSION, BITPIX, NAXISn, EXTEND,
    /// PCOUNT, GCOUNT, LONGSTRN, CHECKSUM, DATASUM); BZERO, BSCALE and BLANK are kept and already applied.
    /// Throws <see cref="FitsFormatException"/> for any malformed or unsupported input.
    /// </summary>
    public static IReadOnlyList<FitsImage> Read(Stream stream, FitsReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= FitsReadOptions.Default;
        var images = new List<FitsImage>();
        var reader = new HduReader(stream, options);
        while (reader.NextHeader() is { } hdu)
        {
            images.Add(ReadImage(reader, hdu, options));
        }
        return images;
    }

    public static IReadOnlyList<FitsImage> Read(string path, FitsReadOptions? options = null)
    {
        using var s = File.OpenRead(path);
        return Read(s, options);
    }

    /// <summary>
    /// Reads the header of every HDU and where its data lies, skipping the data (by seeking when the stream can
    /// seek). Non-image HDUs are listed too. Throws <see cref="FitsFormatException"/> for a malformed file,
    /// including one whose data is shorter than its headers declare.
    /// </summary>
    public static IReadOnlyList<FitsHduInfo> ReadHeaders(Stream stream, FitsReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= FitsReadOptions.Default;
        var hdus = new List<FitsHduInfo>();
        var reader = new HduReader(stream, options);
        while (reader.NextHeader() is { } hdu)
        {
            hdus.Add(hdu);
            reader.SkipData(hdu);
        }
        return hdus;
    }

    public static IReadOnlyList<FitsHduInfo> ReadHeaders(string path, FitsReadOptions? options = null)
    {
        using var s = File.OpenRead(path);
        return ReadHeaders(s, options);
    }

    /// <summary>
    /// Reads image rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> + <paramref name="rowCount"/> - 1
    /// of an HDU found by <see cref="ReadHeaders(Stream, FitsReadOptions?)"/> as physical values, row-major.
    /// The stream must be seekable and hold the FITS file from position 0.
    /// </summary>
    public static float[] ReadRows(Stream stream, FitsHduInfo hdu, int firstRow, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(hdu);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("ReadRows needs a seekable stream", nameof(stream));
        }
        var (offset, length) = hdu.GetRowRange(firstRow, rowCount);
        if (hdu.Width * rowCount > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount),
                $"HDU {hdu.Index}: {rowCount} rows of {hdu.Width} pixels do not fit one array");
        }
        var pixels = new float[hdu.Width * rowCount];
        stream.Seek(offset, SeekOrigin.Begin);
        Decode(stream, hdu, pixels, pixels.Length, () => new FitsFormatException(FitsErrorKind.Truncated,
            $"HDU {hdu.Index}: the stream ends before the {length} bytes of rows {firstRow}..{firstRow + rowCount - 1} at byte {offset}"));
        return pixels;
    }

    /// <summary>Reads and decodes the first <paramref name="count"/> values of <paramref name="pixels"/> from the stream's position, a chunk at a time.</summary>
    private static void Decode(Stream stream, FitsHduInfo hdu, float[] pixels, int count, Func<FitsFormatException> truncated)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkValues * hdu.BytesPerPixel);
        try
        {
            int done = 0;
            while (done < count)
            {
                int n = Math.Min(ChunkValues, count - done);
                int want = n * hdu.BytesPerPixel;
                if (stream.ReadAtLeast(buffer.AsSpan(0, want), want, throwOnEndOfStream: false) < want)
                {
                    throw truncated();
                }
                hdu.Decode(buffer, pixels, done, n);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes the HDUs: the first as the primary HDU, the rest as IMAGE extensions. The mandatory keywords come
    /// from each image's size and <see cref="FitsImage.Bitpix"/>; user copies of them are skipped. BZERO/BSCALE in
    /// a header say how pixels are stored (stored = (physical - BZERO) / BSCALE, rounded to nearest and clamped
    /// to the type's range for integer types); NaN is stored as BLANK, or refused when the header has none.
    /// Throws <see cref="ArgumentException"/> for what FITS cannot hold (non-ASCII text, NaN keyword values, ...).
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<FitsImage> hdus)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(hdus);
        if (hdus.Count == 0)
        {
            throw new ArgumentException("a FITS file needs at least the primary HDU", nameof(hdus));
        }
        byte[]? buffer = null;
        float[]? values = null; // a chunk of an image whose pixels are not a float array (FitsImage.FromUInt16)
        try
        {
            for (int index = 0; index < hdus.Count; index++)
            {
                var image = hdus[index];
                if (!Enum.IsDefined(image.Bitpix))
                {
                    throw new ArgumentException($"HDU {index}: BITPIX {(int)image.Bitpix} is not one of 8, 16, 32, -32, -64", nameof(hdus));
                }
                var scaling = WriteScaling(image, index);
                stream.Write(FitsHeaderWriter.Build(image, index, hasExtensions: hdus.Count > 1));

                int bytesPerValue = Math.Abs((int)image.Bitpix) / 8;
                buffer ??= ArrayPool<byte>.Shared.Rent(ChunkValues * 8);
                long dataBytes = 0;
                int count = image.Width * image.Height;
                for (int at = 0; at < count; at += ChunkValues)
                {
                    int n = Math.Min(ChunkValues, count - at);
                    if (image.UInt16Values is { } unsigned)
                    {
                        values ??= ArrayPool<float>.Shared.Rent(ChunkValues);
                        FitsImage.ToFloats(unsigned.AsSpan(at, n), values);
                        FitsPixelCodec.Encode(values, 0, n, buffer, image.Bitpix, scaling, index);
                    }
                    else
                    {
                        FitsPixelCodec.Encode(image.Pixels, at, n, buffer, image.Bitpix, scaling, index);
                    }
                    stream.Write(buffer, 0, n * bytesPerValue);
                    dataBytes += n * bytesPerValue;
                }
                int padding = (int)((FitsKeywords.BlockBytes - dataBytes % FitsKeywords.BlockBytes) % FitsKeywords.BlockBytes);
                if (padding > 0)
                {
                    buffer.AsSpan(0, padding).Clear();
                    stream.Write(buffer, 0, padding);
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (values is not null)
            {
                ArrayPool<float>.Shared.Return(values);
            }
        }
        stream.Flush();
    }

    public static void Write(string path, IReadOnlyList<FitsImage> hdus)
    {
        using var s = File.Create(path);
        Write(s, hdus);
    }

    private static FitsScaling WriteScaling(FitsImage image, int index)
    {
        double zero = Real(image.Header, "BZERO", 0, index);
        double scale = Real(image.Header, "BSCALE", 1, index);
        if (scale == 0 || !double.IsFinite(scale) || !double.IsFinite(zero))
        {
            throw new ArgumentException($"HDU {index}: BZERO = {zero}, BSCALE = {scale} cannot scale pixels", nameof(image));
        }
        long? blank = null;
        if (image.Bitpix is FitsBitpix.UInt8 or FitsBitpix.Int16 or FitsBitpix.Int32 && image.Header.Contains("BLANK"))
        {
            var (min, max) = image.Bitpix switch
            {
                FitsBitpix.UInt8 => (0L, 255L),
                FitsBitpix.Int16 => (short.MinValue, (long)short.MaxValue),
                _ => (int.MinValue, (long)int.MaxValue),
            };
            if (image.Header["BLANK"] is not long b || b < min || b > max)
            {
                throw new ArgumentException(
                    $"HDU {index}: BLANK = {image.Header["BLANK"]} is not an integer in BITPIX {(int)image.Bitpix}'s range", nameof(image));
            }
            blank = b;
        }
        return new FitsScaling(zero, scale, blank);
    }

    private static double Real(FitsHeader header, string key, double fallback, int index) => header[key] switch
    {
        null when !header.Contains(key) => fallback,
        long l => l,
        double d => d,
        var v => throw new ArgumentException($"HDU {index}: {key} = {v ?? "(none)"} is not a number", nameof(header)),
    };

    private static FitsImage ReadImage(HduReader reader, FitsHduInfo hdu, FitsReadOptions options)
    {
        var image = CheckImage(reader, hdu, options);
        float[] pixels = reader.ReadData(hdu, image.Width * image.Height);
        return new FitsImage(image.Width, image.Height, image.Bitpix, image.Header, pixels);
    }

    /// <summary>
    /// Every image HDU of a file, their headers read and checked now (as <see cref="Read(string, FitsReadOptions?)"/>
    /// checks them, a file shorter than its headers declare included), their pixels read one HDU at a time later
    /// (<see cref="FitsImageReader.ReadPixels"/>). Throws <see cref="FitsFormatException"/> as Read does.
    /// </summary>
    public static FitsImageReader OpenImages(string path, FitsReadOptions? options = null) =>
        OpenImages(File.OpenRead(path), options);

    /// <inheritdoc cref="OpenImages(string, FitsReadOptions?)"/>
    /// <param name="stream">A seekable stream positioned at the FITS file's start; the reader owns it (disposes of it).</param>
    public static FitsImageReader OpenImages(Stream stream, FitsReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= FitsReadOptions.Default;
        if (!stream.CanSeek)
        {
            stream.Dispose();
            throw new ArgumentException("OpenImages needs a seekable stream", nameof(stream));
        }
        try
        {
            long start = stream.Position;
            var reader = new HduReader(stream, options);
            var hdus = new List<FitsHduInfo>();
            var images = new List<FitsImageHeader>();
            while (reader.NextHeader() is { } hdu)
            {
                images.Add(CheckImage(reader, hdu, options));
                hdus.Add(hdu);
                reader.SkipData(hdu);
            }
            return new FitsImageReader(stream, start, hdus, images);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>An image HDU's checks (type, dimensions, size, data present) and its header without the structural cards.</summary>
    private static FitsImageHeader CheckImage(HduReader reader, FitsHduInfo hdu, FitsReadOptions options)
    {
        string where = $"HDU {hdu.Index}";
        if (!hdu.IsImage)
        {
            throw new FitsFormatException(FitsErrorKind.Unsupported, hdu.IsRandomGroups
                ? $"{where}: random groups are not supported, only images"
                : $"{where}: a {hdu.ExtensionType} extension is not supported, only IMAGE extensions");
        }
        if (hdu.Bitpix == 64)
        {
            throw new FitsFormatException(FitsErrorKind.Unsupported, $"{where}: BITPIX 64 images are not supported");
        }
        for (int i = 2; i < hdu.Axes.Count; i++)
        {
            if (hdu.Axes[i] != 1)
            {
                throw new FitsFormatException(FitsErrorKind.Unsupported,
                    $"{where}: NAXIS{i + 1} = {hdu.Axes[i]}: only two-dimensional images are supported");
            }
        }
        long width = hdu.Width, height = hdu.Height;
        if (width > int.MaxValue || height > int.MaxValue || width * height > Array.MaxLength
            || width * height * sizeof(float) > options.MaxDataBytes)
        {
            throw new FitsFormatException(FitsErrorKind.TooLarge,
                $"{where}: {width} x {height} float pixels exceed one array or FitsReadOptions.MaxDataBytes = {options.MaxDataBytes}");
        }
        reader.EnsureDataAvailable(hdu);

        var header = new FitsHeader();
        foreach (var card in hdu.Header)
        {
            if (!FitsKeywords.IsStructural(card.Key))
            {
                header.Add(card);
            }
        }
        return new FitsImageHeader(hdu.Index, (int)width, (int)height, (FitsBitpix)hdu.Bitpix, header);
    }

    /// <summary>Decodes an HDU's whole data unit from a seekable stream into <paramref name="pixels"/> (its exact size).</summary>
    internal static void ReadPixels(Stream stream, long fileStart, FitsHduInfo hdu, float[] pixels)
    {
        stream.Seek(fileStart + hdu.DataOffset, SeekOrigin.Begin);
        Decode(stream, hdu, pixels, pixels.Length, () => TruncatedData(hdu, stream.Position - fileStart));
    }

    /// <summary>
    /// Decodes <paramref name="count"/> values from byte <paramref name="offset"/> of the file (as
    /// <see cref="FitsHduInfo.GetRowRange"/> gives it) into the start of <paramref name="pixels"/>.
    /// </summary>
    internal static void ReadValues(Stream stream, long fileStart, FitsHduInfo hdu, long offset, float[] pixels, int count)
    {
        stream.Seek(fileStart + offset, SeekOrigin.Begin);
        Decode(stream, hdu, pixels, count, () => TruncatedData(hdu, stream.Position - fileStart));
    }

    /// <summary>Walks the HDUs of a stream, tracking the offset itself so non-seekable streams work too.</summary>
    private sealed class HduReader(Stream stream, FitsReadOptions options)
    {
        private readonly byte[] _block = new byte[FitsKeywords.BlockBytes];
        private readonly long _start = stream.CanSeek ? stream.Position : 0;
        private long _position;
        private int _index;

        /// <summary>The next HDU's header, or null at the end of the file.</summary>
        public FitsHduInfo? NextHeader()
        {
            long headerOffset = _position;
            var parser = new FitsHeaderParser(_index, headerOffset, options);
            int blocks = 0;
            while (true)
            {
                int n = stream.ReadAtLeast(_block, _block.Length, throwOnEndOfStream: false);
                _position += n;
                if (n == 0 && blocks == 0)
                {
                    if (_index > 0)
                    {
                        return null;
                    }
                    throw new FitsFormatException(FitsErrorKind.Truncated, "the stream is empty: no FITS header");
                }
                if (n < _block.Length)
                {
                    throw new FitsFormatException(FitsErrorKind.Truncated, n == 0
                        ? $"HDU {_index}: the stream ends after {blocks} header block(s) from byte {headerOffset} without an END card"
                        : $"HDU {_index}: the stream ends at byte {_position}, inside header block {blocks + 1} " +
                          $"(headers are whole {FitsKeywords.BlockBytes}-byte blocks)");
                }
                if (blocks == 0 && _index > 0 && !_block.AsSpan().ContainsAnyExcept((byte)0))
                {
                    // Some writers pad a file with zero blocks after the last HDU.
                    return null;
                }
                blocks++;
                if (parser.Feed(_block))
                {
                    break;
                }
            }
            var hdu = FitsHduInfo.FromHeader(parser.Header, _index, headerOffset, parser.HeaderBytes, options);
            _index++;
            return hdu;
        }

        /// <summary>Fails before any allocation when a seekable stream is shorter than the HDU declares.</summary>
        public void EnsureDataAvailable(FitsHduInfo hdu)
        {
            if (stream.CanSeek && stream.Length - _start < hdu.NextHduOffset)
            {
                throw TruncatedData(hdu, stream.Length - _start);
            }
        }

        public void SkipData(FitsHduInfo hdu)
        {
            EnsureDataAvailable(hdu);
            if (stream.CanSeek)
            {
                stream.Seek(_start + hdu.NextHduOffset, SeekOrigin.Begin);
                _position = hdu.NextHduOffset;
                return;
            }
            long left = hdu.PaddedDataBytes;
            while (left > 0)
            {
                int want = (int)Math.Min(left, _block.Length);
                int n = stream.ReadAtLeast(_block.AsSpan(0, want), want, throwOnEndOfStream: false);
                _position += n;
                left -= n;
                if (n < want)
                {
                    throw TruncatedData(hdu, _position);
                }
            }
        }

        /// <summary>
        /// Reads and decodes the data unit, then skips its padding. A seekable stream was checked to hold the data
        /// (<see cref="EnsureDataAvailable"/>), so the pixel array is allocated up front; from a non-seekable one a
        /// large unit is first read in segments, so a truncated file fails before the big allocation.
        /// </summary>
        public float[] ReadData(FitsHduInfo hdu, int pixelCount)
        {
            float[] pixels;
            if (stream.CanSeek || hdu.DataBytes <= DirectReadBytes)
            {
                pixels = LargeArrays.AllocateUninitialized<float>(pixelCount); // every value is decoded into it
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkValues * hdu.BytesPerPixel);
                try
                {
                    int done = 0;
                    while (done < pixelCount)
                    {
                        int count = Math.Min(ChunkValues, pixelCount - done);
                        int want = count * hdu.BytesPerPixel;
                        ReadFully(hdu, buffer.AsSpan(0, want));
                        hdu.Decode(buffer, pixels, done, count);
                        done += count;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            else
            {
                var segments = new List<byte[]>();
                for (long left = hdu.DataBytes; left > 0; left -= SegmentBytes)
                {
                    var segment = new byte[Math.Min(left, SegmentBytes)];
                    ReadFully(hdu, segment);
                    segments.Add(segment);
                }
                pixels = LargeArrays.AllocateUninitialized<float>(pixelCount); // every value is decoded into it
                int done = 0;
                foreach (var segment in segments)
                {
                    int count = segment.Length / hdu.BytesPerPixel;
                    hdu.Decode(segment, pixels, done, count);
                    done += count;
                }
            }
            long padding = hdu.NextHduOffset - _position;
            if (padding > 0)
            {
                ReadFully(hdu, _block.AsSpan(0, (int)padding));
            }
            return pixels;
        }

        private void ReadFully(FitsHduInfo hdu, Span<byte> buffer)
        {
            int n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            _position += n;
            if (n < buffer.Length)
            {
                throw TruncatedData(hdu, _position);
            }
        }

    }

    private static FitsFormatException TruncatedData(FitsHduInfo hdu, long fileBytes) =>
        new(FitsErrorKind.Truncated,
            $"HDU {hdu.Index}: the data unit ({hdu.DataBytes} bytes from byte {hdu.DataOffset}, padded to " +
            $"{hdu.PaddedDataBytes}) runs past the end of the stream at byte {fileBytes}");
}
