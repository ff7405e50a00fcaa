using System.Runtime.Intrinsics;
using Drp.Pipeline.Fits;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// A defect mask (a non-zero or NaN value = a bad pixel) as the row runs of its bad pixels. A detector's defects are a
/// few columns and pixels, so this holds kilobytes where the image is a full plane; it is read from FITS a band of
/// rows at a time, so the plane never exists either.
/// </summary>
public sealed class DefectMap
{
    public DefectMap(int width, int height, IReadOnlyList<PixelSpan> runs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentNullException.ThrowIfNull(runs);
        foreach (var r in runs)
        {
            if (r.Y < 0 || r.Y >= height || r.X0 < 0 || r.X1 >= width || r.X0 > r.X1)
            {
                throw new ArgumentException($"run {r} lies outside {width} x {height}", nameof(runs));
            }
        }
        (Width, Height, Runs) = (width, height, runs);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The bad pixels, as runs along rows in raster order.</summary>
    public IReadOnlyList<PixelSpan> Runs { get; }

    /// <summary>The bad pixels of an image (non-zero or NaN).</summary>
    public static DefectMap FromImage(FitsImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var runs = new List<PixelSpan>();
        for (int y = 0; y < image.Height; y++)
        {
            AddRuns(image.Pixels.AsSpan(y * image.Width, image.Width), y, runs);
        }
        return new DefectMap(image.Width, image.Height, runs);
    }

    /// <summary>
    /// The bad pixels of the first HDU with pixels (as <see cref="Tasks.ProcessFrameTask.SingleImage"/> picks it),
    /// decoded a band of rows at a time. Throws <see cref="IsrInputException"/> when the file holds no image.
    /// </summary>
    public static DefectMap Read(FitsImageReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var image = reader.Images[Tasks.ProcessFrameTask.SingleImageIndex(reader.Images.Select(h => (h.Width, h.Height)).ToList(), "defects")];
        int w = image.Width;
        int band = Math.Clamp((1 << 18) / w, 1, image.Height);
        var rows = new float[band * w];
        var runs = new List<PixelSpan>();
        for (int y0 = 0; y0 < image.Height; y0 += band)
        {
            int n = Math.Min(band, image.Height - y0);
            reader.ReadRows(image.Index, y0, n, rows);
            for (int k = 0; k < n; k++)
            {
                AddRuns(rows.AsSpan(k * w, w), y0 + k, runs);
            }
        }
        return new DefectMap(w, image.Height, runs);
    }

    /// <inheritdoc cref="Read(FitsImageReader)"/>
    public static DefectMap Read(string path, FitsReadOptions? options = null)
    {
        using var reader = FitsFile.OpenImages(path, options);
        return Read(reader);
    }

    /// <inheritdoc cref="Read(FitsImageReader)"/>
    public static DefectMap Read(Stream stream, FitsReadOptions? options = null)
    {
        using var reader = FitsFile.OpenImages(stream, options);
        return Read(reader);
    }

    /// <summary>Appends the runs of non-zero (or NaN) values of <paramref name="row"/>, skipping zeros a vector at a time.</summary>
    private static void AddRuns(ReadOnlySpan<float> row, int y, List<PixelSpan> runs)
    {
        int x = 0;
        while (x < row.Length)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                while (x + Vector256<float>.Count <= row.Length && Vector256.EqualsAll(Vector256.Create(row.Slice(x, Vector256<float>.Count)), Vector256<float>.Zero))
                {
                    x += Vector256<float>.Count;
                }
            }
            if (x == row.Length)
            {
                break;
            }
            // NaN compares unequal to 0: a NaN defect value counts as bad, the cautious reading.
            if (row[x] == 0f)
            {
                x++;
                continue;
            }
            int x0 = x;
            while (x < row.Length && row[x] != 0f)
            {
                x++;
            }
            runs.Add(new PixelSpan(y, x0, x - 1));
        }
    }
}
