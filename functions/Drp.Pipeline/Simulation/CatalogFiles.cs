using System.Globalization;
using System.Text;

namespace Drp.Pipeline.Simulation;

/// <summary>Writes the simulator's CSV files: comma-separated, a header row, invariant culture, RFC 4180 quoting.</summary>
internal static class CatalogFiles
{
    public static void WriteTruth(string path, IEnumerable<TruthSource> sources, IReadOnlyList<string> bands)
    {
        var sb = new StringBuilder();
        sb.Append("id,ra,dec,type");
        foreach (string b in bands)
        {
            sb.Append(',').Append(b).Append("_flux");
        }
        sb.Append(",sersic_n,hlr_arcsec,axis_ratio,ellipticity,pa_deg\n");
        foreach (var s in sources)
        {
            sb.Append(I(s.Id)).Append(',').Append(R(s.Ra)).Append(',').Append(R(s.Dec)).Append(',').Append(TypeName(s.Type));
            foreach (string b in bands)
            {
                sb.Append(',').Append(G(s.Flux(b)));
            }
            if (s.Type == SourceType.Galaxy)
            {
                sb.Append(',').Append(G(s.SersicIndex)).Append(',').Append(G(s.HalfLightRadiusArcsec)).Append(',')
                    .Append(G(s.AxisRatio)).Append(',').Append(G(s.Ellipticity)).Append(',').Append(G(s.PositionAngleDegrees));
            }
            else
            {
                sb.Append(",,,,,");
            }
            sb.Append('\n');
        }
        WriteAtomically(path, sb);
    }

    public static void WriteReferenceCatalog(string path, IEnumerable<(TruthSource Star, double[] Mags)> stars, IReadOnlyList<string> bands, double magErr)
    {
        var sb = new StringBuilder("id,ra,dec");
        foreach (string b in bands)
        {
            sb.Append(',').Append(b).Append("_mag");
        }
        foreach (string b in bands)
        {
            sb.Append(',').Append(b).Append("_magErr");
        }
        sb.Append('\n');
        foreach (var (s, mags) in stars)
        {
            sb.Append(I(s.Id)).Append(',').Append(R(s.Ra)).Append(',').Append(R(s.Dec));
            foreach (double m in mags)
            {
                sb.Append(',').Append(m.ToString("F5", CultureInfo.InvariantCulture));
            }
            foreach (double _ in mags)
            {
                sb.Append(',').Append(G(magErr));
            }
            sb.Append('\n');
        }
        WriteAtomically(path, sb);
    }

    public static void WriteVisits(string path, IEnumerable<VisitInfo> visits)
    {
        var sb = new StringBuilder("visit,band,mjd,exptime,boresight_ra,boresight_dec,rotation_deg,seeing_fwhm_arcsec,electrons_per_njy,zero_point_mag,sky_electrons_per_pixel\n");
        foreach (var v in visits)
        {
            sb.Append(I(v.Visit)).Append(',').Append(v.Band).Append(',').Append(R(v.Mjd)).Append(',').Append(G(v.ExposureTimeSeconds)).Append(',')
                .Append(R(v.BoresightRa)).Append(',').Append(R(v.BoresightDec)).Append(',').Append(G(v.RotationDegrees)).Append(',')
                .Append(G(v.SeeingFwhmArcsec)).Append(',').Append(G(v.ElectronsPerNJy)).Append(',').Append(G(v.ZeroPointMag)).Append(',')
                .Append(G(v.SkyElectronsPerPixel)).Append('\n');
        }
        WriteAtomically(path, sb);
    }

    public static void WriteFrameTruth(string path, IEnumerable<FrameSource> sources)
    {
        var sb = new StringBuilder("id,type,x,y,ra,dec,flux_njy,electrons\n");
        foreach (var s in sources)
        {
            sb.Append(I(s.Id)).Append(',').Append(TypeName(s.Type)).Append(',').Append(G(s.X)).Append(',').Append(G(s.Y)).Append(',')
                .Append(R(s.Ra)).Append(',').Append(R(s.Dec)).Append(',').Append(G(s.FluxNJy)).Append(',').Append(G(s.Electrons)).Append('\n');
        }
        WriteAtomically(path, sb);
    }

    public static void WriteAmplifiers(string path, IEnumerable<(int Detector, IReadOnlyList<AmplifierInfo> Amps)> detectors)
    {
        var sb = new StringBuilder("detector,amp,gain,read_noise_e,bias_adu,row_noise_adu,saturate_adu,datasec,biassec,detsec\n");
        foreach (var (d, amps) in detectors)
        {
            foreach (var a in amps)
            {
                sb.Append(I(d)).Append(',').Append(a.Name).Append(',').Append(G(a.Gain)).Append(',').Append(G(a.ReadNoiseElectrons)).Append(',')
                    .Append(G(a.BiasLevelAdu)).Append(',').Append(G(a.RowNoiseAdu)).Append(',').Append(G(a.SaturateAdu)).Append(',')
                    .Append(Quote(a.DataSec)).Append(',').Append(Quote(a.BiasSec)).Append(',').Append(Quote(a.DetSec)).Append('\n');
            }
        }
        WriteAtomically(path, sb);
    }

    public static void WriteCosmicRays(string path, IEnumerable<(int Visit, int Detector, CosmicRayTrack Track)> tracks)
    {
        var sb = new StringBuilder("visit,detector,x0,y0,x1,y1,electrons\n");
        foreach (var (v, d, t) in tracks)
        {
            sb.Append(I(v)).Append(',').Append(I(d)).Append(',').Append(G(t.X0)).Append(',').Append(G(t.Y0)).Append(',')
                .Append(G(t.X1)).Append(',').Append(G(t.Y1)).Append(',').Append(G(t.Electrons)).Append('\n');
        }
        WriteAtomically(path, sb);
    }

    private static string TypeName(SourceType t) => t == SourceType.Star ? "star" : "galaxy";

    private static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Round-trip precision, for coordinates.</summary>
    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string G(double v) => v.ToString("G9", CultureInfo.InvariantCulture);

    private static string Quote(string s) => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A rerun replaces a file whole: readers never see half of one.</summary>
    private static void WriteAtomically(string path, StringBuilder content)
    {
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, content.ToString());
        File.Move(tmp, path, overwrite: true);
    }
}
