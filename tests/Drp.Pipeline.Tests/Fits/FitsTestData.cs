using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Tests.Fits;

/// <summary>Synthetic images with known values, FITS bytes in memory, and per-test temporary directories.</summary>
internal static class FitsTestData
{
    /// <summary>
    /// A width x height image whose pixels span the range <paramref name="bitpix"/> can hold exactly as float,
    /// including both ends, so a round trip that clips or mis-scales shows.
    /// </summary>
    public static FitsImage Image(int width, int height, FitsBitpix bitpix, FitsHeader? header = null, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new float[width * height];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = bitpix switch
            {
                FitsBitpix.UInt8 => random.Next(0, 256),
                FitsBitpix.Int16 => random.Next(short.MinValue, short.MaxValue + 1),
                // Integers up to 2^24 are exact in float.
                FitsBitpix.Int32 => random.Next(-(1 << 24), (1 << 24) + 1),
                _ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30))),
            };
        }
        if (pixels.Length >= 2)
        {
            (pixels[0], pixels[1]) = bitpix switch
            {
                FitsBitpix.UInt8 => (0f, 255f),
                FitsBitpix.Int16 => (short.MinValue, short.MaxValue),
                FitsBitpix.Int32 => (-(1 << 24), 1 << 24),
                _ => (float.MinValue, float.MaxValue),
            };
        }
        return new FitsImage(width, height, bitpix, header, pixels);
    }

    public static byte[] ToBytes(params FitsImage[] hdus)
    {
        using var ms = new MemoryStream();
        FitsFile.Write(ms, hdus);
        return ms.ToArray();
    }

    public static IReadOnlyList<FitsImage> FromBytes(byte[] bytes, FitsReadOptions? options = null)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return FitsFile.Read(ms, options);
    }

    /// <summary>A fixed-format card "KEY     =                VALUE" (the value right-justified to column 30).</summary>
    public static string Card(string key, string value) => $"{key,-8}= {value,20}";

    /// <summary>
    /// One HDU from raw card text: the cards (each at most 80 characters), END unless <paramref name="end"/> is
    /// false, spaces to a whole block, then <paramref name="dataBytes"/> bytes of <paramref name="fill"/> padded
    /// with zeros to a whole block.
    /// </summary>
    public static byte[] RawHdu(IEnumerable<string> cards, long dataBytes = 0, bool end = true, byte fill = 0)
    {
        var text = new System.Text.StringBuilder();
        foreach (string card in cards.Concat(end ? ["END"] : []))
        {
            if (card.Length > 80)
            {
                throw new ArgumentException($"card longer than 80 characters: {card}");
            }
            text.Append(card.PadRight(80));
        }
        while (text.Length % 2880 != 0)
        {
            text.Append(' ');
        }
        byte[] header = System.Text.Encoding.Latin1.GetBytes(text.ToString());
        long padded = (dataBytes + 2879) / 2880 * 2880;
        var bytes = new byte[header.Length + padded];
        header.CopyTo(bytes, 0);
        bytes.AsSpan(header.Length, (int)dataBytes).Fill(fill);
        return bytes;
    }

    /// <summary>The cards of a minimal primary image header.</summary>
    public static List<string> PrimaryCards(int bitpix, params long[] axes) =>
    [
        Card("SIMPLE", "T"),
        Card("BITPIX", bitpix.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Card("NAXIS", axes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        .. axes.Select((a, i) => Card($"NAXIS{i + 1}", a.ToString(System.Globalization.CultureInfo.InvariantCulture))),
    ];

    /// <summary>The cards of a minimal IMAGE extension header.</summary>
    public static List<string> ImageExtensionCards(int bitpix, params long[] axes) =>
    [
        "XTENSION= 'IMAGE   '",
        .. PrimaryCards(bitpix, axes).Skip(1),
        Card("PCOUNT", "0"),
        Card("GCOUNT", "1"),
    ];

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>The 80-character cards of the header starting at <paramref name="offset"/>, up to END.</summary>
    public static List<string> Cards(byte[] bytes, int offset = 0)
    {
        var cards = new List<string>();
        for (int at = offset; at + 80 <= bytes.Length; at += 80)
        {
            string card = System.Text.Encoding.ASCII.GetString(bytes, at, 80);
            cards.Add(card);
            if (card.StartsWith("END     ", StringComparison.Ordinal))
            {
                break;
            }
        }
        return cards;
    }
}

/// <summary>A read-only stream that cannot seek, like a network download; counts the bytes read.</summary>
internal sealed class ForwardOnlyStream(byte[] bytes) : Stream
{
    private readonly MemoryStream _inner = new(bytes, writable: false);

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = _inner.Read(buffer, offset, count);
        BytesRead += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A seekable stream that counts the bytes actually read, to show what was skipped.</summary>
internal sealed class CountingStream(byte[] bytes) : Stream
{
    private readonly MemoryStream _inner = new(bytes, writable: false);

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set => _inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = _inner.Read(buffer, offset, count);
        BytesRead += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A temporary directory removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("drp-fits-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A tool still holding a file must not fail the test; the OS cleans the temp directory.
        }
    }
}
