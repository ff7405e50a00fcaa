using Drp.Cli.Report;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;

namespace Drp.Cli.Tests.Report;

/// <summary>
/// A small simulated run for the report: a truth field (stars in r and i), detectors laid side by side, each
/// detector-visit's Source rows the truth objects on it with 0.05″ position noise and 2 % flux noise, a CcdVisit
/// summary per detector-visit (corners = the detector's box), and the given failures.
/// </summary>
internal sealed class SimulatedRun
{
    public const double Ra0 = 55.0;
    public const double Dec0 = -30.0;
    public const double DetectorDeg = 0.05;

    public required RunReportInput Input { get; init; }

    /// <summary>Source rows with a truth counterpart (all of them, in this simulation).</summary>
    public required int MatchableSources { get; init; }

    public static SimulatedRun Make(int visits = 3, int detectors = 2, int truthObjects = 400, int seed = 5, IReadOnlyList<ReportFailure>? failures = null)
    {
        var rng = new Random(seed);
        double cosDec = Math.Cos(Dec0 * Math.PI / 180);
        var truthR = new List<ReferenceObject>();
        var truthI = new List<ReferenceObject>();
        for (int k = 0; k < truthObjects; k++)
        {
            double ra = Ra0 + rng.NextDouble() * detectors * DetectorDeg / cosDec, dec = Dec0 + rng.NextDouble() * DetectorDeg;
            double r = BandInfo.MagToNanojansky(17 + 6 * rng.NextDouble());
            truthR.Add(new ReferenceObject(ra, dec, r));
            truthI.Add(new ReferenceObject(ra, dec, r * 1.3));
        }
        var table = new CatalogTable(SourceSchema.TableName, SourceSchema.Columns);
        var summaries = new List<CcdVisitSummary>();
        for (int v = 0; v < visits; v++)
        {
            long visit = 1000 + v;
            string band = v % 2 == 0 ? "r" : "i";
            var truth = band == "r" ? truthR : truthI;
            for (int d = 0; d < detectors; d++)
            {
                long ccd = CcdVisitId.Pack(visit, d);
                double raLo = Ra0 + d * DetectorDeg / cosDec, raHi = Ra0 + (d + 1) * DetectorDeg / cosDec;
                int index = 0;
                foreach (var t in truth.Where(t => t.Ra >= raLo && t.Ra < raHi))
                {
                    double noise = 0.05 / 3600;
                    table.Add(SourceRow(new()
                    {
                        ["sourceId"] = SourceId.Pack(ccd, index++),
                        ["ccdVisitId"] = ccd,
                        ["visit"] = visit,
                        ["detector"] = d,
                        ["band"] = band,
                        ["coord_ra"] = t.Ra + Gauss(rng) * noise / cosDec,
                        ["coord_dec"] = t.Dec + Gauss(rng) * noise,
                        ["psfFlux"] = t.FluxNJy * (1 + 0.02 * Gauss(rng)),
                    }));
                }
                summaries.Add(Summary(visit, d, band, 31.2 + 0.01 * Gauss(rng) + 0.1 * v, raLo, raHi, Dec0, Dec0 + DetectorDeg));
            }
        }
        return new SimulatedRun
        {
            MatchableSources = table.Rows.Count,
            Input = new RunReportInput
            {
                Run = "sim-run",
                Sources = table,
                CcdVisits = summaries,
                Qa = [CatalogQa.Check(table, SourceSchema.Table)],
                Failures = failures ?? [],
                QuantaTotal = visits * detectors + (failures?.Count ?? 0),
                Truth = new Dictionary<string, IReadOnlyList<ReferenceObject>> { ["r"] = truthR, ["i"] = truthI },
                TruthSource = "simulated in the test",
            },
        };
    }

    /// <summary>A failure at the centre of a detector-sized box next to the simulated ones.</summary>
    public static ReportFailure FailureAt(int visit, int detector, string state = "Failed", string message = "boom") =>
        new($"step1|visit={visit}|detector={detector}", state, state == "Failed" ? "System.IO.IOException" : "Unprocessable", message, visit, detector,
            Ra0 + (detector + 0.5) * DetectorDeg / Math.Cos(Dec0 * Math.PI / 180), Dec0 + 0.5 * DetectorDeg);

    /// <summary>A Source row: the given values, every other column a plain non-NaN default of its type.</summary>
    public static object?[] SourceRow(Dictionary<string, object> values)
    {
        var row = new object?[SourceSchema.Columns.Count];
        for (int i = 0; i < row.Length; i++)
        {
            var col = SourceSchema.Columns[i];
            var type = Nullable.GetUnderlyingType(col.ClrType) ?? col.ClrType;
            row[i] = values.TryGetValue(col.Name, out var v)
                ? Convert.ChangeType(v, type, System.Globalization.CultureInfo.InvariantCulture)
                : col.Type switch
                {
                    ColumnType.Long => 0L,
                    ColumnType.Int => 0,
                    ColumnType.Double => 1.0,
                    ColumnType.Float => 1f,
                    ColumnType.Boolean => false,
                    _ => "",
                };
        }
        return row;
    }

    public static CcdVisitSummary Summary(long visit, int detector, string band, double zeroPoint, double raLo, double raHi, double decLo, double decHi) =>
        new(CcdVisitId.Pack(visit, detector), visit, detector, band, zeroPoint, 0.003, 1.0, 100, 40, 20, 3, 2, 2, 0, 500, 22, 0.8, 1.5, 0.2,
            raHi, decLo, raHi, decHi, raLo, decHi, raLo, decLo, 30.0, 60000.0 + visit / 1000.0, null);

    private static double Gauss(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
