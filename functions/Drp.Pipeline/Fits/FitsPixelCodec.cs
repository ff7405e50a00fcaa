using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Drp.Pipeline.Fits;

/// <summary>How stored values map to physical ones: physical = Zero + Scale * stored; Blank marks null integers.</summary>
internal readonly record struct FitsScaling(double Zero, double Scale, long? Blank)
{
    public bool IsIdentity => Zero == 0 && Scale == 1;
}

/// <summary>
/// Converts between physical float pixels and big-endian stored values, a chunk at a time.
/// </summary>
/// <remarks>
/// The loops index arrays and assemble bytes by hand rather than calling span or BinaryPrimitives helpers per
/// value: a debug build (as in the tests) does not inline those calls, and a full detector is 18 million values.
/// 8- and 16-bit values decode through a lookup table of every stored value, which also applies BLANK.
/// </remarks>
internal static class FitsPixelCodec
{
    /// <summary>
    /// The physical value of every stored 8- or 16-bit value, indexed by the stored bits read as unsigned
    /// with the sign bit flipped for 16 bits (so index = stored + 32768); null for other BITPIX.
    /// </summary>
    public static float[]? LookupTable(int bitpix, FitsScaling scaling)
    {
        if (bitpix is not (8 or 16))
        {
            return null;
        }
        int count = bitpix == 8 ? 256 : 65536;
        int offset = bitpix == 8 ? 0 : 32768;
        var table = new float[count];
        for (int i = 0; i < count; i++)
        {
            long stored = i - offset;
            table[i] = scaling.Blank == stored ? float.NaN : (float)(scaling.Zero + scaling.Scale * stored);
        }
        return table;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> values from <paramref name="source"/>[0..] into
    /// <paramref name="destination"/>[<paramref name="destinationOffset"/>..].
    /// </summary>
    /// <param name="table">From <see cref="LookupTable"/> for BITPIX 8 and 16.</param>
    public static void Decode(byte[] source, float[] destination, int destinationOffset, int count, int bitpix,
        FitsScaling scaling, float[]? table)
    {
        double zero = scaling.Zero, scale = scaling.Scale;
        int end = destinationOffset + count;
        switch (bitpix)
        {
            case 8:
                for (int i = destinationOffset, j = 0; i < end; i++, j++)
                {
                    destination[i] = table![source[j]];
                }
                break;
            case 16:
            {
                int i = destinationOffset, j = 0;
                if (Vector256.IsHardwareAccelerated && IntegerOffset(scaling) is { } offset)
                {
                    // Sixteen values at a time: bytes swapped to little-endian, widened, the offset added as integers
                    // and converted exactly (every result is an integer below 2^24), so each equals the table's value.
                    var swap = Vector256.Create((byte)1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14,
                        17, 16, 19, 18, 21, 20, 23, 22, 25, 24, 27, 26, 29, 28, 31, 30);
                    var add = Vector256.Create(offset);
                    for (; i + 16 <= end; i += 16, j += 32)
                    {
                        var stored = Vector256.Shuffle(Vector256.Create(source.AsSpan(j, 32)), swap).AsInt16();
                        var (lo, hi) = Vector256.Widen(stored);
                        Vector256.ConvertToSingle(lo + add).CopyTo(destination.AsSpan(i, 8));
                        Vector256.ConvertToSingle(hi + add).CopyTo(destination.AsSpan(i + 8, 8));
                    }
                }
                for (; i < end; i++, j += 2)
                {
                    destination[i] = table![((source[j] << 8) | source[j + 1]) ^ 0x8000];
                }
                break;
            }
            case 32:
                bool hasBlank = scaling.Blank.HasValue;
                long blank = scaling.Blank ?? 0;
                for (int i = destinationOffset, j = 0; i < end; i++, j += 4)
                {
                    int v = (source[j] << 24) | (source[j + 1] << 16) | (source[j + 2] << 8) | source[j + 3];
                    destination[i] = hasBlank && v == blank ? float.NaN : (float)(zero + scale * v);
                }
                break;
            case -32:
                var target = destination.AsSpan(destinationOffset, count);
                if (BitConverter.IsLittleEndian)
                {
                    BinaryPrimitives.ReverseEndianness(
                        MemoryMarshal.Cast<byte, int>(source.AsSpan(0, 4 * count)), MemoryMarshal.Cast<float, int>(target));
                }
                else
                {
                    source.AsSpan(0, 4 * count).CopyTo(MemoryMarshal.AsBytes(target));
                }
                if (!scaling.IsIdentity)
                {
                    for (int i = destinationOffset; i < end; i++)
                    {
                        destination[i] = (float)(zero + scale * destination[i]);
                    }
                }
                break;
            case -64:
                for (int i = destinationOffset, j = 0; i < end; i++, j += 8)
                {
                    double v = BinaryPrimitives.ReadDoubleBigEndian(source.AsSpan(j, 8));
                    destination[i] = (float)(zero + scale * v);
                }
                break;
            default:
                throw new FitsFormatException(FitsErrorKind.Unsupported, $"BITPIX {bitpix} pixels cannot be decoded to float");
        }
    }

    /// <summary>
    /// For 16-bit values: the integer BZERO when BSCALE is 1, there is no BLANK and every physical value is an integer
    /// a float holds exactly (the common unsigned-16 convention, BZERO 32768); else null (the lookup table decodes).
    /// </summary>
    private static int? IntegerOffset(FitsScaling scaling) =>
        scaling.Scale == 1 && scaling.Blank is null && scaling.Zero == Math.Round(scaling.Zero) && Math.Abs(scaling.Zero) <= (1 << 23)
            ? (int)scaling.Zero
            : null;

    /// <summary>
    /// Encodes <paramref name="count"/> values of <paramref name="source"/> from <paramref name="sourceOffset"/>
    /// into <paramref name="destination"/>[0..]: stored = (physical - Zero) / Scale, rounded to nearest (ties to
    /// even) and clamped to the type's range for integer types; NaN becomes BLANK, or an error without one.
    /// </summary>
    public static void Encode(float[] source, int sourceOffset, int count, byte[] destination, FitsBitpix bitpix,
        FitsScaling scaling, int hduIndex)
    {
        double zero = scaling.Zero, scale = scaling.Scale;
        int end = sourceOffset + count;
        switch (bitpix)
        {
            case FitsBitpix.UInt8:
                for (int i = sourceOffset, j = 0; i < end; i++, j++)
                {
                    destination[j] = (byte)ToInteger(source[i], zero, scale, byte.MinValue, byte.MaxValue, scaling.Blank, hduIndex);
                }
                break;
            case FitsBitpix.Int16:
                for (int i = sourceOffset, j = 0; i < end; i++, j += 2)
                {
                    // The common case inline (raw frames: whole numbers in range), the rest in ToInteger.
                    double d = (source[i] - zero) / scale;
                    int v = (int)d;
                    if (v != d || v < short.MinValue || v > short.MaxValue)
                    {
                        v = ToInteger(source[i], zero, scale, short.MinValue, short.MaxValue, scaling.Blank, hduIndex);
                    }
                    destination[j] = (byte)(v >> 8);
                    destination[j + 1] = (byte)v;
                }
                break;
            case FitsBitpix.Int32:
            {
                int first = sourceOffset;
                if (scaling.IsIdentity && BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated)
                {
                    // Whole numbers in range (a mask plane) a vector at a time: float -> int is exact exactly when the
                    // int converts back to the same float. From the first vector holding any other value on, value by value.
                    var ints = MemoryMarshal.Cast<byte, int>(destination.AsSpan(0, 4 * count));
                    int k = 0;
                    for (; k + Vector256<float>.Count <= count; k += Vector256<float>.Count)
                    {
                        var v = Vector256.Create(source.AsSpan(sourceOffset + k, Vector256<float>.Count));
                        var n = Vector256.ConvertToInt32(v);
                        if (!Vector256.EqualsAll(Vector256.ConvertToSingle(n), v))
                        {
                            break;
                        }
                        n.CopyTo(ints.Slice(k, Vector256<int>.Count));
                    }
                    BinaryPrimitives.ReverseEndianness(ints[..k], ints[..k]);
                    first = sourceOffset + k;
                }
                for (int i = first, j = 4 * (first - sourceOffset); i < end; i++, j += 4)
                {
                    // The common case inline (masks, counts: whole numbers in range), the rest in ToInteger.
                    double d = (source[i] - zero) / scale;
                    int v = d >= int.MinValue && d <= int.MaxValue ? (int)d : 0;
                    if (v != d)
                    {
                        v = ToInteger(source[i], zero, scale, int.MinValue, int.MaxValue, scaling.Blank, hduIndex);
                    }
                    destination[j] = (byte)(v >> 24);
                    destination[j + 1] = (byte)(v >> 16);
                    destination[j + 2] = (byte)(v >> 8);
                    destination[j + 3] = (byte)v;
                }
                break;
            }
            case FitsBitpix.Float32:
                if (scaling.IsIdentity && BitConverter.IsLittleEndian)
                {
                    BinaryPrimitives.ReverseEndianness(
                        MemoryMarshal.Cast<float, int>(source.AsSpan(sourceOffset, count)),
                        MemoryMarshal.Cast<byte, int>(destination.AsSpan(0, 4 * count)));
                    break;
                }
                for (int i = sourceOffset, j = 0; i < end; i++, j += 4)
                {
                    float v = scaling.IsIdentity ? source[i] : (float)((source[i] - zero) / scale);
                    BinaryPrimitives.WriteSingleBigEndian(destination.AsSpan(j, 4), v);
                }
                break;
            case FitsBitpix.Float64:
                for (int i = sourceOffset, j = 0; i < end; i++, j += 8)
                {
                    double v = scaling.IsIdentity ? source[i] : (source[i] - zero) / scale;
                    BinaryPrimitives.WriteDoubleBigEndian(destination.AsSpan(j, 8), v);
                }
                break;
            default:
                throw new ArgumentException($"HDU {hduIndex}: BITPIX {(int)bitpix} is not one of 8, 16, 32, -32, -64");
        }
    }

    private static int ToInteger(float physical, double zero, double scale, int min, int max, long? blank, int hduIndex)
    {
        double v = (physical - zero) / scale;
        if (v >= min && v <= max)
        {
            int truncated = (int)v;
            // Most raw pixels are whole numbers: round only when needed (Math.Round is a call in debug builds).
            return truncated == v ? truncated : (int)Math.Round(v);
        }
        if (v < min)
        {
            return min;
        }
        if (v > max)
        {
            return max;
        }
        // NaN.
        return blank is long b ? (int)b : throw new ArgumentException(
            $"HDU {hduIndex}: a NaN pixel cannot be stored in an integer HDU without a BLANK keyword");
    }
}
