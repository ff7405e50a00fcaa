using Drp.Pipeline.Fits;
using static Drp.Pipeline.Tests.Fits.FitsTestData;

namespace Drp.Pipeline.Tests.Fits;

/// <summary>
/// Broken files, generated here: each must give a <see cref="FitsFormatException"/> of the right kind, from
/// seekable and forward-only streams alike, and never another exception type or a giant allocation.
/// </summary>
public sealed class FitsCorruptFileTests
{
    private static byte[] ValidMef() => ToBytes(
        FitsImage.HeaderOnly(new FitsHeader().Set("TELESCOP", "Rubin")),
        Image(40, 30, FitsBitpix.Float32, new FitsHeader().Set("EXTNAME", "SCI")),
        Image(40, 30, FitsBitpix.Int16, new FitsHeader().Set("EXTNAME", "RAW")));

    private static byte[] Cut(byte[] bytes, int length) => bytes[..length];

    private static byte[] Replace(byte[] bytes, string oldCard, string newCard)
    {
        var copy = (byte[])bytes.Clone();
        string text = System.Text.Encoding.Latin1.GetString(copy);
        int at = text.IndexOf(oldCard, StringComparison.Ordinal);
        Assert.True(at >= 0 && at % 80 == 0, $"card '{oldCard}' not found at a card boundary");
        System.Text.Encoding.Latin1.GetBytes(newCard.PadRight(80)).CopyTo(copy, at);
        return copy;
    }

    private static List<string> With(List<string> cards, params string[] more) => [.. cards, .. more];

    private static List<string> Without(List<string> cards, string key) =>
        [.. cards.Where(c => !c.StartsWith(key.PadRight(8), StringComparison.Ordinal))];

    /// <summary>Name → (file, expected kind, text the message must contain).</summary>
    private static readonly Dictionary<string, (Func<byte[]> File, FitsErrorKind Kind, string Where)> Cases = new()
    {
        // Truncation at several points.
        ["empty stream"] = (() => [], FitsErrorKind.Truncated, "empty"),
        ["cut inside the first card"] = (() => Cut(ValidMef(), 40), FitsErrorKind.Truncated, "HDU 0"),
        ["cut one byte before the first header block ends"] = (() => Cut(ValidMef(), 2879), FitsErrorKind.Truncated, "HDU 0"),
        ["cut inside the extension header"] = (() => Cut(ValidMef(), 2880 + 1000), FitsErrorKind.Truncated, "HDU 1"),
        ["cut at the end of the extension header"] = (() => Cut(ValidMef(), 2 * 2880), FitsErrorKind.Truncated, "HDU 1"),
        ["cut inside the data"] = (() => Cut(ValidMef(), 2 * 2880 + 1001), FitsErrorKind.Truncated, "HDU 1"),
        ["cut inside the data padding"] = (() => Cut(ValidMef(), 2 * 2880 + 40 * 30 * 4 + 10), FitsErrorKind.Truncated, "HDU 1"),
        ["cut inside the last HDU's data"] = (() => Cut(ValidMef(), 6 * 2880 - 2000), FitsErrorKind.Truncated, "HDU 2"),
        ["cut one byte before the end"] = (() => Cut(ValidMef(), 6 * 2880 - 1), FitsErrorKind.Truncated, "HDU 2"),
        ["header of several blocks cut at a block boundary"] = (() => Cut(ToBytes(FitsImage.HeaderOnly(ManyCards(100))), 2880),
            FitsErrorKind.Truncated, "without an END card"),
        ["huge image declared, few bytes present"] = (() => RawHdu(PrimaryCards(-32, 30000, 30000), dataBytes: 2880),
            FitsErrorKind.Truncated, "HDU 0"),

        // Missing END.
        ["no END, data follows"] = (() => RawHdu(PrimaryCards(16, 100, 100), dataBytes: 20000, end: false),
            FitsErrorKind.MissingEnd, "no END card"),
        ["no END within MaxHeaderBlocks"] = (() => RawHdu(Enumerable.Repeat("COMMENT filler", 40 * 36), end: false),
            FitsErrorKind.MissingEnd, "MaxHeaderBlocks"),

        // Malformed cards.
        ["non-ASCII byte in a card"] = (() => RawHdu(With(PrimaryCards(8), "OBJECT  = 'caf\u00e9'")), FitsErrorKind.MalformedCard, "card 4"),
        ["tab in a card"] = (() => RawHdu(With(PrimaryCards(8), "OBJECT  =\t'x'")), FitsErrorKind.MalformedCard, "column 10"),
        ["value that is not a value"] = (() => RawHdu(With(PrimaryCards(8), "EXPTIME = thirty")), FitsErrorKind.MalformedCard, "EXPTIME"),
        ["two decimal points"] = (() => RawHdu(With(PrimaryCards(8), "EXPTIME = 1.2.3")), FitsErrorKind.MalformedCard, "'1.2.3'"),
        ["NaN as a value"] = (() => RawHdu(With(PrimaryCards(8), "EXPTIME = NaN")), FitsErrorKind.MalformedCard, "EXPTIME"),
        ["string without closing quote"] = (() => RawHdu(With(PrimaryCards(8), "OBJECT  = 'M31")), FitsErrorKind.MalformedCard, "closing quote"),
        ["text after a value"] = (() => RawHdu(With(PrimaryCards(8), "FLAG    = T F")), FitsErrorKind.MalformedCard, "FLAG"),
        ["lower-case keyword"] = (() => RawHdu(With(PrimaryCards(8), "object  = 'M31'")), FitsErrorKind.MalformedCard, "card 4"),
        ["CONTINUE without a string"] = (() => RawHdu(With(PrimaryCards(8), "LONG    = 'abc&'", "CONTINUE  42")),
            FitsErrorKind.MalformedCard, "CONTINUE"),
        ["garbage in a mandatory card"] = (() => Replace(ValidMef(), "NAXIS1  =", "NAXIS1  = 4O"), FitsErrorKind.MalformedCard, "NAXIS1"),

        // Mandatory keywords missing or invalid.
        ["not FITS at all"] = (() => RawHdu(["HELLO   = 'world'"]), FitsErrorKind.MissingKeyword, "SIMPLE"),
        ["SIMPLE = F"] = (() => RawHdu([Card("SIMPLE", "F"), .. PrimaryCards(8).Skip(1)]), FitsErrorKind.InvalidValue, "SIMPLE"),
        ["BITPIX missing"] = (() => RawHdu(Without(PrimaryCards(8, 2, 2), "BITPIX")), FitsErrorKind.MissingKeyword, "BITPIX"),
        ["NAXIS2 missing"] = (() => RawHdu(Without(PrimaryCards(8, 2, 2), "NAXIS2")), FitsErrorKind.MissingKeyword, "NAXIS2"),
        ["BITPIX 7"] = (() => RawHdu(PrimaryCards(7, 2, 2)), FitsErrorKind.InvalidValue, "BITPIX = 7"),
        ["BITPIX -16"] = (() => RawHdu(PrimaryCards(-16, 2, 2)), FitsErrorKind.InvalidValue, "BITPIX"),
        ["BITPIX as a string"] = (() => RawHdu([Card("SIMPLE", "T"), "BITPIX  = '16'", Card("NAXIS", "0")]), FitsErrorKind.InvalidValue, "BITPIX"),
        ["BITPIX as a real"] = (() => RawHdu([Card("SIMPLE", "T"), Card("BITPIX", "16.0"), Card("NAXIS", "0")]), FitsErrorKind.InvalidValue, "BITPIX"),
        ["negative NAXIS"] = (() => RawHdu(PrimaryCards(8, 2, 2).Select(c => c.StartsWith("NAXIS   ", StringComparison.Ordinal) ? Card("NAXIS", "-1") : c)),
            FitsErrorKind.InvalidValue, "NAXIS = -1"),
        ["NAXIS 1000"] = (() => RawHdu([Card("SIMPLE", "T"), Card("BITPIX", "8"), Card("NAXIS", "1000")]), FitsErrorKind.InvalidValue, "NAXIS"),
        ["negative NAXIS1"] = (() => RawHdu(PrimaryCards(16, -5, 10)), FitsErrorKind.InvalidValue, "NAXIS1 = -5"),
        ["negative NAXIS2 in an extension"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(ImageExtensionCards(16, 10, -1))),
            FitsErrorKind.InvalidValue, "HDU 1"),
        ["extension without PCOUNT"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(Without(ImageExtensionCards(16, 2, 2), "PCOUNT"), 8)),
            FitsErrorKind.MissingKeyword, "PCOUNT"),
        ["IMAGE extension with PCOUNT 5"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()),
                RawHdu(ImageExtensionCards(16, 2, 2).Select(c => c.StartsWith("PCOUNT", StringComparison.Ordinal) ? Card("PCOUNT", "5") : c), 8)),
            FitsErrorKind.InvalidValue, "PCOUNT"),
        ["END card lost: the next header runs into this one"] = (() => Replace(ValidMef(), "END     ", "ENX     "),
            FitsErrorKind.InvalidValue, "XTENSION"),
        ["second HDU starting with SIMPLE"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(PrimaryCards(8, 2, 2), 4)),
            FitsErrorKind.MissingKeyword, "XTENSION"),
        ["BZERO as a string"] = (() => RawHdu(With(PrimaryCards(16, 2, 2), "BZERO   = '32768'"), 8), FitsErrorKind.InvalidValue, "BZERO"),

        // Sizes that would need terabytes, or overflow 64 bits: refused before any allocation.
        ["10^9 x 10^9 BITPIX 16"] = (() => RawHdu(PrimaryCards(16, 1_000_000_000, 1_000_000_000)), FitsErrorKind.TooLarge, "MaxDataBytes"),
        ["10^18 cubed (overflows 64 bits)"] = (() => RawHdu(PrimaryCards(-64, 1_000_000_000_000_000_000, 1_000_000_000_000_000_000, 1_000_000_000_000_000_000)),
            FitsErrorKind.TooLarge, "2^100"),
        ["long.MaxValue x 2"] = (() => RawHdu(PrimaryCards(8, long.MaxValue, 2)), FitsErrorKind.TooLarge, "HDU 0"),
        ["10^5 x 10^5 BITPIX -64 (80 GB)"] = (() => RawHdu(PrimaryCards(-64, 100_000, 100_000)), FitsErrorKind.TooLarge, "HDU 0"),
        ["60000 x 60000 BITPIX 8: under 4 GiB on disk, too many pixels for one array"] = (() => RawHdu(PrimaryCards(8, 60_000, 60_000)),
            FitsErrorKind.TooLarge, "HDU 0"),
        ["huge extension after a valid primary"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(ImageExtensionCards(32, 3_000_000_000, 3_000_000_000))),
            FitsErrorKind.TooLarge, "HDU 1"),

        // Valid FITS this reader does not support.
        ["binary table"] = (() => Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(
            [
                "XTENSION= 'BINTABLE'", Card("BITPIX", "8"), Card("NAXIS", "2"), Card("NAXIS1", "4"), Card("NAXIS2", "2"),
                Card("PCOUNT", "0"), Card("GCOUNT", "1"), Card("TFIELDS", "1"), "TFORM1  = '1J      '",
            ], 8)), FitsErrorKind.Unsupported, "BINTABLE"),
        ["random groups"] = (() => RawHdu(With(PrimaryCards(-32, 0, 3, 1), Card("GROUPS", "T"), Card("PCOUNT", "2"), Card("GCOUNT", "4")), 4 * (2 + 3) * 4),
            FitsErrorKind.Unsupported, "random groups"),
        ["data cube"] = (() => RawHdu(PrimaryCards(8, 2, 2, 3), 12), FitsErrorKind.Unsupported, "NAXIS3 = 3"),
        ["BITPIX 64"] = (() => RawHdu(PrimaryCards(64, 2, 2), 32), FitsErrorKind.Unsupported, "BITPIX 64"),
    };

    private static FitsHeader ManyCards(int count)
    {
        var header = new FitsHeader();
        for (int i = 0; i < count; i++)
        {
            header.Set($"KEY{i}", (long)i);
        }
        return header;
    }

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    private static readonly FitsReadOptions SmallHeaderLimit = new() { MaxHeaderBlocks = 20 };

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Read_BrokenFile_ThrowsFitsFormatExceptionOfTheRightKind(string name)
    {
        var (file, kind, where) = Cases[name];
        byte[] bytes = file();

        var e = Assert.Throws<FitsFormatException>(() => FromBytes(bytes, SmallHeaderLimit));

        Assert.True(kind == e.Kind, $"{name}: expected {kind}, got {e.Kind}: {e.Message}");
        Assert.Contains(where, e.Message);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Read_BrokenFileFromForwardOnlyStream_ThrowsTheSameKind(string name)
    {
        var (file, kind, _) = Cases[name];
        byte[] bytes = file();

        var e = Assert.Throws<FitsFormatException>(() => FitsFile.Read(new ForwardOnlyStream(bytes), SmallHeaderLimit));

        Assert.True(kind == e.Kind, $"{name}: expected {kind}, got {e.Kind}: {e.Message}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ReadHeadersAndTryParse_BrokenFile_FailOnlyWithFitsFormatException(string name)
    {
        byte[] bytes = Cases[name].File();

        var headers = Record.Exception(() => FitsFile.ReadHeaders(new MemoryStream(bytes), SmallHeaderLimit));
        var prefix = Record.Exception(() => FitsHeaderReader.TryParse(bytes.AsSpan(0, Math.Min(bytes.Length, 4 * 2880)), out _, out _, SmallHeaderLimit));

        // ReadHeaders lists tables and cubes without reading them; anything else it rejects as a FitsFormatException.
        Assert.True(headers is null or FitsFormatException, $"{name}: {headers}");
        Assert.True(prefix is null or FitsFormatException, $"{name}: {prefix}");
    }

    [Fact]
    public void Read_MalformedCard_MessageNamesHduCardAndKeyword()
    {
        byte[] bytes = Concat(ToBytes(FitsImage.HeaderOnly()), RawHdu(With(ImageExtensionCards(8, 1, 1), "EXPTIME = 3O.0"), 1));

        var e = Assert.Throws<FitsFormatException>(() => FromBytes(bytes));

        Assert.Equal(FitsErrorKind.MalformedCard, e.Kind);
        Assert.Equal("HDU 1, card 8 (byte 3440), keyword 'EXPTIME': cannot parse value '3O.0' (not a string, logical, integer or real)", e.Message);
    }

    [Fact]
    public void Read_NoEndWithinDefaultLimit_GivesUpAfterMaxHeaderBlocks()
    {
        byte[] bytes = RawHdu(Enumerable.Repeat("COMMENT filler", 1001 * 36), end: false);

        var e = Assert.Throws<FitsFormatException>(() => FromBytes(bytes));

        Assert.Equal(FitsErrorKind.MissingEnd, e.Kind);
        Assert.Contains("first 1000 header blocks", e.Message);
    }

    [Fact]
    public void Read_DataWithinMaxDataBytesOfTheOptions_IsRefusedWhenTheLimitIsLower()
    {
        byte[] bytes = ToBytes(Image(100, 100, FitsBitpix.Float32));

        var e = Assert.Throws<FitsFormatException>(() => FromBytes(bytes, new FitsReadOptions { MaxDataBytes = 39_999 }));

        Assert.Equal(FitsErrorKind.TooLarge, e.Kind);
        Assert.Single(FromBytes(bytes, new FitsReadOptions { MaxDataBytes = 40_000 }));
    }

    [Fact]
    public void Read_EveryTruncationOfAValidFile_IsTruncatedOrEndsAtAnHduBoundary()
    {
        byte[] file = ValidMef();
        var boundaries = FitsFile.ReadHeaders(new MemoryStream(file)).Select(h => h.NextHduOffset).ToHashSet();

        var lengths = Enumerable.Range(0, file.Length / 97 + 1).Select(i => i * 97L).Concat(boundaries.Where(b => b < file.Length));

        foreach (int length in lengths.Select(l => (int)l))
        {
            var e = Record.Exception(() => FromBytes(file[..length]));
            if (boundaries.Contains(length))
            {
                Assert.Null(e);
            }
            else
            {
                var fits = Assert.IsType<FitsFormatException>(e);
                Assert.True(fits.Kind == FitsErrorKind.Truncated, $"cut at {length}: {fits.Kind}: {fits.Message}");
            }
        }
    }

    [Fact]
    public void Read_RandomlyCorruptedHeaderBytes_OnlyEverThrowsFitsFormatException()
    {
        byte[] file = ValidMef();
        var random = new Random(12345);
        int failures = 0;

        for (int trial = 0; trial < 500; trial++)
        {
            byte[] copy = (byte[])file.Clone();
            int hdu = random.Next(3);
            int headerStart = hdu == 0 ? 0 : hdu == 1 ? 2880 : 4 * 2880;
            for (int k = 0; k < 1 + random.Next(4); k++)
            {
                copy[headerStart + random.Next(9 * 80)] = (byte)random.Next(256);
            }
            var e = Record.Exception(() => FromBytes(copy));
            Assert.True(e is null or FitsFormatException, $"trial {trial}: {e}");
            failures += e is null ? 0 : 1;
        }

        // Most corruptions of mandatory cards must be caught, not silently accepted.
        Assert.True(failures > 250, $"only {failures} of 500 corrupted files were rejected");
    }
}
