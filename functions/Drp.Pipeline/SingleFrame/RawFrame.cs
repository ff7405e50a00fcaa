using Drp.Pipeline.Fits;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// A raw for <see cref="IsrTask"/>: every HDU's header and size at once, an amplifier's pixels when ISR reaches it.
/// From images in memory (<see cref="FromImages"/>) or straight from a file (<see cref="FromReader"/>): then ISR
/// reads one amplifier at a time into one reused array, instead of holding the whole raw (71 MB for an LSSTCam
/// detector) in memory first.
/// </summary>
public sealed class RawFrame
{
    private readonly Func<int, float[]?, float[]> _pixels;

    private RawFrame(IReadOnlyList<FitsImageHeader> hdus, Func<int, float[]?, float[]> pixels)
    {
        Hdus = hdus;
        _pixels = pixels;
    }

    /// <summary>The raw's HDUs, the first the primary one.</summary>
    public IReadOnlyList<FitsImageHeader> Hdus { get; }

    public FitsHeader PrimaryHeader => Hdus[0].Header;

    public static RawFrame FromImages(IReadOnlyList<FitsImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return new RawFrame([.. images.Select(FitsImageHeader.Of)], (index, _) => images[index].Pixels);
    }

    /// <summary>A raw read from <paramref name="reader"/> as ISR needs it; the reader must stay open until ISR is done.</summary>
    public static RawFrame FromReader(FitsImageReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new RawFrame(reader.Images, reader.ReadPixels);
    }

    /// <summary>
    /// The pixels of HDU <paramref name="index"/>, valid until the next call: they may be read into
    /// <paramref name="reuse"/>, an array the caller is done with.
    /// </summary>
    internal float[] Pixels(int index, float[]? reuse) => _pixels(index, reuse);
}
