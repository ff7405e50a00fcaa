using System.Text.Json;
using Drp.Pipeline.Coadd;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tests.Fits;
using Drp.Pipeline.Tests.Tools;

namespace Drp.Pipeline.Tests.Coadd;

/// <summary>The coadd's FITS: fitsverify-clean, read by astropy with the same WCS and zero point, and read back whole.</summary>
public sealed class CoaddFitsTests
{
    private const string AstropyCheck = """
        import json, sys
        import numpy as np
        from astropy.io import fits
        from astropy.wcs import WCS
        with fits.open(sys.argv[1]) as f:
            out = {"names": [h.name for h in f], "bunit": f[0].header["BUNIT"], "magzero": f[0].header["MAGZERO"],
                   "ninputs": f[0].header["NINPUTS"], "shape": list(f["IMAGE"].data.shape)}
            w = WCS(f["IMAGE"].header)
            pts = [[0, 0], [2100, 2100], [4199, 17]]
            out["sky"] = w.all_pix2world(np.array(pts, dtype=float), 0).tolist()
            img = f["IMAGE"].data
            out["finite"] = int(np.isfinite(img).sum())
            out["sum"] = float(np.nansum(img.astype(np.float64)))
            out["nimage_max"] = int(f["NIMAGE"].data.max())
            out["mask_bits"] = {k: f["MASK"].header[k] for k in f["MASK"].header if k.startswith("MP_")}
        print(json.dumps(out))
        """;

    [Fact]
    public async Task Write_Coadd_IsFitsVerifyCleanAndAstropyReadsItsWcsAndPixels()
    {
        var (patch, calexps, _) = CoaddTestData.Survey(10.0);
        var coadd = CoaddAssembler.Assemble(patch, "r", calexps.Select(c => c.Geometry).ToList(), calexps.Select(c => Warper.Warp(c, patch)!).ToList());
        using var temp = new TempDirectory();
        string path = temp.File("deep_coadd_r.fits");

        CoaddFits.Write(path, coadd);

        await FitsReferenceTools.AssertFitsVerifyCleanAsync(path);
        var result = await ExternalTool.RunAsync(ExternalTool.DebianPython, ["-c", AstropyCheck, path], "python3-astropy", TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.StandardOutput);
        var r = json.RootElement;
        Assert.Equal(["PRIMARY", "IMAGE", "MASK", "VARIANCE", "NIMAGE"], r.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("nJy", r.GetProperty("bunit").GetString());
        Assert.Equal(31.4, r.GetProperty("magzero").GetDouble());
        Assert.Equal(6, r.GetProperty("ninputs").GetInt32());
        Assert.Equal([4200, 4200], r.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        double[][] pts = [[0, 0], [2100, 2100], [4199, 17]];
        var sky = r.GetProperty("sky").EnumerateArray().ToList();
        for (int i = 0; i < pts.Length; i++)
        {
            var (ra, dec) = patch.Wcs.PixelToSky(pts[i][0], pts[i][1]);
            // 1e-9 deg = 4 µas: the same TAN projection, not just a close one.
            Assert.Equal(ra, sky[i][0].GetDouble(), 1e-9);
            Assert.Equal(dec, sky[i][1].GetDouble(), 1e-9);
        }
        Assert.Equal(coadd.Image.Count(float.IsFinite), r.GetProperty("finite").GetInt32());
        double sum = coadd.Image.Where(float.IsFinite).Sum(v => (double)v);
        Assert.Equal(sum, r.GetProperty("sum").GetDouble(), Math.Abs(sum) * 1e-6 + 1e-3);
        Assert.Equal(6, r.GetProperty("nimage_max").GetInt32());
        Assert.Equal(MaskPlanes.BitOf(MaskPlane.Clipped), r.GetProperty("mask_bits").GetProperty("MP_CLIPP").GetInt32());
    }

    [Fact]
    public void Read_WrittenCoadd_RoundTripsPlanesInputsAndPsf()
    {
        var (patch, calexps, _) = CoaddTestData.Survey(10.0);
        var coadd = CoaddAssembler.Assemble(patch, "r", calexps.Select(c => c.Geometry).ToList(), calexps.Select(c => Warper.Warp(c, patch)!).ToList());
        using var temp = new TempDirectory();
        string path = temp.File("deep_coadd_r.fits");
        CoaddFits.Write(path, coadd);

        var back = CoaddFits.Read(FitsFile.Read(path), RingsSkyMap.Dc2, path);

        Assert.Equal(coadd.Patch, back.Patch);
        Assert.Equal("r", back.Band);
        Assert.Equal(coadd.Image, back.Image);
        Assert.Equal(coadd.Variance, back.Variance);
        Assert.Equal(coadd.Mask, back.Mask);
        Assert.Equal(coadd.NImage, back.NImage);
        Assert.Equal(coadd.Inputs.Select(i => (i.Visit, i.Detector, i.Weight, i.Box, i.ClippedPixels)),
            back.Inputs.Select(i => (i.Visit, i.Detector, i.Weight, i.Box, i.ClippedPixels)));
        Assert.Equal(coadd.Psf.At(2100, 2100), back.Psf.At(2100, 2100));
    }
}
