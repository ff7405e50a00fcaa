using System.Buffers;

namespace Drp.Pipeline.Fits;

/// <summary>
/// Where one HDU lies in a FITS file and how its data is laid out, known from its header alone: enough to
/// range-read a band of image rows (<see cref="GetRowRange"/>) and decode them (<see cref="DecodePixels"/>).
/// Offsets count from the first byte of the file.
/// </summary>
public sealed class FitsHduInfo
{
    private readonly FitsScaling _scaling;
    private float[]? _lookup;

    private FitsHduInfo(FitsHeader header, int index, long headerOffset, int headerBytes, string? extensionType,
        int bitpix, long[] axes, bool isRandomGroups, long dataBytes, FitsScaling scaling)
    {
        Header = header;
        Index = index;
        HeaderOffset = headerOffset;
        HeaderBytes = headerBytes;
        ExtensionType = extensionType;
        Bitpix = bitpix;
        Axes = axes;
        IsRandomGroups = isRandomGroups;
        DataBytes = dataBytes;
        _scaling = scaling;
    }

    /// <summary>Position of the HDU in the file: 0 is the primary HDU.</summary>
    public int Index { get; }

    /// <summary>Every card of the header as in the file, structural keywords included.</summary>
    public FitsHeader Header { get; }

    /// <summary>The XTENSION value ("IMAGE", "BINTABLE", ...), or null for the primary HDU.</summary>
    public string? ExtensionType { get; }

    /// <summary>True for a primary array or IMAGE extension: the HDUs <see cref="FitsFile.Read(Stream, FitsReadOptions?)"/> reads.</summary>
    public bool IsImage => !IsRandomGroups && (ExtensionType is null or "IMAGE");

    /// <summary>A primary HDU in the (deprecated) random-groups format.</summary>
    public bool IsRandomGroups { get; }

    /// <summary>The BITPIX value: 8, 16, 32, 64, -32 or -64.</summary>
    public int Bitpix { get; }

    /// <summary>Bytes per stored value, |BITPIX| / 8.</summary>
    public int BytesPerPixel => Math.Abs(Bitpix) / 8;

    /// <summary>NAXIS1 ... NAXISn; empty when NAXIS = 0.</summary>
    public IReadOnlyList<long> Axes { get; }

    /// <summary>NAXIS1, or 0 when there are no axes.</summary>
    public long Width => Axes.Count > 0 ? Axes[0] : 0;

    /// <summary>NAXIS2 (1 for a one-dimensional array, 0 when there are no axes).</summary>
    public long Height => Axes.Count switch { 0 => 0, 1 => 1, _ => Axes[1] };

    /// <summary>Physical = BZERO + BSCALE * stored; 0 when absent.</summary>
    public double BZero => _scaling.Zero;

    /// <summary>Physical = BZERO + BSCALE * stored; 1 when absent.</summary>
    public double BScale => _scaling.Scale;

    /// <summary>The stored value of null pixels in an integer HDU (BLANK), read as NaN.</summary>
    public long? Blank => _scaling.Blank;

    /// <summary>Byte offset of the first header card.</summary>
    public long HeaderOffset { get; }

    /// <summary>Size of the header on disk, in whole 2880-byte blocks.</summary>
    public int HeaderBytes { get; }

    /// <summary>Byte offset of the first data byte.</summary>
    public long DataOffset => HeaderOffset + HeaderBytes;

    /// <summary>Size of the data the header declares, without the padding to a whole block.</summary>
    public long DataBytes { get; }

    /// <summary>Size of the data on disk, padded to whole 2880-byte blocks.</summary>
    public long PaddedDataBytes => (DataBytes + FitsKeywords.BlockBytes - 1) / FitsKeywords.BlockBytes * FitsKeywords.BlockBytes;

    /// <summary>Byte offset where the next HDU (if any) starts.</summary>
    public long NextHduOffset => DataOffset + PaddedDataBytes;

    internal FitsScaling Scaling => _scaling;

    /// <summary>
    /// The byte range in the file holding image rows <paramref name="firstRow"/> to
    /// <paramref name="firstRow"/> + <paramref name="rowCount"/> - 1 (zero-based; row y is FITS row y + 1).
    /// </summary>
    public (long Offset, long Length) GetRowRange(long firstRow, long rowCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        if (!IsImage || firstRow + rowCount > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(rowCount),
                $"HDU {Index}: rows {firstRow}..{firstRow + rowCount - 1} are outside an image of {Height} rows");
        }
        long rowBytes = Width * BytesPerPixel;
        return (DataOffset + firstRow * rowBytes, rowCount * rowBytes);
    }

    /// <summary>
    /// Decodes big-endian stored values (as read from <see cref="GetRowRange"/>) into physical values, applying
    /// BZERO, BSCALE and BLANK. Fills all of <paramref name="pixels"/>; <paramref name="data"/> must hold as many values.
    /// </summary>
    public void DecodePixels(ReadOnlySpan<byte> data, Span<float> pixels)
    {
        if ((long)pixels.Length * BytesPerPixel > data.Length)
        {
            throw new ArgumentException(
                $"{data.Length} bytes hold fewer than {pixels.Length} BITPIX {Bitpix} values", nameof(data));
        }
        const int chunk = 1 << 16;
        int n = Math.Min(chunk, pixels.Length);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(n * BytesPerPixel);
        float[] values = ArrayPool<float>.Shared.Rent(n);
        try
        {
            for (int done = 0; done < pixels.Length; done += n)
            {
                n = Math.Min(chunk, pixels.Length - done);
                data.Slice(done * BytesPerPixel, n * BytesPerPixel).CopyTo(bytes);
                Decode(bytes, values, 0, n);
                values.AsSpan(0, n).CopyTo(pixels[done..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    /// <summary>Decodes <paramref name="count"/> values from <paramref name="source"/>[0..] into <paramref name="pixels"/>[<paramref name="offset"/>..].</summary>
    internal void Decode(byte[] source, float[] pixels, int offset, int count) =>
        FitsPixelCodec.Decode(source, pixels, offset, count, Bitpix, _scaling,
            _lookup ??= FitsPixelCodec.LookupTable(Bitpix, _scaling));

    /// <summary>
    /// Checks the mandatory keywords of a parsed header and works out its data layout. Throws
    /// <see cref="FitsFormatException"/> when a keyword is missing or invalid, or when the data would exceed
    /// <see cref="FitsReadOptions.MaxDataBytes"/> (checked without overflow, before anything is allocated).
    /// </summary>
    /// <param name="header">The header from <see cref="FitsHeaderReader.TryParse"/>.</param>
    /// <param name="index">The HDU's position in the file (0 = primary), which decides SIMPLE or XTENSION.</param>
    /// <param name="headerOffset">Byte offset of the header in the file.</param>
    /// <param name="headerBytes">Header size on disk, from <see cref="FitsHeaderReader.TryParse"/>.</param>
    /// <param name="options">Limits; <see cref="FitsReadOptions.Default"/> when null.</param>
    public static FitsHduInfo FromHeader(FitsHeader header, int index, long headerOffset, int headerBytes,
        FitsReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        options ??= FitsReadOptions.Default;
        string where = $"HDU {index} (header at byte {headerOffset})";
        var first = header.FirstOrDefault();
        string? extensionType = null;
        if (index == 0)
        {
            if (first?.Key != "SIMPLE")
            {
                throw new FitsFormatException(FitsErrorKind.MissingKeyword,
                    $"{where}: the first card is '{first?.Key}', not SIMPLE: not a FITS file");
            }
            if (first.Value is not true)
            {
                throw new FitsFormatException(FitsErrorKind.InvalidValue,
                    $"{where}: SIMPLE = {first.Value ?? "(none)"}: the file does not conform to the FITS standard");
            }
        }
        else
        {
            if (first?.Key != "XTENSION")
            {
                throw new FitsFormatException(FitsErrorKind.MissingKeyword,
                    $"{where}: the first card is '{first?.Key}', not XTENSION");
            }
            extensionType = first.Value as string ?? throw new FitsFormatException(FitsErrorKind.InvalidValue,
                $"{where}: XTENSION = {first.Value ?? "(none)"} is not a string");
        }

        int cardNumber = 0;
        foreach (var card in header)
        {
            cardNumber++;
            if (cardNumber > 1 && card.Key is "SIMPLE" or "XTENSION")
            {
                throw new FitsFormatException(FitsErrorKind.InvalidValue,
                    $"{where}: {card.Key} appears again as card {cardNumber}: it may only be the first card " +
                    "(did an END card get lost between two headers?)");
            }
        }

        int bitpix = (int)Integer(header, "BITPIX", where);
        if (bitpix is not (8 or 16 or 32 or 64 or -32 or -64))
        {
            throw new FitsFormatException(FitsErrorKind.InvalidValue,
                $"{where}: BITPIX = {bitpix} is not one of 8, 16, 32, 64, -32, -64");
        }
        long naxis = Integer(header, "NAXIS", where);
        if (naxis is < 0 or > 999)
        {
            throw new FitsFormatException(FitsErrorKind.InvalidValue, $"{where}: NAXIS = {naxis} is not in 0..999");
        }
        var axes = new long[naxis];
        for (int i = 0; i < naxis; i++)
        {
            string key = $"NAXIS{i + 1}";
            axes[i] = Integer(header, key, where);
            if (axes[i] < 0)
            {
                throw new FitsFormatException(FitsErrorKind.InvalidValue, $"{where}: {key} = {axes[i]} is negative");
            }
        }

        bool isRandomGroups = index == 0 && naxis > 0 && axes[0] == 0 && header["GROUPS"] is true;
        long pcount = 0, gcount = 1;
        if (index > 0 || isRandomGroups)
        {
            pcount = index > 0 ? Integer(header, "PCOUNT", where) : OptionalInteger(header, "PCOUNT", 0, where);
            gcount = index > 0 ? Integer(header, "GCOUNT", where) : OptionalInteger(header, "GCOUNT", 1, where);
            if (pcount < 0 || gcount < 0)
            {
                throw new FitsFormatException(FitsErrorKind.InvalidValue,
                    $"{where}: PCOUNT = {pcount}, GCOUNT = {gcount}: neither may be negative");
            }
            if (extensionType == "IMAGE" && (pcount != 0 || gcount != 1))
            {
                throw new FitsFormatException(FitsErrorKind.InvalidValue,
                    $"{where}: an IMAGE extension needs PCOUNT = 0 and GCOUNT = 1, not {pcount} and {gcount}");
            }
        }

        // Size = |BITPIX|/8 * GCOUNT * (PCOUNT + product of the axes), in Int128 and capped so it cannot overflow.
        Int128 elements = naxis == 0 ? 0 : 1;
        for (int i = isRandomGroups ? 1 : 0; i < naxis; i++)
        {
            elements = CappedProduct(elements, axes[i]);
        }
        Int128 bytes = CappedProduct(CappedProduct(elements + pcount, gcount), Math.Abs(bitpix) / 8);
        if (naxis == 0)
        {
            bytes = 0;
        }
        if (bytes > options.MaxDataBytes || bytes > long.MaxValue - FitsKeywords.BlockBytes - headerOffset - headerBytes)
        {
            string shape = naxis == 0 ? "" : string.Join(" x ", axes);
            string size = bytes >= Cap ? "more than 2^100" : bytes.ToString();
            throw new FitsFormatException(FitsErrorKind.TooLarge,
                $"{where}: a data unit of {shape} BITPIX {bitpix} values (PCOUNT {pcount}, GCOUNT {gcount}) " +
                $"would be {size} bytes, above FitsReadOptions.MaxDataBytes = {options.MaxDataBytes}");
        }

        var scaling = new FitsScaling(
            OptionalReal(header, "BZERO", 0, where),
            OptionalReal(header, "BSCALE", 1, where),
            bitpix > 0 && header.Contains("BLANK") ? Integer(header, "BLANK", where) : null);
        return new FitsHduInfo(header, index, headerOffset, headerBytes, extensionType?.TrimEnd(), bitpix, axes,
            isRandomGroups, (long)bytes, scaling);
    }

    private static readonly Int128 Cap = Int128.One << 100;

    private static Int128 CappedProduct(Int128 a, Int128 b) =>
        a == 0 || b == 0 ? 0 : a > Cap / b ? Cap : Int128.Min(a * b, Cap);

    private static long Integer(FitsHeader header, string key, string where)
    {
        if (!header.TryGetCard(key, out var card))
        {
            throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"{where}: mandatory keyword {key} is missing");
        }
        return card.Value is long l ? l : throw new FitsFormatException(FitsErrorKind.InvalidValue,
            $"{where}: {key} = {card.Value ?? "(none)"} is not an integer");
    }

    private static long OptionalInteger(FitsHeader header, string key, long fallback, string where) =>
        header.Contains(key) ? Integer(header, key, where) : fallback;

    private static double OptionalReal(FitsHeader header, string key, double fallback, string where)
    {
        if (!header.TryGetCard(key, out var card))
        {
            return fallback;
        }
        return card.Value switch
        {
            long l => l,
            double d => d,
            _ => throw new FitsFormatException(FitsErrorKind.InvalidValue,
                $"{where}: {key} = {card.Value ?? "(none)"} is not a number"),
        };
    }
}
