using System.Globalization;
using System.Text;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;
using static Drp.Cli.Report.SvgChart;

namespace Drp.Cli.Report;

/// <summary>
/// Builds a run's report: one self-contained HTML page (inline CSS and SVG; no scripts, no external resources, so it
/// opens from a file with no network) with the source density on the sky, the NaN fraction per column, the zero
/// point per detector-visit grouped by visit, photometry against the truth where there is a truth, the failed quanta
/// on the sky (and as a table), and the QA findings. Each plot is an <c>&lt;svg&gt;</c> with a stable id
/// (<see cref="PlotIds"/>) and a title; a plot with nothing to draw is a "no data" note with the reason instead.
/// </summary>
public static class RunReportBuilder
{
    public const string DensityId = "plot-density";
    public const string NanFractionId = "plot-nan-fraction";
    public const string ZeroPointId = "plot-zero-point";
    public const string PhotometryId = "plot-photometry";
    public const string FailuresId = "plot-failures";

    /// <summary>Every plot's svg id, in page order.</summary>
    public static IReadOnlyList<string> PlotIds { get; } = [DensityId, NanFractionId, ZeroPointId, PhotometryId, FailuresId];

    /// <summary>The class of the note shown where a plot has no data.</summary>
    public const string NoDataClass = "no-data";

    /// <summary>Points drawn at most in the photometry plot (an even sample beyond that, said on the page).</summary>
    public const int MaxPhotometryPoints = 20_000;

    /// <summary>Rows of the failures table at most.</summary>
    public const int MaxFailureRows = 500;

    public static string Build(RunReportInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var failed = input.Failures.Count(f => f.State == "Failed");
        var unprocessable = input.Failures.Count - failed;
        var visits = input.CcdVisits.Select(c => c.Visit).Distinct().Count();

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append(CultureInfo.InvariantCulture, $"<title>drp report: run {Esc(input.Run)}</title>\n")
            .Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n")
            .Append(CultureInfo.InvariantCulture, $"<h1>Run <code>{Esc(input.Run)}</code></h1>\n")
            .Append("<p class=\"summary\">")
            .Append(CultureInfo.InvariantCulture, $"{input.Sources.Rows.Count:N0} {Esc(input.Sources.Name)} rows from {input.CcdVisits.Count:N0} detector-visits in {visits:N0} visits; ")
            .Append(input.QuantaTotal > 0 ? string.Create(CultureInfo.InvariantCulture, $"{input.QuantaTotal:N0} quanta in the ledger, ") : "")
            .Append(CultureInfo.InvariantCulture, $"{failed:N0} failed, {unprocessable:N0} unprocessable.")
            .Append(input.GeneratedAt is { } at ? string.Create(CultureInfo.InvariantCulture, $" Generated {at:u}.") : "")
            .Append("</p>\n<nav>")
            .Append(string.Join(" · ", new[] { ("density", "Density"), ("nan-fraction", "NaN fraction"), ("zero-point", "Zero point"), ("photometry", "Photometry"), ("failures", "Failures"), ("qa", "QA") }
                .Select(s => $"<a href=\"#{s.Item1}\">{s.Item2}</a>")))
            .Append("</nav>\n");

        Section(html, "density", "Source density on the sky", DensityPlot(input));
        Section(html, "nan-fraction", "NaN fraction per column", NanFractionPlot(input));
        Section(html, "zero-point", "Zero point per detector-visit, by visit", ZeroPointPlot(input));
        Section(html, "photometry", "Photometry against the truth", PhotometryPlot(input));
        Section(html, "failures", "Failed and unprocessable quanta", FailuresPlot(input) + FailuresTable(input));
        Section(html, "qa", "QA", QaSection(input));
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private const string Css = """
        body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1000px; color: #222; }
        h1 code { font-size: 0.9em; }
        section { margin: 2em 0; }
        svg.plot { display: block; background: #fff; border: 1px solid #ddd; }
        .no-data { padding: 1em; background: #f4f4f4; border-left: 4px solid #999; }
        .caption { color: #555; font-size: 0.9em; }
        table { border-collapse: collapse; font-size: 0.85em; }
        td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
        .passed { color: #1a7f37; }
        .findings li, .notes li { color: #9a3412; }

        """;

    private static void Section(StringBuilder html, string id, string heading, string body) =>
        html.Append(CultureInfo.InvariantCulture, $"<section id=\"{id}\">\n<h2>{Esc(heading)}</h2>\n{body}\n</section>\n");

    private static string NoData(string plotId, string why) =>
        $"<p class=\"{NoDataClass}\" data-plot=\"{plotId}\">No data: {Esc(why)}</p>";

    private static string Caption(string text) => $"<p class=\"caption\">{Esc(text)}</p>";

    private static string Pct(double f) => (100 * f).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static string DensityPlot(RunReportInput input)
    {
        var positions = ReportStatistics.Positions(input.Sources);
        // About four sources per occupied bin on average over a uniform field, between 4 x 4 and 60 x 60 bins.
        int bins = Math.Clamp((int)Math.Round(Math.Sqrt(positions.Count / 4.0)), 4, 60);
        if (ReportStatistics.Density(positions, bins) is not { } d)
        {
            return NoData(DensityId, input.Sources.Rows.Count == 0 ? "the run has no Source rows." : "no Source row has a finite coord_ra and coord_dec.");
        }
        var chart = new SvgChart(DensityId, "Sources per square arcminute", right: 100);
        var (x, y) = SkyScales(chart, d.RaMin, d.RaMax, d.DecMin, d.DecMax);
        double max = 0;
        for (int j = 0; j < d.DecBins; j++)
        {
            for (int i = 0; i < d.RaBins; i++)
            {
                max = Math.Max(max, d.Counts[i, j] / d.BinAreaArcmin2(j));
            }
        }
        double dRa = (d.RaMax - d.RaMin) / d.RaBins, dDec = (d.DecMax - d.DecMin) / d.DecBins;
        for (int j = 0; j < d.DecBins; j++)
        {
            for (int i = 0; i < d.RaBins; i++)
            {
                int n = d.Counts[i, j];
                if (n == 0)
                {
                    continue;
                }
                double density = n / d.BinAreaArcmin2(j);
                double ra0 = d.RaMin + i * dRa, dec0 = d.DecMin + j * dDec;
                double px0 = x.Map(ra0), px1 = x.Map(ra0 + dRa), py0 = y.Map(dec0 + dDec), py1 = y.Map(dec0);
                chart.Rect(Math.Min(px0, px1), py0, Math.Abs(px1 - px0), py1 - py0, ColorMap.Viridis(max > 0 ? density / max : 0),
                    string.Create(CultureInfo.InvariantCulture, $"RA {ra0:F4}..{ra0 + dRa:F4}, Dec {dec0:F4}..{dec0 + dDec:F4}: {n} sources ({density:G3} per arcmin²)"),
                    string.Create(CultureInfo.InvariantCulture, $"data-count=\"{n}\""));
            }
        }
        chart.Axes(x, y, "RA (deg, east to the left)", "Dec (deg)", v => v.ToString("0.###", CultureInfo.InvariantCulture), v => v.ToString("0.###", CultureInfo.InvariantCulture));
        ColourBar(chart, max, "per arcmin²");
        return chart + Caption(string.Create(CultureInfo.InvariantCulture,
            $"{d.Positions:N0} positions in {d.RaBins} x {d.DecBins} bins over RA {d.RaMin:F4}..{d.RaMax:F4}, Dec {d.DecMin:F4}..{d.DecMax:F4}; colour: sources per square arcminute (max {max:G3})."));
    }

    private static void ColourBar(SvgChart chart, double max, string label)
    {
        const int steps = 20;
        double x0 = chart.Right + 20, h = (chart.Bottom - chart.Top) / steps;
        for (int k = 0; k < steps; k++)
        {
            chart.Rect(x0, chart.Bottom - (k + 1) * h, 14, h + 0.5, ColorMap.Viridis((k + 0.5) / steps));
        }
        chart.Text(x0 + 18, chart.Top + 10, max.ToString("G3", CultureInfo.InvariantCulture));
        chart.Text(x0 + 18, chart.Bottom, "0");
        chart.Text(x0, chart.Top - 8, label, size: 10);
    }

    /// <summary>RA (east left) and Dec scales with equal angular scale on both axes: the smaller extent is widened.</summary>
    private static (LinearScale X, LinearScale Y) SkyScales(SvgChart chart, double raMin, double raMax, double decMin, double decMax)
    {
        double cosDec = Math.Max(0.01, Math.Cos(0.5 * (decMin + decMax) * Math.PI / 180));
        double raSky = (raMax - raMin) * cosDec, decSpan = decMax - decMin;
        double w = chart.Right - chart.Left, h = chart.Bottom - chart.Top;
        if (raSky / decSpan > w / h)
        {
            double want = raSky * h / w, mid = 0.5 * (decMin + decMax);
            (decMin, decMax) = (mid - 0.5 * want, mid + 0.5 * want);
        }
        else
        {
            double want = decSpan * w / h / cosDec, mid = 0.5 * (raMin + raMax);
            (raMin, raMax) = (mid - 0.5 * want, mid + 0.5 * want);
        }
        return (chart.XScale(raMin, raMax, reversed: true), chart.YScale(decMin, decMax));
    }

    private static string NanFractionPlot(RunReportInput input)
    {
        if (input.Sources.Rows.Count == 0)
        {
            return NoData(NanFractionId, "the run has no Source rows.");
        }
        var fractions = ReportStatistics.NanFractions(input.Sources);
        const double rowHeight = 14;
        var chart = new SvgChart(NanFractionId, $"NaN or null fraction per {input.Sources.Name} column",
            width: 760, height: 36 + 56 + rowHeight * fractions.Count, left: 190, right: 70);
        var x = chart.XScale(0, 1);
        for (int k = 0; k < fractions.Count; k++)
        {
            var f = fractions[k];
            double top = chart.Top + k * rowHeight + 2;
            chart.Rect(chart.Left, top, chart.Right - chart.Left, rowHeight - 4, "#f1f1f1");
            chart.Rect(chart.Left, top, x.Map(f.Fraction) - chart.Left, rowHeight - 4, f.Missing == 0 ? "#9ca3af" : "#d55e00",
                string.Create(CultureInfo.InvariantCulture, $"{f.Column}: {f.Missing:N0} of {f.Rows:N0} rows NaN or null ({Pct(f.Fraction)})"),
                string.Create(CultureInfo.InvariantCulture, $"class=\"bar\" data-column=\"{Esc(f.Column)}\" data-missing=\"{f.Missing}\" data-fraction=\"{f.Fraction:R}\""));
            chart.Text(chart.Left - 6, top + rowHeight - 5, f.Column, "end", 10);
            chart.Text(chart.Right + 4, top + rowHeight - 5, Pct(f.Fraction), size: 10);
        }
        chart.Axes(x, chart.YScale(0, fractions.Count), "fraction of rows that are NaN or null", "", v => (100 * v).ToString("0", CultureInfo.InvariantCulture) + " %", yTicks: false);
        int withMissing = fractions.Count(f => f.Missing > 0);
        return chart + Caption(string.Create(CultureInfo.InvariantCulture,
            $"{withMissing} of {fractions.Count} columns have NaN or null values in {input.Sources.Rows.Count:N0} rows (NaN counts only in floating-point columns; flags are never NaN)."));
    }

    private static string ZeroPointPlot(RunReportInput input)
    {
        var rows = input.CcdVisits.Where(c => double.IsFinite(c.ZeroPoint)).ToList();
        if (rows.Count == 0)
        {
            return NoData(ZeroPointId, input.CcdVisits.Count == 0 ? "the run has no CcdVisit summaries (no detector-visit succeeded)." : "no CcdVisit summary has a finite zero point.");
        }
        var visits = rows.Select(c => c.Visit).Distinct().Order().ToList();
        var index = visits.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        double lo = rows.Min(c => c.ZeroPoint - (double.IsFinite(c.ZeroPointErr) ? c.ZeroPointErr : 0));
        double hi = rows.Max(c => c.ZeroPoint + (double.IsFinite(c.ZeroPointErr) ? c.ZeroPointErr : 0));
        double pad = Math.Max(0.05, 0.08 * (hi - lo));
        var chart = new SvgChart(ZeroPointId, "Photometric zero point (AB mag of 1 electron)", width: Math.Clamp(120 + 40 * visits.Count, 640, 960));
        var x = chart.XScale(-0.5, visits.Count - 0.5);
        var y = chart.YScale(lo - pad, hi + pad);
        foreach (var visit in rows.GroupBy(c => c.Visit))
        {
            var detectors = visit.OrderBy(c => c.Detector).ToList();
            for (int k = 0; k < detectors.Count; k++)
            {
                var c = detectors[k];
                double offset = detectors.Count == 1 ? 0 : -0.3 + 0.6 * k / (detectors.Count - 1);
                double px = x.Map(index[c.Visit] + offset);
                if (double.IsFinite(c.ZeroPointErr) && c.ZeroPointErr > 0)
                {
                    chart.Line(px, y.Map(c.ZeroPoint - c.ZeroPointErr), px, y.Map(c.ZeroPoint + c.ZeroPointErr), ColorMap.Band(c.Band));
                }
                chart.Circle(px, y.Map(c.ZeroPoint), 3.5, ColorMap.Band(c.Band),
                    string.Create(CultureInfo.InvariantCulture, $"visit {c.Visit} detector {c.Detector} ({c.Band}): zero point {c.ZeroPoint:F4} ± {c.ZeroPointErr:F4} from {c.ReferenceMatchCount} reference stars"),
                    string.Create(CultureInfo.InvariantCulture, $"data-ccd-visit=\"{c.CcdVisitId}\" data-zero-point=\"{c.ZeroPoint:R}\""));
            }
        }
        int every = Math.Max(1, (int)Math.Ceiling(visits.Count / 20.0));
        for (int i = 0; i < visits.Count; i += every)
        {
            chart.Text(x.Map(i), chart.Bottom + 16, visits[i].ToString(CultureInfo.InvariantCulture), "middle");
        }
        chart.Axes(x, y, "visit", "zero point (mag)", xTicks: false, yFormat: v => v.ToString("0.00", CultureInfo.InvariantCulture));
        Legend(chart, rows.Select(c => c.Band).Distinct().Order());
        return chart + Caption(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} detector-visits in {visits.Count} visits; detectors spread left to right within their visit; bars: zero-point uncertainty; colour: band. Within a visit the points should agree (same exposure, same sky)."));
    }

    private static void Legend(SvgChart chart, IEnumerable<string> bands)
    {
        // Above the plot area, left: it never hides a point.
        double lx = chart.Left + 6;
        foreach (var b in bands)
        {
            chart.Circle(lx, chart.Top - 8, 4, ColorMap.Band(b));
            chart.Text(lx + 7, chart.Top - 4, b);
            lx += 30;
        }
    }

    private static string PhotometryPlot(RunReportInput input)
    {
        if (input.Truth is null)
        {
            return NoData(PhotometryId, "the run has no truth catalog (only simulated runs do; drp report --truth FILE).");
        }
        if (input.Sources.Rows.Count == 0)
        {
            return NoData(PhotometryId, "the run has no Source rows to compare with the truth.");
        }
        var matches = ReportStatistics.MatchToTruth(input.Sources, input.Truth, input.MatchRadiusArcsec);
        if (matches.Count == 0)
        {
            return NoData(PhotometryId, string.Create(CultureInfo.InvariantCulture,
                $"no Source row with a finite psfFlux lies within {input.MatchRadiusArcsec}″ of a truth object of its band (truth bands: {string.Join(", ", input.Truth.Keys.Order())})."));
        }
        double magLo = Math.Floor(matches.Min(m => m.TrueMag) * 2) / 2, magHi = Math.Ceiling(matches.Max(m => m.TrueMag) * 2) / 2;
        var ratios = matches.Select(m => m.Ratio).Order().ToArray();
        double p05 = ratios[(int)(0.05 * (ratios.Length - 1))], p95 = ratios[(int)(0.95 * (ratios.Length - 1))];
        double yLo = Math.Max(0, Math.Min(0.8, p05)), yHi = Math.Min(3, Math.Max(1.2, p95));
        var chart = new SvgChart(PhotometryId, "psfFlux / true flux against true magnitude");
        var x = chart.XScale(magLo, magHi);
        var y = chart.YScale(yLo, yHi);
        chart.Line(chart.Left, y.Map(1), chart.Right, y.Map(1), "#444", "4 3");
        int stride = Math.Max(1, (int)Math.Ceiling(matches.Count / (double)MaxPhotometryPoints));
        for (int k = 0; k < matches.Count; k += stride)
        {
            var m = matches[k];
            double r = Math.Clamp(m.Ratio, yLo, yHi);
            chart.Circle(x.Map(m.TrueMag), y.Map(r), 2, ColorMap.Band(m.Band),
                string.Create(CultureInfo.InvariantCulture, $"source {m.SourceId} ({m.Band}): true {m.TrueMag:F2} mag, psfFlux/true = {m.Ratio:F3}"),
                r == m.Ratio ? null : "fill-opacity=\"0.4\"");
        }
        chart.Axes(x, y, "true magnitude (AB)", "psfFlux / true flux");
        Legend(chart, matches.Select(m => m.Band).Distinct().Order());
        // Faint sources scatter (and detection favours upward fluctuations): the bright quarter says more about calibration.
        var perBand = matches.GroupBy(m => m.Band).OrderBy(g => g.Key).Select(g =>
        {
            var bright = g.OrderBy(m => m.TrueMag).Take(Math.Max(1, g.Count() / 4)).ToList();
            return string.Create(CultureInfo.InvariantCulture,
                $"{g.Key}: {g.Count():N0} matched, median ratio {ReportStatistics.Median(g.Select(m => m.Ratio)):F3}, {ReportStatistics.Median(bright.Select(m => m.Ratio)):F3} for the brightest quarter (true mag < {bright[^1].TrueMag:F1})");
        });
        string sampled = stride > 1 ? string.Create(CultureInfo.InvariantCulture, $" Every {stride}th match drawn.") : "";
        return chart + Caption(string.Create(CultureInfo.InvariantCulture,
            $"Sources matched one to one within {input.MatchRadiusArcsec}″ of a truth object of their band, per detector-visit ({string.Join("; ", perBand)}).{sampled} The truth holds stars and galaxies alike, and a resolved galaxy's psfFlux falls short of its total flux. Points beyond the y range are drawn faint at its edge. Truth: {input.TruthSource ?? "given"}."));
    }

    private static string FailuresPlot(RunReportInput input)
    {
        if (input.Failures.Count == 0)
        {
            return NoData(FailuresId, input.QuantaTotal > 0 ? "no failed or unprocessable quanta: every quantum in the ledger succeeded or is still running." : "no failed or unprocessable quanta.");
        }
        var placed = input.Failures.Where(f => f.HasPosition).ToList();
        if (placed.Count == 0)
        {
            return NoData(FailuresId, "no failed quantum has a known sky position; they are listed below.");
        }
        var outlines = input.CcdVisits
            .Select(c => new[] { (c.Llcra, c.Llcdec), (c.Lrcra, c.Lrcdec), (c.Urcra, c.Urcdec), (c.Ulcra, c.Ulcdec) })
            .Where(o => o.All(p => double.IsFinite(p.Item1) && double.IsFinite(p.Item2)))
            .ToList();
        var all = ReportStatistics.Unwrap(outlines.SelectMany(o => o).Concat(placed.Select(f => (f.Ra!.Value, f.Dec!.Value))).ToArray());
        bool unwrapped = all.Any(p => p.Ra < 0);
        double Ra(double ra) => unwrapped && ra > 180 ? ra - 360 : ra;
        double raMin = all.Min(p => p.Ra), raMax = all.Max(p => p.Ra), decMin = all.Min(p => p.Dec), decMax = all.Max(p => p.Dec);
        double padRa = Math.Max(0.2 * (raMax - raMin), 1.0 / 60), padDec = Math.Max(0.2 * (decMax - decMin), 1.0 / 60);
        var chart = new SvgChart(FailuresId, "Failed quanta at their detector's centre");
        var (x, y) = SkyScales(chart, raMin - padRa, raMax + padRa, decMin - padDec, decMax + padDec);
        foreach (var o in outlines)
        {
            chart.Polygon(o.Select(p => (x.Map(Ra(p.Item1)), y.Map(p.Item2))), "none", "#bbb");
        }
        foreach (var f in placed)
        {
            chart.Circle(x.Map(Ra(f.Ra!.Value)), y.Map(f.Dec!.Value), 6, f.State == "Failed" ? "#c62828" : "#ef8f00",
                $"{f.QuantumKey}: {f.State} {f.ErrorClass}: {f.Message}",
                $"class=\"failure\" data-state=\"{Esc(f.State)}\" fill-opacity=\"0.8\"");
        }
        chart.Axes(x, y, "RA (deg, east to the left)", "Dec (deg)", v => v.ToString("0.###", CultureInfo.InvariantCulture), v => v.ToString("0.###", CultureInfo.InvariantCulture));
        chart.Circle(chart.Left + 6, chart.Top - 8, 5, "#c62828");
        chart.Text(chart.Left + 14, chart.Top - 4, "failed");
        chart.Circle(chart.Left + 60, chart.Top - 8, 5, "#ef8f00");
        chart.Text(chart.Left + 68, chart.Top - 4, "unprocessable");
        return chart + Caption(string.Create(CultureInfo.InvariantCulture,
            $"{placed.Count} of {input.Failures.Count} failed or unprocessable quanta placed at their detector's centre; grey: the {outlines.Count} detector-visits that succeeded."));
    }

    private static string FailuresTable(RunReportInput input)
    {
        if (input.Failures.Count == 0)
        {
            return "";
        }
        var sb = new StringBuilder("<table id=\"failures-table\">\n<tr><th>quantum</th><th>state</th><th>error class</th><th>message</th><th>visit</th><th>detector</th><th>RA, Dec (deg)</th></tr>\n");
        foreach (var f in input.Failures.OrderBy(f => f.Visit).ThenBy(f => f.Detector).ThenBy(f => f.QuantumKey, StringComparer.Ordinal).Take(MaxFailureRows))
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{Esc(f.QuantumKey)}</td><td>{Esc(f.State)}</td><td>{Esc(f.ErrorClass ?? "")}</td><td>{Esc(f.Message ?? "")}</td><td>{f.Visit}</td><td>{f.Detector}</td><td>{(f.HasPosition ? $"{f.Ra:F5}, {f.Dec:F5}" : "unknown")}</td></tr>\n");
        }
        sb.Append("</table>");
        if (input.Failures.Count > MaxFailureRows)
        {
            sb.Append(Caption(string.Create(CultureInfo.InvariantCulture, $"First {MaxFailureRows} of {input.Failures.Count:N0} shown; drp failures lists them by error class.")));
        }
        return sb.ToString();
    }

    private static string QaSection(RunReportInput input)
    {
        var sb = new StringBuilder();
        if (input.Qa.Count == 0)
        {
            sb.Append(NoData("qa", "no QA report (no table was checked)."));
        }
        foreach (var qa in input.Qa)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<h3>{Esc(qa.Table)}</h3>\n");
            if (qa.Passed)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<p class=\"passed\">{Esc(qa.Summary)}.</p>\n");
                continue;
            }
            sb.Append(CultureInfo.InvariantCulture, $"<p>{qa.ChecksRun} checks on {qa.Rows:N0} rows; {qa.Findings.Count} found something:</p>\n<ul class=\"findings\">\n");
            foreach (var f in qa.Findings)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<li data-check=\"{Esc(f.Check)}\" data-column=\"{Esc(f.Column ?? "")}\">{Esc(f.Message)}</li>\n");
            }
            sb.Append("</ul>\n");
        }
        if (input.Notes.Count > 0)
        {
            sb.Append("<h3>Notes from gathering the run's outputs</h3>\n<ul class=\"notes\">\n");
            foreach (var n in input.Notes)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<li>{Esc(n)}</li>\n");
            }
            sb.Append("</ul>\n");
        }
        return sb.ToString();
    }
}
