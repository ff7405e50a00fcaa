namespace Drp.Pipeline.Fits;

/// <summary>An image HDU's size, on-disk type and header (without the structural cards), as <see cref="FitsImage"/> has them.</summary>
public sealed record FitsImageHeader(int Index, int Width, int Height, FitsBitpix Bitpix, FitsHeader Header)
{
    /// <summary>The HDU's EXTNAME, if any.</summary>
    public string? Name => Header.GetString("EXTNAME");

    public static FitsImageHeader Of(FitsImage image, int index)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new FitsImageHeader(index, image.Width, image.Height, image.Bitpix, image.Header);
    }
}

/// <summary>
/// A FITS file opened by <see cref="FitsFile.OpenImages"/>: every image HDU's header, checked, and its pixels read
/// when asked, one HDU at a time, into an array the caller may hand back for the next. For a large multi-extension
/// file whose HDUs are each used once (a raw's amplifiers), it saves holding all the pixels at once, and touching
/// that much fresh memory. Not thread-safe.
/// </summary>
public sealed class FitsImageReader : IDisposable
{
    private readonly Stream _stream;
    private readonly long _fileStart;
    private readonly IReadOnlyList<FitsHduInfo> _hdus;

    internal FitsImageReader(Stream stream, long fileStart, IReadOnlyList<FitsHduInfo> hdus, IReadOnlyList<FitsImageHeader> images)
    {
        _stream = stream;
        _fileStart = fileStart;
        _hdus = hdus;
        Images = images;
    }

    /// <summary>Every HDU of the file, the first the primary one.</summary>
    public IReadOnlyList<FitsImageHeader> Images { get; }

    /// <summary>
    /// The physical values of HDU <paramref name="index"/> (BZERO, BSCALE and BLANK applied), row-major, written into
    /// <paramref name="reuse"/> when it has exactly the HDU's size, else into a new array.
    /// </summary>
    public float[] ReadPixels(int index, float[]? reuse = null)
    {
        ObjectDisposedException.ThrowIf(!_stream.CanRead, this);
        var image = Images[index];
        int count = image.Width * image.Height;
        var pixels = reuse is not null && reuse.Length == count ? reuse : LargeArrays.AllocateUninitialized<float>(count);
        FitsFile.ReadPixels(_stream, _fileStart, _hdus[index], pixels);
        return pixels;
    }

    /// <summary>
    /// Rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> + <paramref name="rowCount"/> - 1 of HDU
    /// <paramref name="index"/> as physical values, row-major, into the start of <paramref name="into"/>.
    /// </summary>
    public void ReadRows(int index, int firstRow, int rowCount, float[] into)
    {
        ObjectDisposedException.ThrowIf(!_stream.CanRead, this);
        ArgumentNullException.ThrowIfNull(into);
        var hdu = _hdus[index];
        var (offset, _) = hdu.GetRowRange(firstRow, rowCount);
        int count = checked(Images[index].Width * rowCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(into.Length, count, nameof(into));
        FitsFile.ReadValues(_stream, _fileStart, hdu, offset, into, count);
    }

    public void Dispose() => _stream.Dispose();
}
