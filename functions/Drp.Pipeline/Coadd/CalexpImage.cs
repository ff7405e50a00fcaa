using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Coadd;

/// <summary>
/// A calibrated exposure as step 3 reads it: planes in electrons, the WCS, the photometric scale and the PSF from
/// the headers <see cref="Tasks.ProcessFrameTask.CalexpHdus"/> writes.
/// </summary>
public sealed record CalexpImage(
    long Visit, int Detector, string Band, TanWcs Wcs, double NanojanskyPerElectron, MoffatPsf Psf,
    int Width, int Height, float[] Image, float[] Variance, ushort[] Mask)
{
    /// <summary>The calexp's id, size and WCS, which fix its valid region on any patch.</summary>
    public CalexpGeometry Geometry => new(Visit, Detector, Band, Wcs, Width, Height);

    /// <summary>The sky corners of the pixel grid's outer edges (the polygon the skymap overlaps).</summary>
    public IReadOnlyList<(double Ra, double Dec)> Corners() =>
    [
        Wcs.PixelToSky(-0.5, -0.5), Wcs.PixelToSky(Width - 0.5, -0.5),
        Wcs.PixelToSky(Width - 0.5, Height - 0.5), Wcs.PixelToSky(-0.5, Height - 0.5),
    ];

    /// <summary>
    /// Reads a calexp's HDUs (primary with VISIT, DETECTOR, BAND, NJYPERE, PSF*; IMAGE, MASK, VARIANCE with the WCS).
    /// Anything missing or unusable is an <see cref="InvalidCalexpException"/> naming <paramref name="name"/> and the reason.
    /// </summary>
    public static CalexpImage FromHdus(IReadOnlyList<FitsImage> hdus, string name)
    {
        if (hdus.Count == 0)
        {
            throw new InvalidCalexpException(name, "the file holds no HDU");
        }
        var primary = hdus[0].Header;
        FitsImage Plane(string extname) =>
            hdus.FirstOrDefault(h => string.Equals(h.Name?.Trim(), extname, StringComparison.Ordinal) && h.Width > 0)
            ?? throw new InvalidCalexpException(name, $"no {extname} extension");
        var image = Plane("IMAGE");
        var mask = Plane("MASK");
        var variance = Plane("VARIANCE");
        if (mask.Width != image.Width || mask.Height != image.Height || variance.Width != image.Width || variance.Height != image.Height)
        {
            throw new InvalidCalexpException(name, "the IMAGE, MASK and VARIANCE planes differ in size");
        }
        string band = primary.GetString("BAND")?.Trim() is { Length: > 0 } b ? b : throw new InvalidCalexpException(name, "no band (BAND keyword)");
        if (!primary.TryGetDouble("NJYPERE", out double njy) || !double.IsFinite(njy) || njy <= 0)
        {
            throw new InvalidCalexpException(name, "no zero point (NJYPERE keyword: nJy per electron)");
        }
        TanWcs wcs;
        try
        {
            wcs = TanWcs.FromHeader(image.Header);
        }
        catch (Exception e) when (e is FitsFormatException or ArgumentException)
        {
            throw new InvalidCalexpException(name, $"no WCS ({e.Message})");
        }
        if (!primary.TryGetLong("VISIT", out long visit) || !primary.TryGetLong("DETECTOR", out long detector))
        {
            throw new InvalidCalexpException(name, "no VISIT or DETECTOR keyword");
        }
        double[] q = new double[4];
        string[] keys = ["PSFQXX", "PSFQYY", "PSFQXY", "PSFBETA"];
        for (int i = 0; i < keys.Length; i++)
        {
            if (!primary.TryGetDouble(keys[i], out q[i]) || !double.IsFinite(q[i]))
            {
                throw new InvalidCalexpException(name, $"no PSF ({keys[i]} keyword)");
            }
        }
        if (q[0] <= 0 || q[1] <= 0 || q[0] * q[1] - q[2] * q[2] <= 0 || q[3] <= 1)
        {
            throw new InvalidCalexpException(name, "the PSF is not a valid Moffat (Q must be positive definite, beta > 1)");
        }
        var maskValues = new ushort[mask.Pixels.Length];
        var m = mask.Pixels;
        for (int i = 0; i < m.Length; i++)
        {
            maskValues[i] = (ushort)m[i];
        }
        return new CalexpImage(visit, (int)detector, band, wcs, njy, new MoffatPsf(q[0], q[1], q[2], q[3], 0),
            image.Width, image.Height, image.Pixels, variance.Pixels, maskValues);
    }
}

/// <summary>A calexp that step 3 cannot use (no WCS, zero point, band or PSF): bad input, reported by name with the reason.</summary>
public sealed class InvalidCalexpException(string name, string reason) : Exception($"{name}: {reason}")
{
    public string Name { get; } = name;

    public string Reason { get; } = reason;
}
