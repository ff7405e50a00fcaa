using Drp.Pipeline.Fits;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// An image with its variance and mask planes (row-major, pixel (x, y) at <c>y * Width + x</c>) and the primary
/// header carried along for the WCS and metadata. Units: electrons (image) and electrons² (variance).
/// </summary>
public sealed class Exposure
{
    public Exposure(int width, int height, float[] image, float[] variance, ushort[] mask, FitsHeader header)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        long n = (long)width * height;
        if (image.Length != n || variance.Length != n || mask.Length != n)
        {
            throw new ArgumentException($"planes have {image.Length}/{variance.Length}/{mask.Length} values, expected {width} x {height}");
        }
        Width = width;
        Height = height;
        Image = image;
        Variance = variance;
        Mask = mask;
        Header = header;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Pixel values in electrons.</summary>
    public float[] Image { get; }

    /// <summary>Per-pixel variance in electrons².</summary>
    public float[] Variance { get; }

    /// <summary>Bits of <see cref="MaskPlane"/>.</summary>
    public ushort[] Mask { get; }

    /// <summary>The raw's primary header (WCS, ids, observing metadata) plus BUNIT and the MP_* mask plane cards.</summary>
    public FitsHeader Header { get; }

    public bool HasMask(int x, int y, MaskPlane planes) => (Mask[y * Width + x] & (ushort)planes) != 0;
}
