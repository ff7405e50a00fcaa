using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Drp.Pipeline.Fits;

/// <summary>How stored values map to physical ones: physical = Zero + Scale * stored; Blank marks null integers.</summary>
internal readonly record struct FitsScaling(double Zero, double Scale, long? Blank)
{
    public bool IsIdentity => Zero == 0 && Scale == 1;
}

/// <summary>Converts between physical float pixels and big-endian stored values, a span at a time.</summary>
internal static class FitsPixelCodec
{
    /// <summary>Decodes <paramref name="destination"/>.Length values from <paramref name="source"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> source, Span<float> destination, int bitpix, FitsScaling scaling)
    {
        int n = destination.Length;
        double zero = scaling.Zero, scale = scaling.Scale;
        long blank = scaling.Blank ?? long.MinValue;
        bool hasBlank = scaling.Blank.HasValue;
        switch (bitpix)
        {
            case 8:
                source = source[..n];
                for (int i = 0; i < n; i++)
                {
                    byte v = source[i];
                    destination[i] = hasBlank && v == blank ? float.NaN : (float)(zero + scale * v);
                }
                break;
            case 16:
                source = source[..(2 * n)];
                for (int i = 0; i < n; i++)
                {
                    short v = BinaryPrimitives.ReadInt16BigEndian(source.Slice(2 * i, 2));
                    destination[i] = hasBlank && v == blank ? float.NaN : (float)(zero + scale * v);
                }
                break;
            case 32:
                source = source[..(4 * n)];
                for (int i = 0; i < n; i++)
                {
                    int v = BinaryPrimitives.ReadInt32BigEndian(source.Slice(4 * i, 4));
                    destination[i] = hasBlank && v == blank ? float.NaN : (float)(zero + scale * v);
                }
                break;
            case -32:
                source = source[..(4 * n)];
                if (BitConverter.IsLittleEndian)
                {
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(source), MemoryMarshal.Cast<float, int>(destination));
                }
                else
                {
                    source.CopyTo(MemoryMarshal.AsBytes(destination));
                }
                if (!scaling.IsIdentity)
                {
                    for (int i = 0; i < n; i++)
                    {
                        destination[i] = (float)(zero + scale * destination[i]);
                    }
                }
                break;
            case -64:
                source = source[..(8 * n)];
                for (int i = 0; i < n; i++)
                {
                    double v = BinaryPrimitives.ReadDoubleBigEndian(source.Slice(8 * i, 8));
                    destination[i] = (float)(zero + scale * v);
                }
                break;
            default:
                throw new FitsFormatException(FitsErrorKind.Unsupported, $"BITPIX {bitpix} pixels cannot be decoded to float");
        }
    }

    /// <summary>
    /// Encodes <paramref name="source"/> into <paramref name="destination"/>: stored = (physical - Zero) / Scale,
    /// rounded to nearest and clamped to the type's range for integer types; NaN becomes BLANK.
    /// </summary>
    public static void Encode(ReadOnlySpan<float> source, Span<byte> destination, FitsBitpix bitpix, FitsScaling scaling, int hduIndex)
    {
        int n = source.Length;
        double zero = scaling.Zero, scale = scaling.Scale;
        switch (bitpix)
        {
            case FitsBitpix.UInt8:
                destination = destination[..n];
                for (int i = 0; i < n; i++)
                {
                    destination[i] = (byte)ToInteger(source[i], zero, scale, byte.MinValue, byte.MaxValue, scaling.Blank, hduIndex);
                }
                break;
            case FitsBitpix.Int16:
                destination = destination[..(2 * n)];
                for (int i = 0; i < n; i++)
                {
                    short v = (short)ToInteger(source[i], zero, scale, short.MinValue, short.MaxValue, scaling.Blank, hduIndex);
                    BinaryPrimitives.WriteInt16BigEndian(destination.Slice(2 * i, 2), v);
                }
                break;
            case FitsBitpix.Int32:
                destination = destination[..(4 * n)];
                for (int i = 0; i < n; i++)
                {
                    int v = (int)ToInteger(source[i], zero, scale, int.MinValue, int.MaxValue, scaling.Blank, hduIndex);
                    BinaryPrimitives.WriteInt32BigEndian(destination.Slice(4 * i, 4), v);
                }
                break;
            case FitsBitpix.Float32:
                destination = destination[..(4 * n)];
                if (scaling.IsIdentity && BitConverter.IsLittleEndian)
                {
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(source), MemoryMarshal.Cast<byte, int>(destination));
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        float v = scaling.IsIdentity ? source[i] : (float)((source[i] - zero) / scale);
                        BinaryPrimitives.WriteSingleBigEndian(destination.Slice(4 * i, 4), v);
                    }
                }
                break;
            case FitsBitpix.Float64:
                destination = destination[..(8 * n)];
                for (int i = 0; i < n; i++)
                {
                    double v = scaling.IsIdentity ? source[i] : (source[i] - zero) / scale;
                    BinaryPrimitives.WriteDoubleBigEndian(destination.Slice(8 * i, 8), v);
                }
                break;
            default:
                throw new ArgumentException($"HDU {hduIndex}: BITPIX {(int)bitpix} is not one of 8, 16, 32, -32, -64");
        }
    }

    private static long ToInteger(float physical, double zero, double scale, long min, long max, long? blank, int hduIndex)
    {
        if (float.IsNaN(physical))
        {
            return blank ?? throw new ArgumentException(
                $"HDU {hduIndex}: a NaN pixel cannot be stored in an integer HDU without a BLANK keyword");
        }
        double v = Math.Round((physical - zero) / scale);
        return v <= min ? min : v >= max ? max : (long)v;
    }
}
