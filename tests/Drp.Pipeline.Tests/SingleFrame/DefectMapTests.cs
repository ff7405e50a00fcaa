using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public sealed class DefectMapTests
{
    /// <summary>
    /// A defects image taller than one band of rows (2^18 values) with bad columns, single pixels, runs at both row
    /// ends, NaN (bad), -0 (good) and a long run: the bad pixels, pixel for pixel.
    /// </summary>
    private static (FitsImage Image, HashSet<(int X, int Y)> Bad) Defects()
    {
        int w = 100, h = 3000;
        var image = new FitsImage(w, h);
        var bad = new HashSet<(int, int)>();
        void Set(int x, int y, float v)
        {
            image[x, y] = v;
            if (v != 0f)
            {
                bad.Add((x, y));
            }
        }
        for (int y = 0; y < h; y++)
        {
            Set(17, y, 1);          // a bad column across every band
        }
        Set(0, 0, 5);
        Set(99, 0, 1);
        Set(98, 0, 1);
        Set(50, 2620, float.NaN);   // around the first band's end (2621 rows of 100)
        Set(51, 2621, -3);
        Set(52, 2999, 1);
        Set(53, 1000, -0f);         // negative zero is zero: good
        for (int x = 20; x < 90; x++)
        {
            Set(x, 1500, 2);
        }
        return (image, bad);
    }

    private static HashSet<(int X, int Y)> Pixels(DefectMap map) =>
        map.Runs.SelectMany(r => Enumerable.Range(r.X0, r.X1 - r.X0 + 1).Select(x => (x, r.Y))).ToHashSet();

    [Fact]
    public void Read_FileInBandsOfRows_GivesEveryBadPixelAsFromImage()
    {
        var (image, bad) = Defects();
        string path = Path.Combine(Path.GetTempPath(), $"defects-{Guid.NewGuid():N}.fits");
        // The pixels in an extension after an empty primary HDU, as a multi-extension file carries them.
        FitsFile.Write(path, [FitsImage.HeaderOnly(), new FitsImage(image.Width, image.Height, FitsBitpix.Int16, null, image.Pixels.Select(v => float.IsNaN(v) ? 7f : v).ToArray())]);
        try
        {
            var read = DefectMap.Read(path);
            var fromImage = DefectMap.FromImage(image);

            Assert.Equal((100, 3000), (read.Width, read.Height));
            Assert.True(bad.SetEquals(Pixels(read)), "read from the file");
            Assert.True(bad.SetEquals(Pixels(fromImage)), "from the image");
            Assert.Equal(fromImage.Runs, read.Runs);
            Assert.Contains(new PixelSpan(1500, 20, 89), read.Runs);
            Assert.Contains(new PixelSpan(0, 98, 99), read.Runs);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_FileWithoutAnImage_ThrowsIsrInputException()
    {
        using var stream = new MemoryStream();
        FitsFile.Write(stream, [FitsImage.HeaderOnly()]);
        stream.Position = 0;

        var e = Assert.Throws<IsrInputException>(() => DefectMap.Read(stream));

        Assert.Contains("defects", e.Message);
        Assert.Contains("no image", e.Message);
    }

    [Fact]
    public void Read_TruncatedFile_ThrowsTruncated()
    {
        using var full = new MemoryStream();
        FitsFile.Write(full, [Defects().Image]);
        var cut = new MemoryStream(full.ToArray()[..(int)(full.Length - 5000)]);

        var e = Assert.Throws<FitsFormatException>(() => DefectMap.Read(cut));

        Assert.Equal(FitsErrorKind.Truncated, e.Kind);
    }

    [Fact]
    public void Constructor_RunOutsideTheImage_Throws()
    {
        Assert.Throws<ArgumentException>(() => new DefectMap(10, 10, [new PixelSpan(3, 5, 10)]));
        Assert.Throws<ArgumentException>(() => new DefectMap(10, 10, [new PixelSpan(10, 0, 1)]));
        Assert.Throws<ArgumentException>(() => new DefectMap(10, 10, [new PixelSpan(2, 4, 3)]));
    }
}
