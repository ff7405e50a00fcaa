using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Tests.Tools;

namespace Drp.Pipeline.Tests.Fits;

/// <summary>One HDU as astropy sees it: every header card in file order, the data shape and type, the pixels.</summary>
internal sealed record AstropyHdu(int Index, string Name, IReadOnlyList<FitsCard> Cards, IReadOnlyList<long> Shape, string? DType, double[]? Pixels);

/// <summary>The reference tools: cfitsio's fitsverify and astropy (Debian packages fitsverify, python3-astropy).</summary>
internal static class FitsReferenceTools
{
    private const string FitsVerify = "/usr/bin/fitsverify";

    /// <summary>
    /// Reads a FITS file with astropy (all warnings are errors, <c>verify("exception")</c>) and prints every card
    /// of every HDU as JSON; the physical pixels (BZERO/BSCALE applied by astropy) go to hdu{i}.f8 as
    /// little-endian float64 so they compare bit for bit. The header is captured before the data is touched,
    /// because astropy drops BZERO/BSCALE from it once it scales the data.
    /// "write" makes sample files with astropy itself.
    /// </summary>
    private const string Script = """
        import json, sys, warnings
        import numpy as np
        from astropy.io import fits
        from astropy.utils.exceptions import AstropyWarning

        warnings.simplefilter("error", AstropyWarning)

        def plain(v):
            if isinstance(v, fits.card.Undefined):
                return None
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            if isinstance(v, (int, np.integer)):
                return int(v)
            if isinstance(v, (float, np.floating)):
                return float(v)
            return str(v)

        def dump(path, outdir):
            result = []
            with fits.open(path) as hdul:
                hdul.verify("exception")
                for i, hdu in enumerate(hdul):
                    cards = [[c.keyword, plain(c.value), c.comment] for c in hdu.header.cards]
                    entry = {"index": i, "name": hdu.name, "cards": cards, "shape": [], "dtype": None}
                    data = hdu.data
                    if data is not None:
                        entry["shape"] = list(data.shape)
                        entry["dtype"] = str(data.dtype)
                        np.ascontiguousarray(data, dtype="<f8").tofile(f"{outdir}/hdu{i}.f8")
                    result.append(entry)
            print(json.dumps(result))

        def write(outdir):
            rng = np.random.default_rng(42)
            image = (rng.standard_normal((40, 50)) * 1000).astype(np.float32)
            image[3, 7] = np.nan
            header = fits.Header()
            header["OBJECT"] = ("NGC 1234", "target")
            header["EXPTIME"] = (30.5, "seconds")
            header["GAIN"] = 1.0e-7
            header["FLAG"] = True
            header["NCOMBINE"] = 7
            header["LONGSTR"] = ("x" * 50 + " it's a long string " + "y" * 80, "a long one")
            header["HISTORY"] = "written by astropy"
            fits.PrimaryHDU(image, header=header).writeto(f"{outdir}/float32.fits")

            raw = (np.arange(40 * 50, dtype=np.int64) * 7919 % 65536).astype(np.uint16).reshape(40, 50)
            raw[0, 0], raw[0, 1] = 0, 65535
            fits.PrimaryHDU(raw).writeto(f"{outdir}/uint16.fits")

            fits.HDUList([
                fits.PrimaryHDU(header=fits.Header([("TELESCOP", "Rubin", "telescope")])),
                fits.ImageHDU(image, name="SCI"),
                fits.ImageHDU(np.arange(12, dtype=np.int32).reshape(3, 4) - 6, name="MASK"),
                fits.ImageHDU(rng.standard_normal((5, 6)), name="VAR"),
                fits.ImageHDU(np.arange(30, dtype=np.uint8).reshape(5, 6), name="BYTES"),
            ]).writeto(f"{outdir}/mef.fits")

        if sys.argv[1] == "dump":
            dump(sys.argv[2], sys.argv[3])
        else:
            write(sys.argv[2])
        """;

    /// <summary>Runs fitsverify and fails unless it reports no warnings and no errors.</summary>
    public static async Task AssertFitsVerifyCleanAsync(string path)
    {
        var result = await ExternalTool.RunAsync(FitsVerify, [path], "fitsverify");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(result.StandardOutput.Contains("Verification found 0 warning(s) and 0 error(s)", StringComparison.Ordinal),
            result.ToString());
    }

    /// <summary>What astropy reads from <paramref name="path"/>.</summary>
    public static async Task<IReadOnlyList<AstropyHdu>> ReadWithAstropyAsync(string path, TempDirectory temp)
    {
        string outDir = Directory.CreateDirectory(temp.File("dump-" + Guid.NewGuid().ToString("N"))).FullName;
        var result = await RunScriptAsync(temp, "dump", path, outDir);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var hdus = new List<AstropyHdu>();
        foreach (var hdu in json.RootElement.EnumerateArray())
        {
            int index = hdu.GetProperty("index").GetInt32();
            var cards = hdu.GetProperty("cards").EnumerateArray()
                .Select(c => new FitsCard(c[0].GetString()!, ToValue(c[1]), c[2].GetString()))
                .ToList();
            var shape = hdu.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToList();
            string? dtype = hdu.GetProperty("dtype").ValueKind == JsonValueKind.Null ? null : hdu.GetProperty("dtype").GetString();
            double[]? pixels = null;
            string dataFile = System.IO.Path.Combine(outDir, $"hdu{index}.f8");
            if (File.Exists(dataFile))
            {
                byte[] bytes = await File.ReadAllBytesAsync(dataFile);
                pixels = new double[bytes.Length / 8];
                for (int i = 0; i < pixels.Length; i++)
                {
                    pixels[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 * i));
                }
            }
            hdus.Add(new AstropyHdu(index, hdu.GetProperty("name").GetString()!, cards, shape, dtype, pixels));
        }
        return hdus;
    }

    /// <summary>Has astropy write float32.fits, uint16.fits and mef.fits into <paramref name="temp"/>.</summary>
    public static async Task WriteSamplesWithAstropyAsync(TempDirectory temp) =>
        await RunScriptAsync(temp, "write", temp.Path);

    /// <summary>
    /// Asserts that astropy's cards equal <paramref name="expected"/> card for card: keyword, typed value (a
    /// double bit for bit) and comment. Commentary cards carry their text as astropy's value and our comment.
    /// </summary>
    public static void AssertSameCards(IEnumerable<FitsCard> expected, IEnumerable<FitsCard> astropy, string context)
    {
        var e = expected.Select(Normalize).ToList();
        var a = astropy.Select(Normalize).ToList();
        Assert.True(e.Count == a.Count,
            $"{context}: {e.Count} cards expected, astropy has {a.Count}:\n{string.Join('\n', a)}\nexpected:\n{string.Join('\n', e)}");
        for (int i = 0; i < e.Count; i++)
        {
            Assert.True(Equals(e[i], a[i]), $"{context}, card {i}: expected {e[i]}, astropy read {a[i]}");
        }
    }

    /// <summary>Structural keywords both sides generate; compare user cards without them.</summary>
    public static bool IsStructural(string key) =>
        key is "SIMPLE" or "XTENSION" or "BITPIX" or "NAXIS" or "EXTEND" or "PCOUNT" or "GCOUNT" or "LONGSTRN"
        || (key.StartsWith("NAXIS", StringComparison.Ordinal) && key.Length > 5 && key[5..].All(char.IsAsciiDigit));

    private static (string Key, string Value, string Comment) Normalize(FitsCard card) =>
        FitsHeader.IsCommentary(card.Key)
            ? (card.Key, "", string.IsNullOrEmpty(card.Comment) ? card.Value as string ?? "" : card.Comment)
            : (card.Key, card.Value switch
            {
                null => "(undefined)",
                double d => "double " + d.ToString("R", CultureInfo.InvariantCulture),
                long l => "long " + l.ToString(CultureInfo.InvariantCulture),
                bool b => "bool " + b,
                string s => "string '" + s + "'",
                var o => "other " + o,
            }, card.Comment ?? "");

    private static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number when e.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0 => long.Parse(e.GetRawText(), CultureInfo.InvariantCulture),
        JsonValueKind.Number => double.Parse(e.GetRawText(), CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"unexpected JSON value {e}"),
    };

    private static async Task<ExternalToolResult> RunScriptAsync(TempDirectory temp, params string[] args)
    {
        string script = temp.File("fits_reference.py");
        if (!File.Exists(script))
        {
            await File.WriteAllTextAsync(script, Script);
        }
        ExternalTool.Require(ExternalTool.DebianPython, "python3");
        var result = await ExternalTool.RunAsync(ExternalTool.DebianPython, [script, .. args], "python3-astropy",
            timeout: TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0 && result.StandardError.Contains("No module named 'astropy'", StringComparison.Ordinal))
        {
            Assert.Fail($"astropy is missing from {ExternalTool.DebianPython}: install the Debian package with " +
                $"'apt-get install -y python3-astropy'\n{result}");
        }
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
