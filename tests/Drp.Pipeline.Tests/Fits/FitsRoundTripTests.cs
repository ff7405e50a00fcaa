using System.Buffers.Binary;
using System.Diagnostics;
using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Tests.Fits;

public sealed class FitsRoundTripTests
{
    [Theory]
    [InlineData(FitsBitpix.UInt8)]
    [InlineData(FitsBitpix.Int16)]
    [InlineData(FitsBitpix.Int32)]
    [InlineData(FitsBitpix.Float32)]
    [InlineData(FitsBitpix.Float64)]
    public void Write_EveryBitpix_ReadsBackEveryPixelExactly(FitsBitpix bitpix)
    {
        var image = FitsTestData.Image(37, 23, bitpix);

        byte[] bytes = FitsTestData.ToBytes(image);
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.Equal(0, bytes.Length % 2880);
        Assert.Equal(bitpix, read.Bitpix);
        Assert.Equal((37, 23), (read.Width, read.Height));
        Assert.Equal(image.Pixels, read.Pixels);
    }

    [Fact]
    public void FromUInt16_WrittenAsInt32_ReadsBackEveryValueAndMakesFloatsOnlyWhenAsked()
    {
        // More values than the writer's chunk, so a chunk boundary falls inside the image; the extremes included.
        int w = 301, h = 300;
        var values = new ushort[w * h];
        var rng = new Random(5);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (ushort)rng.Next(0, 65536);
        }
        values[0] = 0;
        values[^1] = ushort.MaxValue;
        var header = new FitsHeader().Set("EXTNAME", "MASK");
        var image = FitsImage.FromUInt16(w, h, FitsBitpix.Int32, header, values);

        byte[] bytes = FitsTestData.ToBytes(FitsImage.HeaderOnly(), image);
        var read = FitsTestData.FromBytes(bytes)[1];

        Assert.Equal(FitsBitpix.Int32, read.Bitpix);
        Assert.Equal("MASK", read.Name);
        Assert.Equal(values.Select(v => (float)v), read.Pixels);
        Assert.Equal(values.Select(v => (float)v), image.Pixels);  // the float copy, on first use
        Assert.Equal(bytes, FitsTestData.ToBytes(FitsImage.HeaderOnly(), new FitsImage(w, h, FitsBitpix.Int32, header, read.Pixels)));
        Assert.Throws<ArgumentException>(() => FitsImage.FromUInt16(w, h - 1, FitsBitpix.Int32, null, values));
    }

    [Fact]
    public void Write_Float32_StoresBigEndianRowMajorAfterHeaderAndZeroPadding()
    {
        var image = new FitsImage(3, 2, FitsBitpix.Float32, pixels: [1, 2, 3, 4, 5, -0.5f]);

        byte[] bytes = FitsTestData.ToBytes(image);

        Assert.Equal(2 * 2880, bytes.Length);
        Assert.Equal(1f, BinaryPrimitives.ReadSingleBigEndian(bytes.AsSpan(2880)));
        Assert.Equal(4f, BinaryPrimitives.ReadSingleBigEndian(bytes.AsSpan(2880 + 12)));
        Assert.Equal(-0.5f, BinaryPrimitives.ReadSingleBigEndian(bytes.AsSpan(2880 + 20)));
        Assert.All(bytes.AsSpan(2880 + 24).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Write_Unsigned16WithBzero32768_StoresSignedAndReadsBackFullRange()
    {
        var header = new FitsHeader().Set("BZERO", 32768L).Set("BSCALE", 1L);
        var image = new FitsImage(4, 1, FitsBitpix.Int16, header, [0, 1, 32768, 65535]);

        byte[] bytes = FitsTestData.ToBytes(image);
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.Equal(-32768, BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(2880)));
        Assert.Equal(32767, BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(2880 + 6)));
        Assert.Equal(new float[] { 0, 1, 32768, 65535 }, read.Pixels);
        Assert.Equal(32768L, read.Header["BZERO"]);
    }

    [Fact]
    public void Write_Int16WithBzeroBscale_RoundsToNearestAndClampsToTheTypeRange()
    {
        var header = new FitsHeader().Set("BZERO", 100.0).Set("BSCALE", 0.5);
        // stored = (physical - 100) / 0.5: 100.26 -> 0.52 -> 1; 99.74 -> -0.52 -> -1; beyond the range clamps.
        var image = new FitsImage(4, 1, FitsBitpix.Int16, header, [100.26f, 99.74f, 1e9f, -1e9f]);

        var read = Assert.Single(FitsTestData.FromBytes(FitsTestData.ToBytes(image)));

        Assert.Equal(new float[] { 100.5f, 99.5f, 100 + 0.5f * 32767, 100 - 0.5f * 32768 }, read.Pixels);
    }

    [Theory]
    [InlineData(FitsBitpix.UInt8, -128.0, 1.0)]
    [InlineData(FitsBitpix.Int32, 1000000.0, 1.0)]
    [InlineData(FitsBitpix.Int32, 0.0, 0.25)]
    [InlineData(FitsBitpix.Float32, 10.0, 2.0)]
    [InlineData(FitsBitpix.Float64, -3.0, 0.5)]
    public void Write_ScaledBitpix_ReadsBackPhysicalValues(FitsBitpix bitpix, double bzero, double bscale)
    {
        // Values on the grid BZERO + BSCALE * k for small k are exact in every type and in float.
        float[] pixels = [.. Enumerable.Range(-50, 100).Select(k => (float)(bzero + bscale * (bitpix == FitsBitpix.UInt8 ? k + 50 : k)))];
        var header = new FitsHeader().Set("BZERO", bzero).Set("BSCALE", bscale);
        var image = new FitsImage(10, 10, bitpix, header, pixels);

        var read = Assert.Single(FitsTestData.FromBytes(FitsTestData.ToBytes(image)));

        Assert.Equal(pixels, read.Pixels);
    }

    [Fact]
    public void Write_NanInIntegerHduWithBlank_ReadsBackAsNan()
    {
        var header = new FitsHeader().Set("BLANK", -32768L);
        var image = new FitsImage(3, 1, FitsBitpix.Int16, header, [1, float.NaN, 3]);

        var read = Assert.Single(FitsTestData.FromBytes(FitsTestData.ToBytes(image)));

        Assert.Equal(new float[] { 1, float.NaN, 3 }, read.Pixels);
    }

    [Fact]
    public void Write_Int32WholeNumbersThenOtherValues_StoresEachAsTheFitsRulesSay()
    {
        // Three vectors of whole numbers (the vectorised path), then a tie, a value beyond int, NaN and more whole numbers.
        var pixels = Enumerable.Range(0, 40).Select(i => (float)(i % 2 == 0 ? i * 1000 : -i * 50_000_000)).ToArray();
        pixels[24] = 2.5f;
        pixels[25] = 3e9f;
        pixels[26] = float.NaN;
        pixels[27] = -0f;
        var image = new FitsImage(40, 1, FitsBitpix.Int32, new FitsHeader().Set("BLANK", -999L), pixels);

        byte[] bytes = FitsTestData.ToBytes(image);
        var stored = Enumerable.Range(0, 40).Select(i => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(2880 + 4 * i))).ToArray();

        for (int i = 0; i < 40; i++)
        {
            int expected = i switch { 24 => 2, 25 => int.MaxValue, 26 => -999, 27 => 0, _ => (int)pixels[i] };
            Assert.True(expected == stored[i], $"pixel {i}: stored {stored[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Write_NanInIntegerHduWithoutBlank_ThrowsArgumentException()
    {
        var image = new FitsImage(2, 1, FitsBitpix.Int32, pixels: [1, float.NaN]);

        var e = Assert.Throws<ArgumentException>(() => FitsTestData.ToBytes(image));

        Assert.Contains("BLANK", e.Message);
    }

    [Fact]
    public void Write_MultiExtension_PrimaryHasExtendAndExtensionsAreImages()
    {
        var primary = FitsImage.HeaderOnly(new FitsHeader().Set("TELESCOP", "Rubin").Set("VISIT", 12345L));
        var sci = FitsTestData.Image(20, 10, FitsBitpix.Float32, new FitsHeader().Set("EXTNAME", "SCI"));
        var mask = FitsTestData.Image(20, 10, FitsBitpix.Int32, new FitsHeader().Set("EXTNAME", "MASK"));
        var variance = FitsTestData.Image(20, 10, FitsBitpix.Float64, new FitsHeader().Set("EXTNAME", "VAR"));

        byte[] bytes = FitsTestData.ToBytes(primary, sci, mask, variance);
        var read = FitsTestData.FromBytes(bytes);

        Assert.Equal(4, read.Count);
        Assert.Equal((0, 0), (read[0].Width, read[0].Height));
        Assert.Equal("Rubin", read[0].Header["TELESCOP"]);
        Assert.Equal(["SCI", "MASK", "VAR"], read.Skip(1).Select(h => h.Name));
        Assert.Equal(sci.Pixels, read[1].Pixels);
        Assert.Equal(mask.Pixels, read[2].Pixels);
        Assert.Equal(variance.Pixels, read[3].Pixels);
        var primaryCards = FitsTestData.Cards(bytes);
        Assert.Equal(["SIMPLE", "BITPIX", "NAXIS", "EXTEND"], primaryCards.Take(4).Select(c => c[..8].Trim()));
        var extensionCards = FitsTestData.Cards(bytes, 2880);
        Assert.Equal(["XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "PCOUNT", "GCOUNT", "EXTNAME", "END"],
            extensionCards.Select(c => c[..8].Trim()));
        Assert.StartsWith("XTENSION= 'IMAGE   '", extensionCards[0]);
    }

    [Fact]
    public void Write_SingleHdu_HasNoExtendCard()
    {
        var cards = FitsTestData.Cards(FitsTestData.ToBytes(FitsTestData.Image(2, 2, FitsBitpix.Int16)));

        Assert.Equal(["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "END"], cards.Select(c => c[..8].Trim()));
    }

    [Fact]
    public void Write_UserCopiesOfStructuralKeywords_AreReplacedByTheGeneratedOnes()
    {
        var header = new FitsHeader()
            .Set("SIMPLE", false).Set("BITPIX", 8L).Set("NAXIS", 3L).Set("NAXIS1", 999L).Set("NAXIS3", 2L)
            .Set("EXTEND", false).Set("PCOUNT", 5L).Set("CHECKSUM", "stale").Set("OBJECT", "M31");
        var image = FitsTestData.Image(5, 4, FitsBitpix.Float32, header);

        byte[] bytes = FitsTestData.ToBytes(image);
        var cards = FitsTestData.Cards(bytes);
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.Equal(["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "OBJECT", "END"], cards.Select(c => c[..8].Trim()));
        Assert.Equal("BITPIX  =                  -32", cards[1][..30]);
        Assert.Equal("NAXIS1  =                    5", cards[3][..30]);
        Assert.Equal([new FitsCard("OBJECT", "M31")], read.Header);
    }

    [Fact]
    public void Write_HeaderValues_UseFixedFormatColumns()
    {
        var header = new FitsHeader()
            .Set("OBJECT", "O'Brien", "with a quote")
            .Set("FLAG", true)
            .Set("COUNT", -42L)
            .Set("EXPTIME", 30.0)
            .Set("GAIN", 1.0e-7)
            .Set("BIG", 1.0e20)
            .Add(new FitsCard("UNDEF", null, "no value"))
            .AddComment("a comment")
            .AddHistory("a history");

        var cards = FitsTestData.Cards(FitsTestData.ToBytes(FitsImage.HeaderOnly(header)));

        Assert.Equal("OBJECT  = 'O''Brien'           / with a quote", cards[3].TrimEnd());
        Assert.Equal("FLAG    =                    T", cards[4].TrimEnd());
        Assert.Equal("COUNT   =                  -42", cards[5].TrimEnd());
        Assert.Equal("EXPTIME =                 30.0", cards[6].TrimEnd());
        Assert.Equal("GAIN    =              1.0E-07", cards[7].TrimEnd());
        Assert.Equal("BIG     =              1.0E+20", cards[8].TrimEnd());
        Assert.Equal("UNDEF   =                      / no value", cards[9].TrimEnd());
        Assert.Equal("COMMENT a comment", cards[10].TrimEnd());
        Assert.Equal("HISTORY a history", cards[11].TrimEnd());
        Assert.All(cards, c => Assert.Equal(80, c.Length));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(-0.0)]
    [InlineData(1.0 / 3.0)]
    [InlineData(double.Epsilon)]
    [InlineData(double.MaxValue)]
    [InlineData(-1.2345678901234567e-300)]
    [InlineData(123456789.0)]
    [InlineData(1e15)]
    [InlineData(299792.458)]
    public void Write_DoubleValue_ReadsBackBitForBitAsDouble(double value)
    {
        var header = new FitsHeader().Set("VALUE", value);

        var read = Assert.Single(FitsTestData.FromBytes(FitsTestData.ToBytes(FitsImage.HeaderOnly(header))));

        var parsed = Assert.IsType<double>(read.Header["VALUE"]);
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(parsed));
    }

    [Fact]
    public void Write_ManyCards_SpansSeveralHeaderBlocksAndReadsBackInOrder()
    {
        var header = new FitsHeader();
        for (int i = 0; i < 500; i++)
        {
            header.Set($"KEY{i}", i % 3 == 0 ? $"value {i}" : i % 3 == 1 ? (object)(long)i : i + 0.5, $"card {i}");
        }
        header.AddHistory("last");
        var image = FitsTestData.Image(8, 8, FitsBitpix.Int16, header);

        byte[] bytes = FitsTestData.ToBytes(image);
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.Equal(header.ToList(), read.Header.ToList());
        Assert.Equal(image.Pixels, read.Pixels);
        // 5 mandatory + 501 user + END = 507 cards = 15 blocks, then one data block.
        Assert.Equal(16 * 2880, bytes.Length);
    }

    [Fact]
    public void Write_LongString_UsesContinueCardsAndLongstrnAndReadsBack()
    {
        string value = string.Concat(Enumerable.Range(0, 40).Select(i => $"part{i} it's & ")) + "end&";
        var header = new FitsHeader().Set("HISTSTR", value, "a long string").Set("AFTER", 1L);

        byte[] bytes = FitsTestData.ToBytes(FitsImage.HeaderOnly(header));
        var cards = FitsTestData.Cards(bytes);
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.Equal(value, read.Header["HISTSTR"]);
        Assert.True(read.Header.TryGetCard("HISTSTR", out var card));
        Assert.Equal("a long string", card.Comment);
        Assert.Equal(1L, read.Header["AFTER"]);
        Assert.Equal(["HISTSTR", "AFTER"], read.Header.Select(c => c.Key));
        Assert.Contains(cards, c => c.StartsWith("LONGSTRN= 'OGIP 1.0'", StringComparison.Ordinal));
        // 554 characters + 40 doubled quotes in pieces of at most 67: 9 cards; the comment does not fit the last,
        // so it gets a final empty CONTINUE card (and the value's own trailing '&' survives).
        Assert.Equal(9, cards.Count(c => c.StartsWith("CONTINUE  '", StringComparison.Ordinal)));
        Assert.Equal("CONTINUE  '' / a long string", cards.Last(c => c.StartsWith("CONTINUE", StringComparison.Ordinal)).TrimEnd());
        Assert.All(cards, c => Assert.Equal(80, c.Length));
    }

    [Fact]
    public void Write_LongStringWithLongComment_PutsTheCommentOnAFinalContinueCard()
    {
        string value = new('x', 67 + 67);
        string comment = new('c', 50);
        var header = new FitsHeader().Set("LONG", value, comment);

        byte[] bytes = FitsTestData.ToBytes(FitsImage.HeaderOnly(header));
        var read = Assert.Single(FitsTestData.FromBytes(bytes));

        Assert.True(read.Header.TryGetCard("LONG", out var card));
        Assert.Equal(value, card.Value);
        Assert.Equal(comment, card.Comment);
    }

    [Fact]
    public void Write_StringOf68Characters_FitsOneCardWithoutContinue()
    {
        string value = new('a', 68);

        var cards = FitsTestData.Cards(FitsTestData.ToBytes(FitsImage.HeaderOnly(new FitsHeader().Set("S", value))));

        Assert.Equal($"S       = '{value}'", cards[3]);
        Assert.DoesNotContain(cards, c => c.StartsWith("CONTINUE", StringComparison.Ordinal) || c.StartsWith("LONGSTRN", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_LongCommentaryText_IsSplitOverSeveralCards()
    {
        string text = new string('h', 100);

        var read = Assert.Single(FitsTestData.FromBytes(FitsTestData.ToBytes(FitsImage.HeaderOnly(new FitsHeader().AddHistory(text)))));

        Assert.Equal([new string('h', 72), new string('h', 28)], read.Header.Select(c => c.Comment));
    }

    [Theory]
    [InlineData("KEY", "caf\u00e9")]
    [InlineData("KEY", "tab\there")]
    [InlineData("BAD KEY", "x")]
    [InlineData("KEY.A", "x")]
    public void Write_TextFitsCannotHold_ThrowsArgumentExceptionNamingTheKeyword(string key, string value)
    {
        var header = new FitsHeader().Add(new FitsCard(key, value));

        var e = Assert.Throws<ArgumentException>(() => FitsTestData.ToBytes(FitsImage.HeaderOnly(header)));

        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Write_NanKeywordValue_ThrowsArgumentException()
    {
        var header = new FitsHeader().Set("BAD", double.NaN);

        Assert.Throws<ArgumentException>(() => FitsTestData.ToBytes(FitsImage.HeaderOnly(header)));
    }

    [Fact]
    public void WriteAndRead_FullDetectorInt16_RoundTripsEveryPixel()
    {
        // Speed is shown by `drp bench frame` (docs/benchmarks.md), not by a timed test.
        const int width = 4352, height = 4096;
        var header = new FitsHeader().Set("BZERO", 32768L).Set("BSCALE", 1L);
        var pixels = new float[width * height];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i * 7919) & 0xFFFF;
        }
        var image = new FitsImage(width, height, FitsBitpix.Int16, header, pixels);
        using var stream = new MemoryStream(capacity: width * height * 2 + 8 * 2880);

        FitsFile.Write(stream, [image]);
        stream.Position = 0;
        var back = FitsFile.Read(stream);

        Assert.Equal(2880 + (width * height * 2 + 2879) / 2880 * 2880, stream.Length);
        Assert.Equal(pixels, back[0].Pixels);
    }
}
