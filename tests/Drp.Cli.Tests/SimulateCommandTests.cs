using System.Globalization;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Wcs;

namespace Drp.Cli.Tests;

/// <summary><c>drp simulate</c> as a user runs it: the files it writes pass fitsverify and astropy reads the WCS we wrote.</summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "drp-sim-" + Guid.NewGuid().ToString("N")[..8]);

    [Theory]
    [InlineData("mef")]
    [InlineData("single")]
    public async Task Simulate_SmallSurvey_FilesPassFitsverifyAndAstropyAgreesWithOurWcs(string format)
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("simulate", "--out", _dir, "--visits", "2", "--detector-columns", "1",
            "--detector", "256", "--format", format, "--seed", "5");
        Assert.True(exit == 0, stderr + stdout);

        var raws = Directory.GetFiles(Path.Combine(_dir, "raw"), "*.fits");
        Assert.Equal(2, raws.Length);
        var files = raws.Concat(Directory.GetFiles(Path.Combine(_dir, "calib"), "*.fits")).ToList();
        foreach (var file in files)
        {
            var (code, output, _) = await DrpProcess.RunAsync("fitsverify", ["-q", file], "fitsverify");
            Assert.True(code == 0 && output.Contains("0 warnings and 0 errors", StringComparison.Ordinal) || output.Contains("OK:", StringComparison.Ordinal),
                $"fitsverify {Path.GetFileName(file)}: {output}");
        }

        // astropy's sky position of a few pixels, from the header we wrote, against our TanWcs.
        var raw = raws[0];
        var wcs = TanWcs.FromHeader(FitsFile.Read(raw)[0].Header);
        var pixels = new (double X, double Y)[] { (0, 0), (100.5, 37.25), (255, 255) };
        string script = $$"""
            from astropy.io import fits
            from astropy.wcs import WCS
            h = fits.getheader(r'{{raw}}', 0)
            w = WCS(h)
            for x, y in [{{string.Join(", ", pixels.Select(p => string.Create(CultureInfo.InvariantCulture, $"({p.X}, {p.Y})")))}}]:
                ra, dec = w.all_pix2world([[x, y]], 0)[0]
                print(repr(ra), repr(dec))
            """;
        var (pyExit, pyOut, pyErr) = await DrpProcess.RunAsync("/usr/bin/python3", ["-c", script], "python3-astropy");
        Assert.True(pyExit == 0, pyErr);
        var lines = pyOut.Trim().Split('\n');
        Assert.Equal(pixels.Length, lines.Length);
        for (int i = 0; i < pixels.Length; i++)
        {
            var parts = lines[i].Split(' ');
            double ra = double.Parse(parts[0], CultureInfo.InvariantCulture), dec = double.Parse(parts[1], CultureInfo.InvariantCulture);
            var ours = wcs.PixelToSky(pixels[i].X, pixels[i].Y);
            double sepMas = TanWcs.AngularSeparationDegrees(ra, dec, ours.Ra, ours.Dec) * 3.6e6;
            Assert.True(sepMas < 1.0, $"pixel {pixels[i]}: astropy and drp differ by {sepMas} mas");
        }
    }

    [Fact]
    public async Task Simulate_SameSeedTwice_WritesIdenticalRaws()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        foreach (var dir in new[] { a, b })
        {
            var (exit, _, err) = await DrpProcess.RunDrpAsync("simulate", "--out", dir, "--visits", "1", "--detector-columns", "1", "--detector", "256", "--seed", "9");
            Assert.True(exit == 0, err);
        }
        var fa = Directory.GetFiles(Path.Combine(a, "raw")).Single();
        var fb = Directory.GetFiles(Path.Combine(b, "raw")).Single();
        Assert.Equal(File.ReadAllBytes(fa), File.ReadAllBytes(fb));
    }

    [Theory]
    [InlineData("--detector", "7")]
    [InlineData("--format", "zip")]
    public async Task Simulate_BadOption_ExitsTwoWithAClearMessage(string option, string value)
    {
        var (exit, _, err) = await DrpProcess.RunDrpAsync("simulate", "--out", _dir, option, value);
        Assert.Equal(2, exit);
        Assert.Contains(option, err);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
