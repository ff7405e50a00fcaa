using System.Globalization;
using System.Text.RegularExpressions;
using Drp.Cli.Report;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;

namespace Drp.Cli.Tests.Report;

/// <summary>The report page and its numbers, from simulated runs: no storage, no browser.</summary>
public sealed class RunReportBuilderTests
{
    [Fact]
    public void Build_SimulatedRun_HasEverySvgPlotWithMarksAndNoNoDataNote()
    {
        var run = SimulatedRun.Make(failures: [SimulatedRun.FailureAt(1001, 0), SimulatedRun.FailureAt(1002, 1, "Unprocessable", "too few reference stars")]);

        string html = RunReportBuilder.Build(run.Input);

        foreach (var id in RunReportBuilder.PlotIds)
        {
            string svg = Svg(html, id);
            Assert.Matches("<title id=\"" + id + "-title\">[^<]+</title>", svg);
            Assert.True(Regex.Matches(svg, "<(rect|circle|polygon)[ >]").Count > 0, $"{id} has no marks");
        }
        Assert.DoesNotContain($"class=\"{RunReportBuilder.NoDataClass}\"", html);
        Assert.Equal(2, Regex.Matches(Svg(html, RunReportBuilder.FailuresId), "class=\"failure\"").Count);
        Assert.Equal(run.Input.CcdVisits.Count, Regex.Matches(Svg(html, RunReportBuilder.ZeroPointId), "data-ccd-visit=").Count);
    }

    [Fact]
    public void Build_Page_IsSelfContained()
    {
        string html = RunReportBuilder.Build(SimulatedRun.Make(failures: [SimulatedRun.FailureAt(1000, 1)]).Input);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=", html, StringComparison.OrdinalIgnoreCase);
        // The only URL is the SVG namespace, which is a name, never fetched.
        var urls = Regex.Matches(html, "https?://[^\"' <]+").Select(m => m.Value).Distinct().ToList();
        Assert.Equal(["http://www.w3.org/2000/svg"], urls);
    }

    [Fact]
    public void NanFractions_TableWithInjectedNaNs_CountsEachColumnExactly()
    {
        var run = SimulatedRun.Make(visits: 2, detectors: 1, truthObjects: 200);
        var table = run.Input.Sources;
        int rows = table.Rows.Count;
        int psf = table.IndexOf("psfFlux"), kron = table.IndexOf("kronFlux"), ixx = table.IndexOf("ixx");
        for (int k = 0; k < rows; k += 3)
        {
            table.Rows[k][psf] = double.NaN;
        }
        foreach (var row in table.Rows)
        {
            row[kron] = double.NaN;
        }
        table.Rows[0][ixx] = double.NaN;
        int expectedPsf = (rows + 2) / 3;

        var fractions = ReportStatistics.NanFractions(table).ToDictionary(f => f.Column);
        string html = RunReportBuilder.Build(run.Input);

        Assert.Equal(expectedPsf, fractions["psfFlux"].Missing);
        Assert.Equal((double)expectedPsf / rows, fractions["psfFlux"].Fraction, 12);
        Assert.Equal(1.0, fractions["kronFlux"].Fraction);
        Assert.Equal(1, fractions["ixx"].Missing);
        Assert.Equal(3, fractions.Values.Count(f => f.Missing > 0));
        Assert.Equal(SourceSchema.Columns.Count, fractions.Count);
        // The page carries the same numbers on each bar.
        Assert.Equal(expectedPsf.ToString(CultureInfo.InvariantCulture), BarAttribute(html, "psfFlux", "data-missing"));
        Assert.Equal((double)expectedPsf / rows, double.Parse(BarAttribute(html, "psfFlux", "data-fraction"), CultureInfo.InvariantCulture), 12);
        Assert.Equal("0", BarAttribute(html, "coord_ra", "data-missing"));
        Assert.Equal(SourceSchema.Columns.Count, Regex.Matches(Svg(html, RunReportBuilder.NanFractionId), "class=\"bar\"").Count);
    }

    [Fact]
    public void Build_EmptyRun_RendersANoDataNoteForEveryPlot()
    {
        var input = new RunReportInput { Run = "empty", Sources = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns) };

        string html = RunReportBuilder.Build(input);

        foreach (var id in RunReportBuilder.PlotIds)
        {
            Assert.DoesNotContain($"id=\"{id}\"", html);
            Assert.Matches($"<p class=\"{RunReportBuilder.NoDataClass}\" data-plot=\"{id}\">No data: [^<]+</p>", html);
        }
        Assert.Contains("no QA report", html);
    }

    [Fact]
    public void Build_FailuresWithoutPosition_ListsThemInATableInsteadOfAPlot()
    {
        var run = SimulatedRun.Make(failures:
        [
            new ReportFailure("step1|visit=7|detector=2", "Failed", "Drp.Storage.Datasets.DatasetUnavailableException", "blob <x> & y unavailable", 7, 2),
            new ReportFailure("someOtherStep|patch=3", "Failed", "System.InvalidOperationException", "no", null, null),
        ]);

        string html = RunReportBuilder.Build(run.Input);

        Assert.Matches($"data-plot=\"{RunReportBuilder.FailuresId}\">No data: no failed quantum has a known sky position", html);
        Assert.DoesNotContain($"id=\"{RunReportBuilder.FailuresId}\"", html);
        var table = Regex.Match(html, "<table id=\"failures-table\">.*?</table>", RegexOptions.Singleline).Value;
        Assert.Equal(3, Regex.Matches(table, "<tr>").Count);
        Assert.Contains("blob &lt;x&gt; &amp; y unavailable", table);
        Assert.DoesNotContain("<x>", html);
    }

    [Fact]
    public void Build_NoTruth_SaysSoWhereThePhotometryPlotWouldBe()
    {
        var run = SimulatedRun.Make();

        string html = RunReportBuilder.Build(run.Input with { Truth = null });

        Assert.Matches($"data-plot=\"{RunReportBuilder.PhotometryId}\">No data: the run has no truth catalog", html);
        Assert.Contains($"id=\"{RunReportBuilder.DensityId}\"", html);
    }

    [Fact]
    public void Build_QaFindings_AreListed()
    {
        var run = SimulatedRun.Make(visits: 1, detectors: 1, truthObjects: 50);
        var table = run.Input.Sources;
        table.Rows[1][table.IndexOf("coord_dec")] = 95.0;
        var qa = CatalogQa.Check(table, SourceSchema.Table);

        string html = RunReportBuilder.Build(run.Input with { Qa = [qa], Notes = ["visit 9 detector 9 succeeded, but its source_table is missing"] });

        Assert.Contains("<li data-check=\"range\" data-column=\"coord_dec\">Source.coord_dec: 1 of ", html);
        Assert.Contains("<li>visit 9 detector 9 succeeded, but its source_table is missing</li>", html);
    }

    [Fact]
    public void MatchToTruth_SimulatedSources_MatchesEveryOneWithUnitFluxRatio()
    {
        var run = SimulatedRun.Make();

        var matches = ReportStatistics.MatchToTruth(run.Input.Sources, run.Input.Truth!, 0.5);

        Assert.Equal(run.MatchableSources, matches.Count);
        // 2 % flux noise: the median ratio is 1 within a few tenths of a percent for ~1000 sources.
        Assert.InRange(ReportStatistics.Median(matches.Select(m => m.Ratio)), 0.995, 1.005);
        // Truth r magnitudes are 17..23; i fluxes are 1.3 times r (2.5 log10 1.3 = 0.285 mag brighter).
        Assert.All(matches.Where(m => m.Band == "r"), m => Assert.InRange(m.TrueMag, 17, 23));
        Assert.All(matches.Where(m => m.Band == "i"), m => Assert.InRange(m.TrueMag, 17 - 0.285, 23 - 0.284));
    }

    [Fact]
    public void MatchToTruth_SourceOneArcsecAway_IsNotMatchedWithinHalfAnArcsec()
    {
        var truth = new Dictionary<string, IReadOnlyList<ReferenceObject>> { ["r"] = [new ReferenceObject(10, 0, 1000)] };
        var table = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        table.Add(SimulatedRun.SourceRow(new() { ["sourceId"] = 1L, ["ccdVisitId"] = 5L, ["band"] = "r", ["coord_ra"] = 10.0, ["coord_dec"] = 1.0 / 3600, ["psfFlux"] = 1000.0 }));
        table.Add(SimulatedRun.SourceRow(new() { ["sourceId"] = 2L, ["ccdVisitId"] = 6L, ["band"] = "r", ["coord_ra"] = 10.0, ["coord_dec"] = 0.3 / 3600, ["psfFlux"] = 900.0 }));

        var matches = ReportStatistics.MatchToTruth(table, truth, 0.5);

        var m = Assert.Single(matches);
        Assert.Equal(2L, m.SourceId);
        Assert.Equal(0.9, m.Ratio, 12);
    }

    [Fact]
    public void Density_PositionsAcrossRaZero_StayTogetherAndAreAllCounted()
    {
        var positions = ReportStatistics.Unwrap([(359.99, 1.0), (0.01, 1.0), (0.02, 1.01), (359.98, 1.02)]);

        var density = ReportStatistics.Density(positions, bins: 4)!;

        Assert.Equal(4, density.Counts.Cast<int>().Sum());
        Assert.InRange(density.RaMax - density.RaMin, 0.039, 0.041);
        Assert.Null(ReportStatistics.Density([], bins: 4));
    }

    /// <summary>The text of the svg with this id.</summary>
    internal static string Svg(string html, string id)
    {
        var m = Regex.Match(html, $"<svg id=\"{id}\".*?</svg>", RegexOptions.Singleline);
        Assert.True(m.Success, $"no <svg id=\"{id}\"> in the page");
        return m.Value;
    }

    private static string BarAttribute(string html, string column, string attribute)
    {
        var m = Regex.Match(html, $"<rect [^>]*data-column=\"{column}\"[^>]*>");
        Assert.True(m.Success, $"no bar for {column}");
        return Regex.Match(m.Value, $"{attribute}=\"([^\"]*)\"").Groups[1].Value;
    }
}
