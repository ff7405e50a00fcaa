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
