using System.Text.Json;
using System.Text.RegularExpressions;
using Drp.Cli.Report;

namespace Drp.Cli.Tests.Report;

/// <summary>
/// The report as a browser shows it: Debian's headless Chromium loads the page from a file (no network), and a probe
/// script added by the test (the report itself has none) measures every plot's rendered marks. CI installs chromium;
/// without it these tests fail with the install command, they never skip.
/// </summary>
public sealed class ReportBrowserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("drp-report-").FullName;

    /// <summary>Counts, per plot svg, its marks and those drawn with a non-zero size inside the svg's box; and the NaN bars drawn wider than zero.</summary>
    private const string Probe = """
        <script>
        (function () {
          var out = {};
          document.querySelectorAll('svg.plot').forEach(function (svg) {
            var box = svg.getBoundingClientRect();
            var marks = svg.querySelectorAll('g.marks rect, g.marks circle, g.marks polygon');
            var visible = 0, wideBars = 0;
            marks.forEach(function (m) {
              var r = m.getBoundingClientRect();
              if (r.width > 0 && r.height > 0 && r.right >= box.left && r.left <= box.right && r.bottom >= box.top && r.top <= box.bottom) visible++;
              if (m.classList.contains('bar') && r.width > 0.5) wideBars++;
            });
            out[svg.id] = { marks: marks.length, visible: visible, wideBars: wideBars, width: box.width, height: box.height };
          });
          var pre = document.createElement('pre');
          pre.id = 'render-check';
          pre.textContent = JSON.stringify(out);
          document.body.appendChild(pre);
        })();
        </script>
        """;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Chromium_RendersEveryPlotWithVisibleMarks()
    {
        var run = SimulatedRun.Make(failures: [SimulatedRun.FailureAt(1001, 0), SimulatedRun.FailureAt(1002, 1, "Unprocessable")]);
        var sources = run.Input.Sources;
        int psf = sources.IndexOf("psfFlux");
        for (int k = 0; k < sources.Rows.Count; k += 4)
        {
            sources.Rows[k][psf] = double.NaN;
        }
        string html = RunReportBuilder.Build(run.Input);
        string page = Path.Combine(_dir, "report-probe.html");
        await File.WriteAllTextAsync(page, html.Replace("</body>", Probe + "</body>", StringComparison.Ordinal));

        var (exit, dom, err) = await Chromium.RunAsync("--dump-dom", new Uri(page).AbsoluteUri);

        Assert.True(exit == 0, $"chromium exited {exit}: {err}");
        var probe = Regex.Match(dom, "<pre id=\"render-check\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(probe.Success, "the probe found no rendered page: " + dom[..Math.Min(500, dom.Length)]);
        var plots = JsonSerializer.Deserialize<Dictionary<string, PlotProbe>>(probe.Groups[1].Value)!;
        Assert.Equal(RunReportBuilder.PlotIds.Order(), plots.Keys.Order());
        foreach (var (id, p) in plots)
        {
            Assert.True(p.Width > 100 && p.Height > 100, $"{id} is drawn {p.Width} x {p.Height}");
            Assert.True(p.Visible > 0, $"{id}: none of its {p.Marks} marks is drawn inside it");
        }
        // Only psfFlux has NaNs: its bar, and no other, is drawn wider than zero.
        Assert.Equal(1, plots[RunReportBuilder.NanFractionId].WideBars);
        Assert.Equal(run.Input.CcdVisits.Count + 2, plots[RunReportBuilder.ZeroPointId].Visible); // points + 2 legend dots (r, i)
    }

    [Fact]
    public async Task Chromium_ScreenshotOfTheReport_HoldsMoreThanABlankPage()
    {
        string report = Path.Combine(_dir, "report.html");
        string blank = Path.Combine(_dir, "blank.html");
        await File.WriteAllTextAsync(report, RunReportBuilder.Build(SimulatedRun.Make(failures: [SimulatedRun.FailureAt(1000, 0)]).Input));
        await File.WriteAllTextAsync(blank, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>blank</title></head><body></body></html>");
        string reportPng = Path.Combine(_dir, "report.png"), blankPng = Path.Combine(_dir, "blank.png");

        var shot = await Chromium.RunAsync($"--screenshot={reportPng}", "--window-size=1100,2600", "--hide-scrollbars", new Uri(report).AbsoluteUri);
        var blankShot = await Chromium.RunAsync($"--screenshot={blankPng}", "--window-size=1100,2600", "--hide-scrollbars", new Uri(blank).AbsoluteUri);

        Assert.True(shot.Exit == 0 && blankShot.Exit == 0, $"chromium exited {shot.Exit} / {blankShot.Exit}: {shot.Err} {blankShot.Err}");
        byte[] png = await File.ReadAllBytesAsync(reportPng);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        // A page of plots compresses far worse than an empty one of the same size.
        long blankBytes = new FileInfo(blankPng).Length;
        Assert.True(png.Length > 5 * blankBytes, $"report screenshot {png.Length} bytes, blank page {blankBytes} bytes");
    }

    private sealed record PlotProbe(
        [property: System.Text.Json.Serialization.JsonPropertyName("marks")] int Marks,
        [property: System.Text.Json.Serialization.JsonPropertyName("visible")] int Visible,
        [property: System.Text.Json.Serialization.JsonPropertyName("wideBars")] int WideBars,
        [property: System.Text.Json.Serialization.JsonPropertyName("width")] double Width,
        [property: System.Text.Json.Serialization.JsonPropertyName("height")] double Height);
}

/// <summary>Debian's headless Chromium (<c>chromium</c>, else <c>chromium-browser</c>), with a profile folder of its own per call.</summary>
internal static class Chromium
{
    public static string Find()
    {
        foreach (var name in new[] { "chromium", "chromium-browser" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }
        throw new InvalidOperationException("chromium is not installed: apt-get install -y chromium (.ci/run installs it); the report's browser tests need it");
    }

    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        string profile = Directory.CreateTempSubdirectory("drp-chromium-").FullName;
        try
        {
            return await DrpProcess.RunAsync(Find(),
                ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={profile}", .. args]);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
