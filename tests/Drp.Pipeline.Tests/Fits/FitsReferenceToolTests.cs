using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Tests.Fits;

/// <summary>
/// Our files checked by the reference tools (fitsverify, astropy), and astropy's files read by our reader.
/// These need the Debian packages fitsverify and python3-astropy; without them the tests fail, naming the package.
/// </summary>
public sealed class FitsReferenceToolTests
{
    /// <summary>
    /// A header with every kind of value the writer formats, a long string and commentary. No undefined value:
    /// it is legal FITS, but fitsverify warns about it (tested with astropy alone below).
    /// </summary>
    private static FitsHeader RichHeader(string name) => new FitsHeader()
        .Set("EXTNAME", name, "extension name")
        .Set("OBJECT", "O'Brien field", "with a quote")
        .Set("FILTER", "r")
        .Set("FLAG", true, "a logical")
        .Set("NOFLAG", false)
        .Set("VISIT", 2026112700123L, "big integer")
        .Set("NEGATIVE", -42L)
        .Set("EXPTIME", 30.0, "seconds")
        .Set("THIRD", 1.0 / 3.0)
        .Set("GAIN", 1.0e-7)
        .Set("BIG", 1.0e20)
        .Set("TINY", -2.5e-300)
        .Set("DATE-OBS", "2026-11-27T08:21:10.123")
        .Set("PROVNOTE", "raw frame simulated with a Moffat PSF, seeing 0.7 arcsec; sky 1200 e-/pix; it's a long value " +
            "that needs CONTINUE cards && more", "long string")
        .AddComment("a comment card")
        .AddHistory("a history card");

    [Theory]
    [InlineData(FitsBitpix.UInt8)]
    [InlineData(FitsBitpix.Int16)]
    [InlineData(FitsBitpix.Int32)]
    [InlineData(FitsBitpix.Float32)]
    [InlineData(FitsBitpix.Float64)]
    public async Task Write_EveryBitpix_PassesFitsverifyAndAstropyReadsEveryPixelAndCard(FitsBitpix bitpix)
    {
        using var temp = new TempDirectory();
        string path = temp.File($"bitpix{(int)bitpix}.fits");
        var image = FitsTestData.Image(37, 23, bitpix, RichHeader("IMG"));
        FitsFile.Write(path, [image]);

        await FitsReferenceTools.AssertFitsVerifyCleanAsync(path);
        var astropy = Assert.Single(await FitsReferenceTools.ReadWithAstropyAsync(path, temp));

        AssertAstropyMatches(image, astropy, $"BITPIX {(int)bitpix}");
    }

    [Theory]
    [InlineData(FitsBitpix.Int16, 32768.0, 1.0, "uint16")]
    [InlineData(FitsBitpix.Int16, 100.0, 0.5, "float32")]
    // Not BITPIX 8 with BZERO -128 (signed bytes): astropy 5.2 fails to scale it (casting error in
    // _get_scaled_image_data); our own round-trip tests cover it.
    [InlineData(FitsBitpix.UInt8, 10.0, 0.5, "float32")]
    [InlineData(FitsBitpix.Int32, 2147483648.0, 1.0, "uint32")]
    [InlineData(FitsBitpix.Int32, 5.0, 0.25, "float64")]
    public async Task Write_ScaledIntegers_AstropyReadsThePhysicalValues(FitsBitpix bitpix, double bzero, double bscale, string astropyType)
    {
        using var temp = new TempDirectory();
        string path = temp.File("scaled.fits");
        // Physical values on the grid BZERO + BSCALE * stored, covering the stored type's whole range.
        var stored = FitsTestData.Image(40, 30, bitpix);
        float[] physical = [.. stored.Pixels.Select(s => (float)(bzero + bscale * s))];
        // Exactness in float: uint32 values near 2^32 are not all floats, so keep that case to small offsets.
        if (astropyType == "uint32")
        {
            physical = [.. Enumerable.Range(0, physical.Length).Select(i => (float)(i * 4096.0))];
        }
        // Integral BZERO as an integer, as raw frames have it.
        object zero = bzero == Math.Floor(bzero) ? (long)bzero : bzero;
        var header = new FitsHeader().Set("BZERO", zero).Set("BSCALE", bscale).Set("EXTNAME", "RAW");
        var image = new FitsImage(40, 30, bitpix, header, physical);
        FitsFile.Write(path, [image]);

        await FitsReferenceTools.AssertFitsVerifyCleanAsync(path);
        var astropy = Assert.Single(await FitsReferenceTools.ReadWithAstropyAsync(path, temp));

        Assert.Equal(astropyType, astropy.DType);
        AssertAstropyMatches(image, astropy, $"BITPIX {(int)bitpix} BZERO {bzero} BSCALE {bscale}");
    }

    [Fact]
    public async Task Write_MultiExtension_PassesFitsverifyAndAstropyReadsEveryHdu()
    {
        using var temp = new TempDirectory();
        string path = temp.File("mef.fits");
        FitsImage[] hdus =
        [
            FitsImage.HeaderOnly(new FitsHeader().Set("TELESCOP", "Rubin", "telescope").Set("VISIT", 12345L).AddHistory("mef test")),
            FitsTestData.Image(64, 48, FitsBitpix.Float32, RichHeader("SCI"), seed: 2),
            FitsTestData.Image(64, 48, FitsBitpix.Int32, new FitsHeader().Set("EXTNAME", "MASK").Set("MP_SAT", 1L), seed: 3),
            FitsTestData.Image(64, 48, FitsBitpix.Float64, new FitsHeader().Set("EXTNAME", "VARIANCE"), seed: 4),
            FitsTestData.Image(10, 5, FitsBitpix.Int16, new FitsHeader().Set("EXTNAME", "RAW").Set("BZERO", 32768L).Set("BSCALE", 1L), seed: 5),
        ];
        hdus[4].Pixels.AsSpan().Fill(65535);
        FitsFile.Write(path, hdus);

        await FitsReferenceTools.AssertFitsVerifyCleanAsync(path);
        var astropy = await FitsReferenceTools.ReadWithAstropyAsync(path, temp);

        Assert.Equal(hdus.Length, astropy.Count);
        Assert.Equal(["PRIMARY", "SCI", "MASK", "VARIANCE", "RAW"], astropy.Select(h => h.Name));
        for (int i = 0; i < hdus.Length; i++)
        {
            AssertAstropyMatches(hdus[i], astropy[i], $"HDU {i}");
        }
        Assert.Equal(["SIMPLE", "BITPIX", "NAXIS", "EXTEND"], astropy[0].Cards.Take(4).Select(c => c.Key));
        Assert.Equal(["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT"], astropy[2].Cards.Take(7).Select(c => c.Key));
    }

    [Fact]
    public async Task Write_UndefinedValue_AstropyReadsItAsUndefined()
    {
        using var temp = new TempDirectory();
        string path = temp.File("undefined.fits");
        var header = new FitsHeader().Set("BEFORE", 1L).Add(new FitsCard("UNDEF", null, "undefined value")).Set("AFTER", "x");
        FitsFile.Write(path, [FitsImage.HeaderOnly(header)]);

        var astropy = Assert.Single(await FitsReferenceTools.ReadWithAstropyAsync(path, temp));

        AssertAstropyMatches(FitsImage.HeaderOnly(header), astropy, "undefined value");
    }

    [Fact]
    public async Task Read_AstropyFloat32WithLongStringAndNan_GivesAstropysPixelsAndCards()
    {
        using var temp = new TempDirectory();
        await FitsReferenceTools.WriteSamplesWithAstropyAsync(temp);
        string path = temp.File("float32.fits");
        var astropy = Assert.Single(await FitsReferenceTools.ReadWithAstropyAsync(path, temp));

        var ours = Assert.Single(FitsFile.Read(path));
        var headers = FitsFile.ReadHeaders(path);

        Assert.Equal(FitsBitpix.Float32, ours.Bitpix);
        Assert.Equal([40L, 50L], astropy.Shape);
        Assert.Equal((50, 40), (ours.Width, ours.Height));
        AssertPixels(astropy.Pixels!, ours.Pixels, narrowed: false, "float32.fits");
        Assert.True(float.IsNaN(ours[7, 3]));
        FitsReferenceTools.AssertSameCards(Assert.Single(headers).Header, astropy.Cards, "float32.fits, all cards");
        Assert.StartsWith(new string('x', 50) + " it's a long string ", ours.Header.GetString("LONGSTR"));
    }

    [Fact]
    public async Task Read_AstropyUnsigned16_AppliesBzeroToTheFullRange()
    {
        using var temp = new TempDirectory();
        await FitsReferenceTools.WriteSamplesWithAstropyAsync(temp);
        string path = temp.File("uint16.fits");
        var astropy = Assert.Single(await FitsReferenceTools.ReadWithAstropyAsync(path, temp));

        var ours = Assert.Single(FitsFile.Read(path));

        Assert.Equal("uint16", astropy.DType);
        Assert.Equal(FitsBitpix.Int16, ours.Bitpix);
        Assert.Equal(32768.0, ours.Header.GetDouble("BZERO"));
        Assert.Equal((0f, 65535f), (ours.Pixels[0], ours.Pixels[1]));
        AssertPixels(astropy.Pixels!, ours.Pixels, narrowed: false, "uint16.fits");
        FitsReferenceTools.AssertSameCards(Assert.Single(FitsFile.ReadHeaders(path)).Header, astropy.Cards, "uint16.fits");
    }

    [Fact]
    public async Task Read_AstropyMultiExtension_GivesEveryHduWithItsName()
    {
        using var temp = new TempDirectory();
        await FitsReferenceTools.WriteSamplesWithAstropyAsync(temp);
        string path = temp.File("mef.fits");
        var astropy = await FitsReferenceTools.ReadWithAstropyAsync(path, temp);

        var ours = FitsFile.Read(path);
        var headers = FitsFile.ReadHeaders(path);

        Assert.Equal(5, ours.Count);
        Assert.Equal([null, "SCI", "MASK", "VAR", "BYTES"], ours.Select(h => h.Name));
        Assert.Equal([FitsBitpix.UInt8, FitsBitpix.Float32, FitsBitpix.Int32, FitsBitpix.Float64, FitsBitpix.UInt8], ours.Select(h => h.Bitpix));
        for (int i = 0; i < ours.Count; i++)
        {
            FitsReferenceTools.AssertSameCards(headers[i].Header, astropy[i].Cards, $"mef.fits HDU {i}");
            if (i > 0)
            {
                Assert.Equal(astropy[i].Shape, [ours[i].Height, ours[i].Width]);
                // VAR is float64: our float pixels are astropy's values narrowed to float.
                AssertPixels(astropy[i].Pixels!, ours[i].Pixels, narrowed: ours[i].Bitpix == FitsBitpix.Float64, $"mef.fits HDU {i}");
            }
        }
        Assert.Equal("Rubin", ours[0].Header["TELESCOP"]);
    }

    private static void AssertAstropyMatches(FitsImage written, AstropyHdu astropy, string context)
    {
        var userCards = astropy.Cards.Where(c => !FitsReferenceTools.IsStructural(c.Key));
        FitsReferenceTools.AssertSameCards(written.Header, userCards, context);
        if (written.Pixels.Length == 0)
        {
            Assert.Null(astropy.Pixels);
            return;
        }
        Assert.Equal([written.Height, written.Width], astropy.Shape);
        AssertPixels(astropy.Pixels!, written.Pixels, narrowed: false, context);
    }

    /// <summary>Every pixel equal; for float64 data <paramref name="narrowed"/> compares astropy's value cast to float.</summary>
    private static void AssertPixels(double[] astropy, float[] ours, bool narrowed, string context)
    {
        Assert.Equal(astropy.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++)
        {
            bool same = narrowed
                ? ((float)astropy[i]).Equals(ours[i])
                : astropy[i].Equals((double)ours[i]);
            Assert.True(same, $"{context}: pixel {i} is {ours[i]:R} here and {astropy[i]:R} in astropy");
        }
    }
}
