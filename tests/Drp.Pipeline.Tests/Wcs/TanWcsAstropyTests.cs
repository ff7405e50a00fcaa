using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Tests.Wcs;

/// <summary>TanWcs against astropy.wcs (wcslib) on 1000 random points each way, through a FITS file we wrote.</summary>
public sealed class TanWcsAstropyTests
{
    /// <summary>1 milliarcsecond, the agreement the pipeline needs (DP0.2 astrometry is good to ~10 mas).</summary>
    private const double OneMasDeg = 1.0 / 3600.0 / 1000.0;

    // Reads the header of one HDU and transforms both point lists with astropy, ZERO-based (origin 0).
    private const string Script = """
        import sys, warnings
        import numpy as np
        from astropy.io import fits
        from astropy.wcs import WCS
        warnings.simplefilter("ignore")
        path, hdu, pix_path, sky_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        w = WCS(fits.open(path)[hdu].header)
        pix = np.loadtxt(pix_path, ndmin=2)
        sky = np.loadtxt(sky_path, ndmin=2)
        ra, dec = w.all_pix2world(pix[:, 0], pix[:, 1], 0)
        x, y = w.all_world2pix(sky[:, 0], sky[:, 1], 0)
        for a, b in zip(ra, dec):
            print("%.17g %.17g" % (a, b))
        for a, b in zip(x, y):
            print("%.17g %.17g" % (a, b))
        """;

    [Fact]
    public async Task PixelToSkyAndSkyToPixel_CdHeader_MatchAstropyWithinOneMas()
    {
        var wcs = TanWcs.Create(61.9, -35.8, 0.2, 23.0, 4072, 4000);
        var header = wcs.WriteTo(new FitsHeader());

        await CompareWithAstropyAsync(header, wcs, seed: 1);
    }

    [Fact]
    public async Task PixelToSkyAndSkyToPixel_PcCdeltHeaderWithRotation_MatchAstropyWithinOneMas()
    {
        double s = 0.2 / 3600.0;
        double rho = 37.0 * Math.PI / 180.0;
        var header = new FitsHeader()
            .Set("CTYPE1", "RA---TAN").Set("CTYPE2", "DEC--TAN")
            .Set("CUNIT1", "deg").Set("CUNIT2", "deg")
            .Set("CRVAL1", 62.3).Set("CRVAL2", -36.1)
            .Set("CRPIX1", 1800.5).Set("CRPIX2", -250.25)
            .Set("CDELT1", -s).Set("CDELT2", s * 1.01)
            .Set("PC1_1", Math.Cos(rho)).Set("PC1_2", -Math.Sin(rho))
            .Set("PC2_1", Math.Sin(rho)).Set("PC2_2", Math.Cos(rho));
        var wcs = TanWcs.FromHeader(header);

        await CompareWithAstropyAsync(header, wcs, seed: 2);
    }

    [Fact]
    public async Task PixelToSkyAndSkyToPixel_FieldAcrossRaZero_MatchAstropyWithinOneMas()
    {
        var wcs = TanWcs.Create(359.9, 12.0, 0.2, -70.0, 4072, 4000);
        var header = wcs.WriteTo(new FitsHeader());

        await CompareWithAstropyAsync(header, wcs, seed: 3);
    }

    [Fact]
    public async Task PixelToSkyAndSkyToPixel_NonDefaultLonPole_MatchAstropyWithinOneMas()
    {
        var wcs = new TanWcs(120.0, 45.0, 100.0, 200.0, -5.5e-5, 1e-6, 2e-6, 5.5e-5, lonPole: 160.0);
        var header = wcs.WriteTo(new FitsHeader());

        await CompareWithAstropyAsync(header, wcs, seed: 4);
    }

    private static async Task CompareWithAstropyAsync(FitsHeader header, TanWcs wcs, int seed)
    {
        // Arrange: 1000 random pixels over and beyond a 4k detector, 1000 random sky points around the reference.
        var rng = new Random(seed);
        var pixels = Enumerable.Range(0, 1000).Select(_ => new[] { rng.NextDouble() * 5000 - 500, rng.NextDouble() * 5000 - 500 }).ToArray();
        var sky = Enumerable.Range(0, 1000).Select(_ =>
        {
            var (ra, dec) = wcs.PixelToSky(rng.NextDouble() * 5000 - 500, rng.NextDouble() * 5000 - 500);
            // Feed RA outside [0, 360) half of the time: both sides must wrap it.
            return new[] { rng.Next(2) == 0 ? ra : ra - 360.0, dec };
        }).ToArray();
        string dir = Directory.CreateTempSubdirectory("drp-wcs-").FullName;
        try
        {
            string fitsPath = Path.Combine(dir, "wcs.fits");
            FitsFile.Write(fitsPath, [new FitsImage(8, 8, FitsBitpix.Float32, header)]);
            string pixPath = Path.Combine(dir, "pix.txt");
            string skyPath = Path.Combine(dir, "sky.txt");
            ReferenceTools.WriteColumns(pixPath, pixels);
            ReferenceTools.WriteColumns(skyPath, sky);

            // Act
            var rows = ReferenceTools.ParseColumns(await ReferenceTools.RunPythonAsync(Script, fitsPath, "0", pixPath, skyPath));

            // Assert
            Assert.Equal(2000, rows.Length);
            double worstSky = 0, worstPix = 0;
            for (int i = 0; i < 1000; i++)
            {
                var (ra, dec) = wcs.PixelToSky(pixels[i][0], pixels[i][1]);
                Assert.InRange(ra, 0.0, 360.0);
                worstSky = Math.Max(worstSky, TanWcs.AngularSeparationDegrees(ra, dec, rows[i][0], rows[i][1]));

                var (x, y) = wcs.SkyToPixel(sky[i][0], sky[i][1]);
                double dPix = Math.Sqrt(Math.Pow(x - rows[1000 + i][0], 2) + Math.Pow(y - rows[1000 + i][1], 2));
                worstPix = Math.Max(worstPix, dPix * wcs.PixelScaleArcsec / 3600.0);
            }
            Assert.True(worstSky < OneMasDeg, $"pixel->sky differs from astropy by up to {worstSky * 3.6e6:F4} mas");
            Assert.True(worstPix < OneMasDeg, $"sky->pixel differs from astropy by up to {worstPix * 3.6e6:F4} mas");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
