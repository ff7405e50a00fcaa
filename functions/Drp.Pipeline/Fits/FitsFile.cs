namespace Drp.Pipeline.Fits;

/// <summary>Limits that protect a reader from hostile or broken files.</summary>
public sealed record FitsReadOptions
{
    /// <summary>Largest data unit a reader will allocate for, in bytes (default 4 GiB).</summary>
    public long MaxDataBytes { get; init; } = 4L << 30;

    /// <summary>Most header blocks (2880 bytes, 36 cards) read before giving up on finding END.</summary>
    public int MaxHeaderBlocks { get; init; } = 1000;

    public static FitsReadOptions Default { get; } = new();
}

/// <summary>Reads and writes FITS files of image HDUs (primary + IMAGE extensions).</summary>
public static class FitsFile
{
    /// <summary>Reads every HDU of the stream: the first is the primary HDU.</summary>
    public static IReadOnlyList<FitsImage> Read(Stream stream, FitsReadOptions? options = null) =>
        throw new NotImplementedException("FITS reader: being written (issue 3)");

    public static IReadOnlyList<FitsImage> Read(string path, FitsReadOptions? options = null)
    {
        using var s = File.OpenRead(path);
        return Read(s, options);
    }

    /// <summary>Writes the HDUs: the first as the primary HDU, the rest as IMAGE extensions.</summary>
    public static void Write(Stream stream, IReadOnlyList<FitsImage> hdus) =>
        throw new NotImplementedException("FITS writer: being written (issue 3)");

    public static void Write(string path, IReadOnlyList<FitsImage> hdus)
    {
        using var s = File.Create(path);
        Write(s, hdus);
    }
}
