using System.Globalization;
using Drp.Pipeline.Fits;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// One amplifier of a raw: where its data and serial overscan lie in its HDU and where the data go in the assembled
/// detector image (DETSEC, possibly flipped). Gain in electrons per ADU, read noise in electrons, SATURATE in raw ADU.
/// </summary>
public sealed record AmplifierGeometry(
    string Hdu,
    int HduIndex,
    PixelSection DataSec,
    PixelSection BiasSec,
    PixelSection DetSec,
    double Gain,
    double ReadNoise,
    double Saturate);

/// <summary>The assembled detector size and its amplifiers, read from a raw's headers.</summary>
public sealed record RawLayout(int Width, int Height, IReadOnlyList<AmplifierGeometry> Amplifiers, FitsHeader PrimaryHeader)
{
    /// <summary>
    /// Reads the layout of a raw: either a multi-extension file (primary header, then one HDU per amplifier with
    /// DATASEC, BIASSEC, DETSEC, GAIN, RDNOISE, SATURATE; the detector size from DETSIZE in the primary header, else
    /// the extent of the DETSECs) or a single HDU (DATASEC, BIASSEC, GAIN, RDNOISE, SATURATE and an optional TRIMSEC,
    /// default DATASEC, that becomes the whole detector).
    /// </summary>
    /// <exception cref="IsrInputException">A keyword is missing or unusable, or a section is outside its image.</exception>
    public static RawLayout FromRaw(IReadOnlyList<FitsImage> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return FromRaw(RawFrame.FromImages(raw).Hdus);
    }

    /// <inheritdoc cref="FromRaw(IReadOnlyList{FitsImage})"/>
    public static RawLayout FromRaw(IReadOnlyList<FitsImageHeader> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.Count == 0)
        {
            throw new IsrInputException("raw", null, null, "no HDUs");
        }
        if (raw.Count == 1)
        {
            return FromSingleHdu(raw[0]);
        }
        var amps = new List<AmplifierGeometry>(raw.Count - 1);
        for (int i = 1; i < raw.Count; i++)
        {
            var hdu = raw[i];
            string name = HduName(hdu, i);
            var data = Section(hdu, name, "DATASEC");
            var bias = Section(hdu, name, "BIASSEC");
            var det = Section(hdu, name, "DETSEC", checkInside: false);
            if (det.Width != data.Width || det.Height != data.Height)
            {
                throw new IsrInputException(name, "DETSEC", det.ToString(),
                    $"is {det.Width} x {det.Height} but DATASEC {data} is {data.Width} x {data.Height}");
            }
            CheckOverscanRows(name, data, bias);
            amps.Add(new AmplifierGeometry(name, i, data, bias, det,
                Positive(hdu, name, "GAIN"), NonNegative(hdu, name, "RDNOISE"), Number(hdu, name, "SATURATE")));
        }

        var primary = raw[0].Header;
        int width, height;
        string? detSize = primary.GetString("DETSIZE");
        if (detSize is not null)
        {
            if (!PixelSection.TryParse(detSize, out var ds) || ds.XMin != 0 || ds.YMin != 0)
            {
                throw new IsrInputException(HduName(raw[0], 0), "DETSIZE", detSize, "not a FITS section [1:nx,1:ny]");
            }
            (width, height) = (ds.Width, ds.Height);
        }
        else
        {
            width = amps.Max(a => a.DetSec.XMax) + 1;
            height = amps.Max(a => a.DetSec.YMax) + 1;
        }
        foreach (var a in amps)
        {
            if (!a.DetSec.FitsWithin(width, height))
            {
                throw new IsrInputException(a.Hdu, "DETSEC", a.DetSec.ToString(), $"outside the {width} x {height} detector");
            }
        }
        return new RawLayout(width, height, amps, primary);
    }

    private static RawLayout FromSingleHdu(FitsImageHeader hdu)
    {
        string name = HduName(hdu, 0);
        var data = Section(hdu, name, "DATASEC");
        var bias = Section(hdu, name, "BIASSEC");
        string trimKey = hdu.Header.Contains("TRIMSEC") ? "TRIMSEC" : "DATASEC";
        var trim = trimKey == "TRIMSEC" ? Section(hdu, name, "TRIMSEC") : data;
        if (trim.FlipX || trim.FlipY)
        {
            throw new IsrInputException(name, trimKey, trim.ToString(), "must not be flipped in a single-HDU raw");
        }
        CheckOverscanRows(name, trim, bias);
        var det = new PixelSection(1, trim.Width, 1, trim.Height);
        var amp = new AmplifierGeometry(name, 0, trim, bias, det,
            Positive(hdu, name, "GAIN"), NonNegative(hdu, name, "RDNOISE"), Number(hdu, name, "SATURATE"));
        return new RawLayout(trim.Width, trim.Height, [amp], hdu.Header);
    }

    internal static string HduName(FitsImageHeader hdu, int index) =>
        hdu.Name is { } ext ? $"raw HDU {index} (EXTNAME={ext})" : $"raw HDU {index}";

    private static PixelSection Section(FitsImageHeader hdu, string name, string key, bool checkInside = true)
    {
        string? text = hdu.Header.GetString(key);
        if (text is null)
        {
            throw new IsrInputException(name, key, null, "missing");
        }
        if (!PixelSection.TryParse(text, out var s))
        {
            throw new IsrInputException(name, key, text, "not a FITS section [x1:x2,y1:y2]");
        }
        if (checkInside && !s.FitsWithin(hdu.Width, hdu.Height))
        {
            throw new IsrInputException(name, key, text, $"outside the {hdu.Width} x {hdu.Height} image");
        }
        return s;
    }

    private static void CheckOverscanRows(string name, PixelSection data, PixelSection bias)
    {
        if (bias.YMin > data.YMin || bias.YMax < data.YMax)
        {
            throw new IsrInputException(name, "BIASSEC", bias.ToString(),
                $"rows {bias.YMin + 1}-{bias.YMax + 1} do not cover the data rows {data.YMin + 1}-{data.YMax + 1} (per-row overscan)");
        }
    }

    private static double Number(FitsImageHeader hdu, string name, string key)
    {
        if (!hdu.Header.TryGetDouble(key, out double v) || !double.IsFinite(v))
        {
            throw new IsrInputException(name, key, hdu.Header.GetString(key), "missing or not a finite number");
        }
        return v;
    }

    private static double Positive(FitsImageHeader hdu, string name, string key)
    {
        double v = Number(hdu, name, key);
        return v > 0 ? v : throw new IsrInputException(name, key, v.ToString(CultureInfo.InvariantCulture), "must be positive");
    }

    private static double NonNegative(FitsImageHeader hdu, string name, string key)
    {
        double v = Number(hdu, name, key);
        return v >= 0 ? v : throw new IsrInputException(name, key, v.ToString(CultureInfo.InvariantCulture), "must not be negative");
    }
}
