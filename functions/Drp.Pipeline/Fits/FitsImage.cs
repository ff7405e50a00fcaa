namespace Drp.Pipeline.Fits;

/// <summary>The on-disk pixel type of an HDU (the BITPIX keyword).</summary>
public enum FitsBitpix
{
    UInt8 = 8,
    Int16 = 16,
    Int32 = 32,
    Float32 = -32,
    Float64 = -64,
}

/// <summary>
/// One image HDU: its header and its pixels as physical values (BZERO/BSCALE applied), row-major:
/// pixel (x, y), zero-based, is <c>Pixels[y * Width + x]</c>, and FITS pixel (1, 1) is (0, 0).
/// An HDU with no data (NAXIS = 0, as in the primary HDU of a multi-extension file) has Width = Height = 0.
/// </summary>
/// <remarks>
/// Pixels are held as float (the astronomical norm for images; exact for integers below 2^24). Reading BITPIX -64
/// narrows to float. <see cref="Bitpix"/>, <c>BZERO</c> and <c>BSCALE</c> say how the writer stores them.
/// </remarks>
public sealed class FitsImage
{
    public FitsImage(int width, int height, FitsBitpix bitpix = FitsBitpix.Float32, FitsHeader? header = null, float[]? pixels = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        Width = width;
        Height = height;
        Bitpix = bitpix;
        Header = header ?? new FitsHeader();
        Pixels = pixels ?? new float[checked(width * height)];
        if (Pixels.Length != (long)width * height)
        {
            throw new ArgumentException($"pixel array has {Pixels.Length} values, expected {width} x {height}", nameof(pixels));
        }
    }

    public FitsHeader Header { get; }

    public int Width { get; }

    public int Height { get; }

    public FitsBitpix Bitpix { get; set; }

    public float[] Pixels { get; }

    /// <summary>The HDU's EXTNAME, if any.</summary>
    public string? Name => Header.GetString("EXTNAME");

    public float this[int x, int y]
    {
        get => Pixels[y * Width + x];
        set => Pixels[y * Width + x] = value;
    }

    /// <summary>An HDU with a header and no data.</summary>
    public static FitsImage HeaderOnly(FitsHeader? header = null) => new(0, 0, FitsBitpix.UInt8, header);
}
