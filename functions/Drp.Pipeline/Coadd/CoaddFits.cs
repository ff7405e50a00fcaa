using System.Globalization;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Coadd;

/// <summary>
/// A coadd as FITS: a primary HDU with the patch, band, zero point and one card set per input (id, weight, box,
/// warped PSF), then IMAGE, MASK, VARIANCE and NIMAGE extensions, each with the patch's TAN WCS.
/// </summary>
public static class CoaddFits
{
    /// <summary>AB magnitude of 1 nJy: the coadd's pixels are nJy.</summary>
    public const double NanojanskyZeroPoint = 31.4;

    /// <summary>FITS keywords are 8 characters: INVIS001 … INVIS999.</summary>
    public const int MaxInputs = 999;

    public static IReadOnlyList<FitsImage> Hdus(Coadd coadd)
    {
        if (coadd.Inputs.Count > MaxInputs)
        {
            throw new ArgumentException($"{coadd.Patch} band {coadd.Band}: {coadd.Inputs.Count} inputs; the header holds at most {MaxInputs}");
        }
        var h = new FitsHeader();
        h.Set("TRACT", coadd.Patch.Tract.Id, "skymap tract");
        h.Set("PATCH", coadd.Patch.Index, "patch index x + 7 y in the tract");
        h.Set("PATCHX", coadd.Patch.X, "patch column in the tract");
        h.Set("PATCHY", coadd.Patch.Y, "patch row in the tract");
        h.Set("BAND", coadd.Band, "filter band");
        h.Set("BUNIT", "nJy", "pixel unit of the IMAGE extension");
        h.Set("MAGZERO", NanojanskyZeroPoint, "AB magnitude of 1 pixel unit (1 nJy)");
        h.Set("OUTERX0", coadd.Patch.Outer.X0, "[pixel] tract x of this image's pixel 0");
        h.Set("OUTERY0", coadd.Patch.Outer.Y0, "[pixel] tract y of this image's pixel 0");
        h.Set("INNERX0", coadd.Patch.Inner.X0 - coadd.Patch.Outer.X0, "[pixel] inner region's first column here");
        h.Set("INNERY0", coadd.Patch.Inner.Y0 - coadd.Patch.Outer.Y0, "[pixel] inner region's first row here");
        h.Set("INNERNX", coadd.Patch.Inner.Width, "[pixel] inner region's width");
        h.Set("INNERNY", coadd.Patch.Inner.Height, "[pixel] inner region's height");
        h.Set("NINPUTS", coadd.Inputs.Count, "calexps coadded (INVISnnn, INDETnnn, ...)");
        for (int k = 0; k < coadd.Inputs.Count; k++)
        {
            var input = coadd.Inputs[k];
            var psf = coadd.Psf.Components[k].Psf;
            string n = (k + 1).ToString("D3", CultureInfo.InvariantCulture);
            h.Set("INVIS" + n, input.Visit, "input visit");
            h.Set("INDET" + n, input.Detector, "input detector");
            h.Set("INWGT" + n, input.Weight, "[nJy^-2] input weight, 1 / clipped mean variance");
            h.Set("INBOX" + n, $"{input.Box.X0} {input.Box.Y0} {input.Box.Width} {input.Box.Height}", "input's pixel box: x0 y0 width height");
            h.Set("INCLP" + n, input.ClippedPixels, "input pixels compare-warp masked CLIPPED");
            h.Set("INPSF" + n, string.Create(CultureInfo.InvariantCulture, $"{psf.Qxx:R} {psf.Qyy:R} {psf.Qxy:R} {psf.Beta:R}"),
                "warped Moffat PSF: Qxx Qyy Qxy beta");
        }
        var primary = FitsImage.HeaderOnly(h);

        var wcs = coadd.Patch.Wcs;
        FitsHeader Plane(string name) => wcs.WriteTo(new FitsHeader().Set("EXTNAME", name));
        var mask = FitsImage.FromUInt16(coadd.Width, coadd.Height, FitsBitpix.Int32, MaskPlanes.DescribeIn(Plane("MASK")), coadd.Mask);
        var nImage = FitsImage.FromUInt16(coadd.Width, coadd.Height, FitsBitpix.Int32, Plane("NIMAGE"), coadd.NImage);
        return
        [
            primary,
            new FitsImage(coadd.Width, coadd.Height, FitsBitpix.Float32, Plane("IMAGE"), coadd.Image),
            mask,
            new FitsImage(coadd.Width, coadd.Height, FitsBitpix.Float32, Plane("VARIANCE"), coadd.Variance),
            nImage,
        ];
    }

    public static void Write(string path, Coadd coadd) => FitsFile.Write(path, Hdus(coadd));

    /// <summary>Reads a coadd <see cref="Hdus"/> wrote, on <paramref name="skyMap"/>'s patch named in the header.</summary>
    public static Coadd Read(IReadOnlyList<FitsImage> hdus, RingsSkyMap skyMap, string name)
    {
        if (hdus.Count < 5)
        {
            throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"{name}: a coadd has 5 HDUs (primary, IMAGE, MASK, VARIANCE, NIMAGE), this file {hdus.Count}");
        }
        var h = hdus[0].Header;
        var patch = skyMap.Tract(h.GetInt("TRACT")).Patch(h.GetInt("PATCH"));
        FitsImage Plane(string extname) =>
            hdus.FirstOrDefault(x => x.Name?.Trim() == extname) ?? throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"{name}: no {extname} extension");
        var image = Plane("IMAGE");
        if (image.Width != patch.Outer.Width || image.Height != patch.Outer.Height)
        {
            throw new FitsFormatException(FitsErrorKind.InvalidValue, $"{name}: {image.Width} x {image.Height} is not {patch}'s outer box");
        }
        var inputs = new List<CoaddInput>();
        var components = new List<(double, PixelBox, MoffatPsf)>();
        for (int k = 1; k <= h.GetInt("NINPUTS"); k++)
        {
            string n = k.ToString("D3", CultureInfo.InvariantCulture);
            var box = h.GetString("INBOX" + n)!.Split(' ').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var q = h.GetString("INPSF" + n)!.Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var pixelBox = new PixelBox(box[0], box[1], box[2], box[3]);
            double weight = h.GetDouble("INWGT" + n);
            inputs.Add(new CoaddInput(h.GetLong("INVIS" + n), h.GetInt("INDET" + n), weight, pixelBox, h.GetInt("INCLP" + n), 0));
            components.Add((weight, pixelBox, new MoffatPsf(q[0], q[1], q[2], q[3], 0)));
        }
        return new Coadd(patch, h.GetString("BAND")!.Trim(), image.Width, image.Height, image.Pixels, Plane("VARIANCE").Pixels,
            ToUInt16(Plane("MASK").Pixels), ToUInt16(Plane("NIMAGE").Pixels), inputs, new CoaddPsf(components));
    }

    private static ushort[] ToUInt16(float[] values)
    {
        var result = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = (ushort)values[i];
        }
        return result;
    }
}
