using System.Runtime.Intrinsics;

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
/// narrows to float. <see cref="Bitpix"/>, <c>BZERO</c> and <c>BSCALE</c> say how the writer stores them. An image
/// made by <see cref="FromUInt16"/> (a mask plane) holds its 16-bit values instead, and makes the floats only if
/// <see cref="Pixels"/> is asked for.
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
        _pixels = pixels ?? new float[checked(width * height)];
        if (_pixels.Length != (long)width * height)
        {
            throw new ArgumentException($"pixel array has {_pixels.Length} values, expected {width} x {height}", nameof(pixels));
        }
    }

    public FitsHeader Header { get; }

    public int Width { get; }

    public int Height { get; }

    public FitsBitpix Bitpix { get; set; }

    public float[] Pixels => _pixels ??= ToFloats(_unsigned!);

    private float[]? _pixels;

    /// <summary>The values of an image made by <see cref="FromUInt16"/>, until <see cref="Pixels"/> is asked for.</summary>
    private readonly ushort[]? _unsigned;

    private FitsImage(int width, int height, FitsBitpix bitpix, FitsHeader? header, ushort[] values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != (long)width * height)
        {
            throw new ArgumentException($"value array has {values.Length} values, expected {width} x {height}", nameof(values));
        }
        Width = width;
        Height = height;
        Bitpix = bitpix;
        Header = header ?? new FitsHeader();
        _unsigned = values;
    }

    /// <summary>
    /// An image of integers 0..65535 held as they are (a mask plane), not copied: <see cref="Pixels"/> makes their
    /// float copy only when asked for, and the writer encodes straight from them, so no float plane ever exists.
    /// </summary>
    public static FitsImage FromUInt16(int width, int height, FitsBitpix bitpix, FitsHeader? header, ushort[] values) =>
        new(width, height, bitpix, header, values);

    /// <summary>The 16-bit values of an image made by <see cref="FromUInt16"/> (null for any other): the writer encodes from them.</summary>
    internal ushort[]? UInt16Values => _unsigned;

    private static float[] ToFloats(ushort[] values)
    {
        var result = new float[values.Length];
        ToFloats(values, result);
        return result;
    }

    /// <summary>Each value as a float (exact: they are below 2^16), sixteen at a time.</summary>
    internal static void ToFloats(ReadOnlySpan<ushort> values, Span<float> target)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<ushort>.Count <= values.Length; i += Vector256<ushort>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(values.Slice(i, Vector256<ushort>.Count)));
                Vector256.ConvertToSingle(lo.AsInt32()).CopyTo(target.Slice(i, Vector256<float>.Count));
                Vector256.ConvertToSingle(hi.AsInt32()).CopyTo(target.Slice(i + Vector256<float>.Count, Vector256<float>.Count));
            }
        }
        for (; i < values.Length; i++)
        {
            target[i] = values[i];
        }
    }

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
