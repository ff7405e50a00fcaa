using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Tests.Fits;

public sealed class FitsHeaderReaderTests
{
    private static byte[] ThreeHduFile(out FitsImage[] hdus)
    {
        var primaryHeader = new FitsHeader().Set("TELESCOP", "Rubin");
        for (int i = 0; i < 100; i++)
        {
            primaryHeader.Set($"KEY{i}", (long)i);
        }
        hdus =
        [
            FitsImage.HeaderOnly(primaryHeader),
            FitsTestData.Image(30, 20, FitsBitpix.Float32, new FitsHeader().Set("EXTNAME", "SCI")),
            FitsTestData.Image(30, 20, FitsBitpix.Int16, new FitsHeader().Set("EXTNAME", "RAW").Set("BZERO", 32768L)),
        ];
        // Unsigned 16-bit: physical values 0..65535.
        for (int i = 0; i < hdus[2].Pixels.Length; i++)
        {
            hdus[2].Pixels[i] += 32768;
        }
        return FitsTestData.ToBytes(hdus);
    }

    [Fact]
    public void TryParse_PrefixHoldingTheWholeHeader_ReturnsEveryCardAndTheHeaderSize()
    {
        byte[] file = ThreeHduFile(out _);

        bool ok = FitsHeaderReader.TryParse(file.AsSpan(0, 3 * 2880), out var header, out int headerBytes);

        Assert.True(ok);
        // SIMPLE BITPIX NAXIS EXTEND + 101 user cards + END = 106 cards: 3 blocks.
        Assert.Equal(3 * 2880, headerBytes);
        Assert.Equal("Rubin", header!["TELESCOP"]);
        Assert.Equal(99L, header["KEY99"]);
        Assert.Equal(true, header["SIMPLE"]);
    }

    [Fact]
    public void TryParse_PrefixEndingBeforeEnd_ReturnsFalseSoTheCallerReadsMore()
    {
        byte[] file = ThreeHduFile(out _);

        bool ok = FitsHeaderReader.TryParse(file.AsSpan(0, 2 * 2880), out var header, out int headerBytes);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Equal(0, headerBytes);
    }

    [Fact]
    public void TryParse_PrefixEndingRightAfterTheEndCard_ReturnsTheWholeBlockSize()
    {
        byte[] file = ThreeHduFile(out _);
        int endCard = FitsTestData.Cards(file).Count - 1;

        bool ok = FitsHeaderReader.TryParse(file.AsSpan(0, (endCard + 1) * 80 + 13), out _, out int headerBytes);

        Assert.True(ok);
        Assert.Equal(3 * 2880, headerBytes);
    }

    [Fact]
    public void TryParse_MaxHeaderBlocksWithoutEnd_ThrowsMissingEnd()
    {
        byte[] noEnd = FitsTestData.RawHdu([.. FitsTestData.PrimaryCards(8), .. Enumerable.Repeat("COMMENT x", 200)], end: false);
        var options = new FitsReadOptions { MaxHeaderBlocks = 4 };

        bool shortPrefix = FitsHeaderReader.TryParse(noEnd.AsSpan(0, 3 * 2880), out _, out _, options);
        var e = Assert.Throws<FitsFormatException>(() => FitsHeaderReader.TryParse(noEnd.AsSpan(0, 4 * 2880), out _, out _, options));

        Assert.False(shortPrefix);
        Assert.Equal(FitsErrorKind.MissingEnd, e.Kind);
        Assert.Contains("first 4 header blocks", e.Message);
    }

    [Fact]
    public void FromHeader_ExtensionHeaderFromAPrefix_GivesTheDataRangeOfABandOfRows()
    {
        byte[] file = ThreeHduFile(out var hdus);
        var all = FitsFile.ReadHeaders(new MemoryStream(file));
        long offset = all[2].HeaderOffset;

        // A blob range read of one block at the HDU's offset is enough for its metadata.
        Assert.True(FitsHeaderReader.TryParse(file.AsSpan((int)offset, 2880), out var header, out int headerBytes));
        var info = FitsHduInfo.FromHeader(header, index: 2, offset, headerBytes);
        var (rowsOffset, rowsLength) = info.GetRowRange(firstRow: 5, rowCount: 3);
        var band = new float[3 * 30];
        info.DecodePixels(file.AsSpan((int)rowsOffset, (int)rowsLength), band);

        Assert.Equal((30L, 20L, 16, 32768.0), (info.Width, info.Height, info.Bitpix, info.BZero));
        Assert.Equal(offset + 2880, info.DataOffset);
        Assert.Equal(info.DataOffset + 5 * 30 * 2, rowsOffset);
        Assert.Equal(3 * 30 * 2, rowsLength);
        Assert.Equal(hdus[2].Pixels.AsSpan(5 * 30, 3 * 30).ToArray(), band);
    }

    [Fact]
    public void ReadHeaders_MultiExtension_GivesContiguousOffsetsAndSizes()
    {
        byte[] file = ThreeHduFile(out _);

        var hdus = FitsFile.ReadHeaders(new MemoryStream(file));

        Assert.Equal(3, hdus.Count);
        Assert.Equal([0L, 3 * 2880, 5 * 2880], hdus.Select(h => h.HeaderOffset));
        Assert.Equal([0L, 30 * 20 * 4, 30 * 20 * 2], hdus.Select(h => h.DataBytes));
        Assert.Equal(file.Length, hdus[^1].NextHduOffset);
        for (int i = 1; i < hdus.Count; i++)
        {
            Assert.Equal(hdus[i - 1].NextHduOffset, hdus[i].HeaderOffset);
        }
        Assert.Equal([null, "IMAGE", "IMAGE"], hdus.Select(h => h.ExtensionType));
        Assert.All(hdus, h => Assert.True(h.IsImage));
        Assert.Equal("SCI", hdus[1].Header["EXTNAME"]);
    }

    [Fact]
    public void ReadHeaders_SeekableStream_ReadsOnlyTheHeaderBlocks()
    {
        byte[] file = ThreeHduFile(out _);
        using var stream = new CountingStream(file);

        var hdus = FitsFile.ReadHeaders(stream);

        Assert.Equal(hdus.Sum(h => (long)h.HeaderBytes), stream.BytesRead);
    }

    [Fact]
    public void ReadHeaders_NonSeekableStream_GivesTheSameLayout()
    {
        byte[] file = ThreeHduFile(out _);

        var seekable = FitsFile.ReadHeaders(new MemoryStream(file));
        var forwardOnly = FitsFile.ReadHeaders(new ForwardOnlyStream(file));

        Assert.Equal(seekable.Select(h => (h.HeaderOffset, h.DataOffset, h.DataBytes)),
            forwardOnly.Select(h => (h.HeaderOffset, h.DataOffset, h.DataBytes)));
    }

    [Fact]
    public void Read_NonSeekableStream_ReadsEveryHdu()
    {
        byte[] file = ThreeHduFile(out var hdus);

        var read = FitsFile.Read(new ForwardOnlyStream(file));

        Assert.Equal(hdus[1].Pixels, read[1].Pixels);
        Assert.Equal(hdus[2].Pixels, read[2].Pixels);
    }

    [Fact]
    public void Read_NonSeekableStreamWithALargeDataUnit_ReadsItInSegments()
    {
        // 80 MiB of data: above the size read straight into the pixel array from a non-seekable stream.
        var pixels = new float[5120 * 4096];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = i % 1000 - 0.25f;
        }
        var image = new FitsImage(5120, 4096, FitsBitpix.Float32, pixels: pixels);
        byte[] file = FitsTestData.ToBytes(image);

        var read = Assert.Single(FitsFile.Read(new ForwardOnlyStream(file)));

        Assert.Equal(image.Pixels, read.Pixels);
    }

    [Fact]
    public void ReadRows_BandOfRows_GivesPhysicalValuesOfThoseRows()
    {
        byte[] file = ThreeHduFile(out var hdus);
        using var stream = new MemoryStream(file);
        var info = FitsFile.ReadHeaders(stream);

        float[] rows = FitsFile.ReadRows(stream, info[2], firstRow: 17, rowCount: 3);

        Assert.Equal(hdus[2].Pixels.AsSpan(17 * 30, 3 * 30).ToArray(), rows);
    }

    [Fact]
    public void OpenImages_EveryHdu_GivesTheHeadersAndPixelsOfReadAndReusesAnArrayOfItsSize()
    {
        byte[] file = ThreeHduFile(out var hdus);
        string path = Path.Combine(Path.GetTempPath(), $"open-images-{Guid.NewGuid():N}.fits");
        File.WriteAllBytes(path, file);
        try
        {
            var read = FitsFile.Read(path);
            using var reader = FitsFile.OpenImages(path);

            Assert.Equal(3, reader.Images.Count);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal((read[i].Width, read[i].Height, read[i].Bitpix), (reader.Images[i].Width, reader.Images[i].Height, reader.Images[i].Bitpix));
                Assert.Equal(read[i].Header.Select(c => c.ToString()), reader.Images[i].Header.Select(c => c.ToString()));
            }
            Assert.Equal("RAW", reader.Images[2].Name);
            // Out of order, and into the previous HDU's array (same size): the values are the file's.
            float[] second = reader.ReadPixels(2);
            Assert.Equal(hdus[2].Pixels, second);
            float[] first = reader.ReadPixels(1, reuse: second);
            Assert.Same(second, first);
            Assert.Equal(hdus[1].Pixels, first);
            // An array of another size is not used.
            Assert.NotSame(first, reader.ReadPixels(1, reuse: new float[7]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OpenImages_StreamPositionedAtTheFileInsideLargerData_ReadsTheFilesPixels()
    {
        byte[] file = ThreeHduFile(out var hdus);
        var stream = new MemoryStream([.. new byte[100], .. file]) { Position = 100 };

        using var reader = FitsFile.OpenImages(stream);

        Assert.Equal(hdus[2].Pixels, reader.ReadPixels(2));
        Assert.Equal(hdus[1].Pixels, reader.ReadPixels(1));
    }

    [Fact]
    public void OpenImages_ReadRows_GivesThoseRowsIntoTheStartOfTheArrayFromAFileInsideLargerData()
    {
        byte[] file = ThreeHduFile(out var hdus);
        var stream = new MemoryStream([.. new byte[100], .. file]) { Position = 100 };
        using var reader = FitsFile.OpenImages(stream);
        var into = Enumerable.Repeat(-7f, 5 * 30).ToArray();

        reader.ReadRows(2, firstRow: 17, rowCount: 3, into);

        Assert.Equal(hdus[2].Pixels.AsSpan(17 * 30, 3 * 30).ToArray(), into[..(3 * 30)]);
        Assert.All(into[(3 * 30)..], v => Assert.Equal(-7f, v));  // the rest untouched
        Assert.ThrowsAny<ArgumentException>(() => reader.ReadRows(2, firstRow: 17, rowCount: 3, new float[3 * 30 - 1]));
        Assert.ThrowsAny<ArgumentException>(() => reader.ReadRows(2, firstRow: hdus[2].Height - 1, rowCount: 2, into));
    }

    [Fact]
    public void OpenImages_FileShorterThanItsHeadersDeclare_ThrowsTruncatedBeforeAnyPixelIsRead()
    {
        byte[] file = ThreeHduFile(out _);
        string path = Path.Combine(Path.GetTempPath(), $"open-images-{Guid.NewGuid():N}.fits");
        File.WriteAllBytes(path, file.AsSpan(0, file.Length - 2880 - 100).ToArray());
        try
        {
            var e = Assert.Throws<FitsFormatException>(() => FitsFile.OpenImages(path));

            Assert.Equal(FitsErrorKind.Truncated, e.Kind);
            Assert.Contains("HDU 2", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GetRowRange_RowsBeyondTheImage_ThrowsArgumentOutOfRange()
    {
        var info = FitsFile.ReadHeaders(new MemoryStream(ThreeHduFile(out _)))[1];

        Assert.Throws<ArgumentOutOfRangeException>(() => info.GetRowRange(firstRow: 18, rowCount: 3));
    }

    [Fact]
    public void ReadHeaders_BinaryTableExtension_IsListedWithItsSizeAndReadRejectsIt()
    {
        byte[] file = FitsTestData.Concat(
            FitsTestData.RawHdu([.. FitsTestData.PrimaryCards(8), FitsTestData.Card("EXTEND", "T")]),
            FitsTestData.RawHdu(
            [
                "XTENSION= 'BINTABLE'",
                FitsTestData.Card("BITPIX", "8"),
                FitsTestData.Card("NAXIS", "2"),
                FitsTestData.Card("NAXIS1", "8"),
                FitsTestData.Card("NAXIS2", "3"),
                FitsTestData.Card("PCOUNT", "100"),
                FitsTestData.Card("GCOUNT", "1"),
                FitsTestData.Card("TFIELDS", "1"),
                "TFORM1  = '1D      '",
            ], dataBytes: 124),
            FitsTestData.RawHdu(FitsTestData.ImageExtensionCards(16, 2, 2), dataBytes: 8));

        var hdus = FitsFile.ReadHeaders(new MemoryStream(file));
        var e = Assert.Throws<FitsFormatException>(() => FitsTestData.FromBytes(file));

        Assert.Equal(3, hdus.Count);
        Assert.Equal("BINTABLE", hdus[1].ExtensionType);
        Assert.False(hdus[1].IsImage);
        Assert.Equal(8 * 3 + 100, hdus[1].DataBytes);
        Assert.Equal(FitsErrorKind.Unsupported, e.Kind);
        Assert.Contains("HDU 1", e.Message);
        Assert.Contains("BINTABLE", e.Message);
    }

    [Fact]
    public void Read_CardsInFreeFormat_ParsesEveryValueKind()
    {
        byte[] file = FitsTestData.RawHdu(
        [
            .. FitsTestData.PrimaryCards(8),
            "FREEINT =   42   / free-format integer",
            "FREEREAL= 1.5D3/no space before the comment",
            "LOWEREXP= -2.5e-3",
            "PLUSINT = +7",
            "DOTREAL = .5",
            "LEADING = '  spaced'   / leading spaces kept, trailing dropped",
            "EMPTY   = ''",
            "BLANKSTR= '        '",
            "COMPLEX = (1.5, -2.0) / kept as text",
            "NOVALUE =",
            "HUGEINT = 123456789012345678901234567890",
            "HIERARCH ESO DET CHIP = 5",
            "COMMENT   indented comment text",
            "        blank keyword text",
            "CONTINUE  'orphan'",
        ]);

        var header = Assert.Single(FitsTestData.FromBytes(file)).Header;

        Assert.Equal(42L, header["FREEINT"]);
        Assert.True(header.TryGetCard("FREEINT", out var card));
        Assert.Equal("free-format integer", card.Comment);
        Assert.Equal(1500.0, header["FREEREAL"]);
        Assert.Equal(-2.5e-3, header["LOWEREXP"]);
        Assert.Equal(7L, header["PLUSINT"]);
        Assert.Equal(0.5, header["DOTREAL"]);
        Assert.Equal("  spaced", header["LEADING"]);
        Assert.Equal("", header["EMPTY"]);
        Assert.Equal("", header["BLANKSTR"]);
        Assert.Equal("(1.5, -2.0)", header["COMPLEX"]);
        Assert.True(header.Contains("NOVALUE"));
        Assert.Null(header["NOVALUE"]);
        Assert.Equal(1.2345678901234568e29, header["HUGEINT"]);
        Assert.True(header.TryGetCard("HIERARCH", out var hierarch));
        Assert.Equal(" ESO DET CHIP = 5", hierarch.Comment);
        Assert.Contains(header, c => c is { Key: "COMMENT", Comment: "  indented comment text" });
        Assert.Contains(header, c => c is { Key: "", Comment: "blank keyword text" });
        // An orphan CONTINUE is kept as text in the file's header, and left out of the image header like all CONTINUE cards.
        Assert.Contains(FitsFile.ReadHeaders(new MemoryStream(file))[0].Header, c => c is { Key: "CONTINUE", Comment: "  'orphan'" });
        Assert.False(header.Contains("CONTINUE"));
    }

    [Fact]
    public void Read_StringEndingWithAmpersandAndNoContinue_KeepsTheAmpersand()
    {
        byte[] file = FitsTestData.RawHdu([.. FitsTestData.PrimaryCards(8), "AMP     = 'rock & roll &'", "NEXT    = 1"]);

        var header = Assert.Single(FitsTestData.FromBytes(file)).Header;

        Assert.Equal("rock & roll &", header["AMP"]);
        Assert.Equal(1L, header["NEXT"]);
    }

    [Fact]
    public void Read_ContinueCardsWrittenByHand_AreJoinedWithTheirComments()
    {
        byte[] file = FitsTestData.RawHdu(
        [
            .. FitsTestData.PrimaryCards(8),
            "LONGSTRN= 'OGIP 1.0'",
            "WCSNAME = 'a string that goes &'  / first part",
            "CONTINUE  'on and '' on &'",
            "CONTINUE  'and ends' / last part",
        ]);

        var header = Assert.Single(FitsTestData.FromBytes(file)).Header;

        Assert.True(header.TryGetCard("WCSNAME", out var card));
        Assert.Equal("a string that goes on and ' on and ends", card.Value);
        Assert.Equal("first part last part", card.Comment);
        Assert.False(header.Contains("LONGSTRN"));
    }

    [Fact]
    public void Read_ZeroBlocksAfterTheLastHdu_AreIgnored()
    {
        byte[] file = FitsTestData.Concat(FitsTestData.ToBytes(FitsTestData.Image(4, 4, FitsBitpix.Int16)), new byte[2 * 2880]);

        var read = FitsTestData.FromBytes(file);

        Assert.Single(read);
    }

    [Fact]
    public void Read_ThreeAxesWithSingletonThird_ReadsAsAnImage()
    {
        byte[] file = FitsTestData.RawHdu(FitsTestData.PrimaryCards(8, 3, 2, 1), dataBytes: 6, fill: 9);

        var image = Assert.Single(FitsTestData.FromBytes(file));

        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.All(image.Pixels, p => Assert.Equal(9f, p));
    }
}
