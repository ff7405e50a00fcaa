using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Tests.Wcs;

public sealed class TanWcsTests
{
    private const double OneMasDeg = 1.0 / 3600.0 / 1000.0;

    [Fact]
    public void PixelToSky_ReferencePixelZeroBased_ReturnsCrval()
    {
        var wcs = new TanWcs(61.9, -35.8, 1000.5, 2000.5, -5.5e-5, 0, 0, 5.5e-5);

        var (ra, dec) = wcs.PixelToSky(999.5, 1999.5);

        Assert.Equal(61.9, ra, 12);
        Assert.Equal(-35.8, dec, 12);
        Assert.Equal((999.5, 1999.5), wcs.ReferencePixel);
    }

    [Fact]
    public void Create_ImageCentre_MapsToRequestedCentreNorthUpEastLeft()
    {
        var wcs = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 4072, 4000);

        var (ra, dec) = wcs.PixelToSky(4071 / 2.0, 3999 / 2.0);
        var (raUp, decUp) = wcs.PixelToSky(4071 / 2.0, 3999 / 2.0 + 100);
        var (raRight, _) = wcs.PixelToSky(4071 / 2.0 + 100, 3999 / 2.0);

        Assert.True(TanWcs.AngularSeparationDegrees(ra, dec, 61.9, -35.8) < 1e-9);
        Assert.True(decUp > dec, "+y must point north");
        Assert.Equal(ra, raUp, 6);
        Assert.True(raRight < ra, "+x must point west (east left)");
        Assert.Equal(0.2, wcs.PixelScaleArcsec, 9);
    }

    [Fact]
    public void SkyToPixel_AfterPixelToSky_ReturnsSamePixel()
    {
        var wcs = TanWcs.Create(10.0, 80.0, 0.2, 33.0, 4072, 4000);
        var rng = new Random(5);

        for (int i = 0; i < 1000; i++)
        {
            double x = rng.NextDouble() * 6000 - 1000, y = rng.NextDouble() * 6000 - 1000;
            var (ra, dec) = wcs.PixelToSky(x, y);
            var (x2, y2) = wcs.SkyToPixel(ra, dec);
            Assert.Equal(x, x2, 1e-6);
            Assert.Equal(y, y2, 1e-6);
        }
    }

    [Fact]
    public void PixelToSky_FieldAcrossRaZero_ReturnsRaWrappedIntoRange()
    {
        var wcs = TanWcs.Create(0.01, -30.0, 0.2, 0.0, 4072, 4000);

        var (raLeft, _) = wcs.PixelToSky(0, 2000);
        var (raRight, _) = wcs.PixelToSky(4071, 2000);

        Assert.InRange(raLeft, 0.0, 1.0);
        Assert.InRange(raRight, 359.0, 360.0);
    }

    [Fact]
    public void SkyToPixel_RaGivenAsNegativeOrAbove360_GivesSamePixel()
    {
        var wcs = TanWcs.Create(0.01, -30.0, 0.2, 0.0, 4072, 4000);

        var a = wcs.SkyToPixel(359.95, -30.0);
        var b = wcs.SkyToPixel(-0.05, -30.0);
        var c = wcs.SkyToPixel(719.95, -30.0);

        Assert.Equal(a.X, b.X, 8);
        Assert.Equal(a.X, c.X, 8);
        Assert.Equal(a.Y, b.Y, 8);
    }

    [Fact]
    public void SkyToPixel_PointOnFarHemisphere_ReturnsNaN()
    {
        var wcs = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 100, 100);

        var (x, y) = wcs.SkyToPixel(241.9, 35.8);

        Assert.True(double.IsNaN(x) && double.IsNaN(y));
    }

    [Fact]
    public void FromHeader_AfterWriteTo_ReturnsSameTransform()
    {
        var wcs = new TanWcs(61.9, -35.8, 12.25, -7.5, -5.1e-5, 1.3e-6, -2.2e-6, 5.6e-5);
        var header = new FitsHeader().Set("PC1_1", 0.5).Set("CDELT1", 3.0);

        var back = TanWcs.FromHeader(wcs.WriteTo(header));

        Assert.False(header.Contains("PC1_1"));
        Assert.False(header.Contains("CDELT1"));
        Assert.Equal("ICRS", header.GetString("RADESYS"));
        Assert.Equal(2000.0, header.GetDouble("EQUINOX"));
        Assert.Equal(wcs.CrVal1, back.CrVal1);
        Assert.Equal(wcs.CrVal2, back.CrVal2);
        Assert.Equal(wcs.CrPix1, back.CrPix1);
        Assert.Equal(wcs.CrPix2, back.CrPix2);
        Assert.Equal(wcs.Cd12, back.Cd12);
        Assert.Equal(wcs.Cd21, back.Cd21);
    }

    [Fact]
    public void FromHeader_CdeltWithCrota2_EqualsCreateWithSameRotation()
    {
        var expected = TanWcs.Create(61.9, -35.8, 0.2, 25.0, 2000, 2000);
        var header = new FitsHeader()
            .Set("CTYPE1", "RA---TAN").Set("CTYPE2", "DEC--TAN")
            .Set("CRVAL1", 61.9).Set("CRVAL2", -35.8).Set("CRPIX1", 1000.5).Set("CRPIX2", 1000.5)
            .Set("CDELT1", -0.2 / 3600).Set("CDELT2", 0.2 / 3600).Set("CROTA2", 25.0);

        var wcs = TanWcs.FromHeader(header);

        var (ra1, dec1) = wcs.PixelToSky(10, 1900);
        var (ra2, dec2) = expected.PixelToSky(10, 1900);
        Assert.True(TanWcs.AngularSeparationDegrees(ra1, dec1, ra2, dec2) < OneMasDeg / 100);
    }

    [Theory]
    [InlineData("CRVAL1")]
    [InlineData("CRPIX2")]
    [InlineData("CTYPE1")]
    public void FromHeader_MandatoryKeywordMissing_ThrowsMissingKeyword(string key)
    {
        var header = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 100, 100).WriteTo(new FitsHeader());
        header.Remove(key);

        var e = Assert.Throws<FitsFormatException>(() => TanWcs.FromHeader(header));

        Assert.Equal(FitsErrorKind.MissingKeyword, e.Kind);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromHeader_NeitherCdNorCdelt_ThrowsMissingKeyword()
    {
        var header = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 100, 100).WriteTo(new FitsHeader());
        foreach (string k in new[] { "CD1_1", "CD1_2", "CD2_1", "CD2_2" })
        {
            header.Remove(k);
        }

        var e = Assert.Throws<FitsFormatException>(() => TanWcs.FromHeader(header));

        Assert.Equal(FitsErrorKind.MissingKeyword, e.Kind);
    }

    [Theory]
    [InlineData("CTYPE1", "RA---SIN")]
    [InlineData("CTYPE1", "RA---TAN-SIP")]
    [InlineData("CTYPE2", "GLAT-TAN")]
    [InlineData("CUNIT1", "rad")]
    [InlineData("RADESYS", "GAPPT")]
    [InlineData("CRVAL2", "north")]
    public void FromHeader_NotAPlainTanWcs_ThrowsInvalidValue(string key, string value)
    {
        var header = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 100, 100).WriteTo(new FitsHeader());
        header.Set(key, value);

        var e = Assert.Throws<FitsFormatException>(() => TanWcs.FromHeader(header));

        Assert.Equal(FitsErrorKind.InvalidValue, e.Kind);
    }

    [Fact]
    public void FromHeader_SingularCdMatrix_ThrowsInvalidValue()
    {
        var header = TanWcs.Create(61.9, -35.8, 0.2, 0.0, 100, 100).WriteTo(new FitsHeader());
        header.Set("CD1_1", 1e-5).Set("CD1_2", 1e-5).Set("CD2_1", 1e-5).Set("CD2_2", 1e-5);

        var e = Assert.Throws<FitsFormatException>(() => TanWcs.FromHeader(header));

        Assert.Equal(FitsErrorKind.InvalidValue, e.Kind);
    }

    [Fact]
    public void ForSubimage_Offset_MapsShiftedPixelsToSameSky()
    {
        var wcs = TanWcs.Create(61.9, -35.8, 0.2, 10.0, 4072, 4000);

        var sub = wcs.ForSubimage(509, 2000);

        var (ra1, dec1) = wcs.PixelToSky(600.25, 2100.75);
        var (ra2, dec2) = sub.PixelToSky(91.25, 100.75);
        Assert.True(TanWcs.AngularSeparationDegrees(ra1, dec1, ra2, dec2) < 1e-12);
    }
}
