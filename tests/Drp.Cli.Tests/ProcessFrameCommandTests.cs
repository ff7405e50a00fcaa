using System.Globalization;
using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;
using Drp.Storage.Catalogs;

namespace Drp.Cli.Tests;

/// <summary>
/// <c>drp process-frame</c> as a user runs it, on simulated frames with a known truth: the four outputs, their
/// columns, the science against the truth, and each bad input with its documented exit code (0 processed,
/// 2 usage, 3 invalid input, 4 unprocessable).
/// </summary>
public sealed class ProcessFrameCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-pf-" + Guid.NewGuid().ToString("N")[..8]);

    private SimulatedFrameFiles Frame => new(_dir);

    private string Raw => Frame.Raw;

    private string Bias => Frame.Bias;

    private string Flat(string band = "g") => Frame.Flat(band);

    private string Defects => Frame.Defects;

    private string RefCat => Frame.RefCat;

    private string Out => Path.Combine(_dir, "out");

    private void Simulate(RawFormat format = RawFormat.MultiExtension) => Frame.Simulate(format);

    private Task<(int Exit, string Out, string Err)> ProcessAsync(string? raw = null, string? bias = null, string? flat = null, string? refcat = null) =>
        DrpProcess.RunDrpAsync(Frame.Arguments(Out, raw, bias, flat, refcat));

    [Theory]
    [InlineData(RawFormat.MultiExtension)]
    [InlineData(RawFormat.SingleHdu)]
    public async Task ProcessFrame_SimulatedRaw_WritesTheFourOutputsAndMatchesTheTruth(RawFormat format)
    {
        Simulate(format);

        var (exit, stdout, stderr) = await ProcessAsync();

        Assert.True(exit == 0, stderr + stdout);
        foreach (var file in new[] { "calexp.fits", "source.parquet", "source.csv", "ccdvisit.json" })
        {
            Assert.True(File.Exists(Path.Combine(Out, file)), file);
        }

        // source.csv and source.parquet carry the same columns (the Source schema) and the same rows.
        var csv = File.ReadAllLines(Path.Combine(Out, "source.csv"));
        Assert.Equal(SourceRecord.ColumnNames, csv[0].Split(','));
        CatalogTable parquet;
        await using (var stream = File.OpenRead(Path.Combine(Out, "source.parquet")))
        {
            parquet = await ParquetCatalogWriter.ReadAsync(stream, SourceSchema.TableName, SourceSchema.Columns);
        }
        Assert.Equal(csv.Length - 1, parquet.Rows.Count);
        Assert.True(parquet.Rows.Count > 50, $"{parquet.Rows.Count} sources");

        // The zero point against the simulator's (nJy per electron of every truth source): the issue's 0.01 mag target
        // (the reference catalog's 0.01 mag noise over a few tens of stars contributes ~0.002 mag).
        var truth = ReadTruth();
        double truthZp = 31.4 - 2.5 * Math.Log10(truth[0].FluxNjy / truth[0].Electrons);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(Out, "ccdvisit.json")));
        double zp = summary.RootElement.GetProperty("zeroPoint").GetDouble();
        Assert.True(Math.Abs(zp - truthZp) < 0.01, $"zeroPoint {zp:F4}, truth {truthZp:F4}");

        // Every bright truth star (S/N > 50 in a 12-pixel aperture of sky noise ~20 e) is found within 1 arcsec.
        int ra = Array.IndexOf(SourceRecord.ColumnNames.ToArray(), "coord_ra"), dec = ra + 1;
        var found = csv.Skip(1).Select(l => l.Split(',')).Select(f => (Ra: double.Parse(f[ra], CultureInfo.InvariantCulture), Dec: double.Parse(f[dec], CultureInfo.InvariantCulture))).ToList();
        var bright = truth.Where(t => t.Type == "star" && t.Electrons > 50 * 20 * Math.Sqrt(Math.PI) * 12 && t.X > 15 && t.Y > 15 && t.X < 1009 && t.Y < 1009).ToList();
        Assert.NotEmpty(bright);
        var missed = bright.Where(t => !found.Any(s => TanWcs.AngularSeparationDegrees(s.Ra, s.Dec, t.Ra, t.Dec) * 3600 < 1.0)).ToList();
        Assert.True(missed.Count == 0, $"{missed.Count} of {bright.Count} bright stars missed, e.g. at ({missed.FirstOrDefault().X:F1}, {missed.FirstOrDefault().Y:F1})");

        // The calexp: primary + IMAGE, MASK, VARIANCE, with the zero point in the primary header.
        var calexp = FitsFile.Read(Path.Combine(Out, "calexp.fits"));
        Assert.Equal(["IMAGE", "MASK", "VARIANCE"], calexp.Skip(1).Select(h => h.Name));
        Assert.Equal(zp, calexp[0].Header.GetDouble("MAGZERO"), 6);
    }

    [Fact]
    public async Task ProcessFrame_WithTimings_PrintsEveryStageFromReadingToWriting()
    {
        Simulate();

        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("process-frame", "--raw", Raw, "--bias", Bias, "--flat", Flat(),
            "--defects", Defects, "--refcat", RefCat, "--out", Out, "--timings");

        Assert.True(exit == 0, stderr + stdout);
        var lines = TimingLines(stderr);
        var stages = lines.Select(l => l.Stage).ToList();
        foreach (var stage in new[] { "read inputs", "isr", "background", "detection", "measurement", "write calexp.fits", "write source.csv", "since process start" })
        {
            Assert.Contains(stage, stages);
        }
        // Every stage line carries its CPU time, the resident set at its end and the bytes allocated in it; the process needs some memory.
        var isr = lines.Single(l => l.Stage == "isr").Text;
        Assert.Matches(@"cpu +\d+\.\d{3} s +rss +\d+ MB +alloc +\d+\.\d MB$", isr);
        Assert.Matches(@"peak rss +[1-9]\d* MB$", lines.Single(l => l.Stage == "since process start").Text);
    }

    [Fact]
    public async Task ProcessFrame_Repeat_ProcessesTheInputsEachTimeWithTheSameResult()
    {
        Simulate();

        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("process-frame", "--raw", Raw, "--bias", Bias, "--flat", Flat(),
            "--defects", Defects, "--refcat", RefCat, "--out", Out, "--timings", "--repeat", "2");
        var (zero, _, zeroErr) = await DrpProcess.RunDrpAsync("process-frame", "--raw", Raw, "--bias", Bias, "--flat", Flat(),
            "--defects", Defects, "--refcat", RefCat, "--out", Out, "--repeat", "0");

        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains("timing run 1 of 2", stderr);
        Assert.Contains("timing run 2 of 2", stderr);
        Assert.Equal(2, TimingLines(stderr).Count(l => l.Stage == "read inputs"));
        // Each run reads the inputs afresh (the first consumed its calibration planes): the same catalog both times.
        var summaries = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("visit ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, summaries.Count);
        Assert.Equal(summaries[0], summaries[1]);
        Assert.True(File.Exists(Path.Combine(Out, "source.parquet")));
        Assert.Equal(2, zero);
        Assert.Contains("--repeat", zeroErr);
    }

    [Fact]
    public void WriteCsv_EveryKindOfValue_IsWrittenAsInvariantTextWithQuotingAndAStringLongerThanTheBuffer()
    {
        var table = new CatalogTable("t", [
            new ColumnDef("d", ColumnType.Double, null, "d"), new ColumnDef("f", ColumnType.Float, null, "f"),
            new ColumnDef("l", ColumnType.Long, null, "l"), new ColumnDef("b", ColumnType.Boolean, null, "b"),
            new ColumnDef("s", ColumnType.String, null, "s", Nullable: true)]);
        string longText = new string('x', 200_000) + "é";
        table.Rows.Add([0.1, 1.5f, -42L, true, "a,\"b\""]);
        table.Rows.Add([double.NaN, float.NegativeInfinity, long.MaxValue, false, null]);
        table.Rows.Add([1e-300, 3.4028235E+38f, 0L, true, longText]);

        using var bytes = new MemoryStream();
        ProcessFrameCommand.WriteCsv(bytes, table);
        string csv = System.Text.Encoding.UTF8.GetString(bytes.ToArray());

        Assert.Equal("d,f,l,b,s\n0.1,1.5,-42,true,\"a,\"\"b\"\"\"\nNaN,-Infinity,9223372036854775807,false,\n1E-300,3.4028235E+38,0,true," + longText + "\n", csv);
    }

    /// <summary>The <c>timing</c> lines of stderr: the stage name (the text before its first figure) and the whole line.</summary>
    private static List<(string Stage, string Text)> TimingLines(string stderr) =>
        stderr.Split('\n').Select(l => l.TrimEnd()).Where(l => l.StartsWith("timing ", StringComparison.Ordinal))
            .Select(l => (Match: System.Text.RegularExpressions.Regex.Match(l, @"^timing (.+?)\s+\d"), Line: l))
            .Where(x => x.Match.Success && !x.Line.StartsWith("timing run ", StringComparison.Ordinal))
            .Select(x => (x.Match.Groups[1].Value.Trim(), x.Line))
            .ToList();

    [Fact]
    public async Task ProcessFrame_TruncatedRaw_ExitsInvalidInputAndWritesNothing()
    {
        Simulate();
        string truncated = Path.Combine(_dir, "truncated.fits");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Raw)[..50_000]);

        var (exit, _, err) = await ProcessAsync(raw: truncated);

        Assert.Equal(3, exit);
        Assert.Contains("truncated.fits", err);
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public async Task ProcessFrame_FlatOfAnotherBand_ExitsInvalidInputNamingTheBand()
    {
        Simulate();

        var (exit, _, err) = await ProcessAsync(flat: Flat("r"));

        Assert.Equal(3, exit);
        Assert.Contains("BAND", err);
    }

    [Fact]
    public async Task ProcessFrame_BiasOfAnotherSize_ExitsInvalidInput()
    {
        Simulate();
        var bias = FitsFile.Read(Bias)[0];
        string small = Path.Combine(_dir, "bias_small.fits");
        FitsFile.Write(small, [new FitsImage(512, 512, FitsBitpix.Float32, bias.Header.Clone())]);

        var (exit, _, err) = await ProcessAsync(bias: small);

        Assert.Equal(3, exit);
        Assert.Contains("bias", err);
    }

    [Fact]
    public async Task ProcessFrame_AmplifierWithoutDatasec_ExitsInvalidInputNamingTheKeyword()
    {
        Simulate();
        var hdus = FitsFile.Read(Raw);
        hdus[2].Header.Remove("DATASEC");
        string broken = Path.Combine(_dir, "no_datasec.fits");
        FitsFile.Write(broken, hdus);

        var (exit, _, err) = await ProcessAsync(raw: broken);

        Assert.Equal(3, exit);
        Assert.Contains("DATASEC", err);
    }

    [Fact]
    public async Task ProcessFrame_NoReferenceObjectsOnTheDetector_ExitsUnprocessableWithTheReason()
    {
        Simulate();
        string far = Path.Combine(_dir, "far_refcat.csv");
        File.WriteAllText(far, "ra,dec,g_mag\n10.0,20.0,18.0\n10.1,20.1,19.0\n");

        var (exit, _, err) = await ProcessAsync(refcat: far);

        Assert.Equal(4, exit);
        Assert.Contains(nameof(UnprocessableReason.NoReferenceObjects), err);
        Assert.Contains(nameof(UnprocessableReason.NoReferenceObjects), File.ReadAllText(Path.Combine(Out, "unprocessable.json")));
        Assert.False(File.Exists(Path.Combine(Out, "source.parquet")));
    }

    [Fact]
    public async Task ProcessFrame_BlockOfNaNInTheRaw_ProcessesWithNoNaNInTheUnflaggedFluxes()
    {
        Simulate();
        var hdus = FitsFile.Read(Raw);
        var amp = hdus[1];
        // An integer raw stores NaN as its BLANK value (FITS 4.4.2.3).
        amp.Header.Set("BLANK", -32768L, "stored value of undefined pixels");
        for (int y = 100; y < 300; y++)
        {
            for (int x = 100; x < 300; x++)
            {
                amp.Pixels[y * amp.Width + x] = float.NaN;
            }
        }
        string nan = Path.Combine(_dir, "nan.fits");
        FitsFile.Write(nan, hdus);

        var (exit, stdout, err) = await ProcessAsync(raw: nan);

        Assert.True(exit == 0, err + stdout);
        var csv = File.ReadAllLines(Path.Combine(Out, "source.csv"));
        var names = csv[0].Split(',');
        int flux = Array.IndexOf(names, "calibFlux"), flag = Array.IndexOf(names, "calibFlux_flag");
        foreach (var row in csv.Skip(1).Select(l => l.Split(',')))
        {
            Assert.True(row[flag] == "true" || double.IsFinite(double.Parse(row[flux], CultureInfo.InvariantCulture)), string.Join(',', row));
        }
    }

    [Fact]
    public async Task ProcessFrame_MissingFileOrOption_ExitsUsage()
    {
        Simulate();

        var (missingFile, _, err1) = await ProcessAsync(raw: Path.Combine(_dir, "nothere.fits"));
        var (missingOption, _, err2) = await DrpProcess.RunDrpAsync("process-frame", "--raw", Raw, "--out", Out);

        Assert.Equal(2, missingFile);
        Assert.Contains("nothere.fits", err1);
        Assert.Equal(2, missingOption);
        Assert.Contains("--bias", err2);
    }

    private List<(string Type, double X, double Y, double Ra, double Dec, double FluxNjy, double Electrons)> ReadTruth() =>
        File.ReadAllLines(Frame.Truth).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (f[1], D(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7])))
            .ToList();

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
