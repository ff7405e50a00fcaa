using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Drp.Pipeline.Coadd;

namespace Drp.Cli;

/// <summary>
/// <c>drp skymap --ra R --dec D</c>: the DC2 rings skymap's tract and patch holding a position, with their geometry
/// (centres, pixel boxes, corners on the sky and the position's pixel), as text or <c>--json</c>.
/// </summary>
internal static class SkymapCommand
{
    public static Command Create()
    {
        var ra = new Option<double>("--ra") { Description = "Right ascension, degrees (ICRS).", Required = true };
        var dec = new Option<double>("--dec") { Description = "Declination, degrees, in [-90, 90].", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the geometry as JSON instead of text." };
        var cmd = new Command("skymap", "Print the tract and patch of the DC2 rings skymap that hold a position, and their geometry.")
        {
            ra, dec, json,
        };
        cmd.SetAction(parse =>
        {
            double r = parse.GetValue(ra), d = parse.GetValue(dec);
            if (!double.IsFinite(r) || !double.IsFinite(d) || d < -90 || d > 90)
            {
                Console.Error.WriteLine($"drp skymap: --dec must be in [-90, 90] and both finite (got --ra {r} --dec {d})");
                return 2;
            }
            r = ((r % 360) + 360) % 360;
            var tract = RingsSkyMap.Dc2.FindTract(r, d);
            var patch = tract.FindPatch(r, d)
                ?? throw new InvalidOperationException($"({r}, {d}) is outside its own tract {tract.Id}'s box");
            var geometry = Describe(r, d, tract, patch);
            Console.Write(parse.GetValue(json)
                ? JsonSerializer.Serialize(geometry, new JsonSerializerOptions { WriteIndented = true }) + "\n"
                : ToText(geometry));
            return 0;
        });
        return cmd;
    }

    private sealed record BoxJson(int X0, int Y0, int Width, int Height);

    private sealed record Geometry(double Ra, double Dec, int Tract, double TractRa, double TractDec, int TractWidth, int TractHeight,
        int Patch, int PatchX, int PatchY, BoxJson Inner, BoxJson Outer, double PatchRa, double PatchDec,
        double[][] InnerCornersRaDec, double TractPixelX, double TractPixelY, double PatchPixelX, double PatchPixelY, double PixelScaleArcsec);

    private static Geometry Describe(double ra, double dec, TractInfo tract, PatchInfo patch)
    {
        var (tx, ty) = tract.Wcs.SkyToPixel(ra, dec);
        var inner = patch.Inner;
        var (pra, pdec) = tract.Wcs.PixelToSky(inner.X0 + (inner.Width - 1) / 2.0, inner.Y0 + (inner.Height - 1) / 2.0);
        // Corners at the pixel edges of the inner region, counter-clockwise from (x0, y0).
        double[][] corners = [.. new[] { (inner.X0 - 0.5, inner.Y0 - 0.5), (inner.X1 - 0.5, inner.Y0 - 0.5), (inner.X1 - 0.5, inner.Y1 - 0.5), (inner.X0 - 0.5, inner.Y1 - 0.5) }
            .Select(c => tract.Wcs.PixelToSky(c.Item1, c.Item2)).Select(s => new[] { Math.Round(s.Ra, 7), Math.Round(s.Dec, 7) })];
        return new Geometry(ra, dec, tract.Id, tract.CentreRa, tract.CentreDec, tract.Box.Width, tract.Box.Height,
            patch.Index, patch.X, patch.Y, Box(inner), Box(patch.Outer), pra, pdec, corners,
            Math.Round(tx, 3), Math.Round(ty, 3), Math.Round(tx - patch.Outer.X0, 3), Math.Round(ty - patch.Outer.Y0, 3), tract.Wcs.PixelScaleArcsec);
    }

    private static BoxJson Box(PixelBox b) => new(b.X0, b.Y0, b.Width, b.Height);

    private static string ToText(Geometry g) => string.Create(CultureInfo.InvariantCulture, $"""
        position  RA {g.Ra:F6}  Dec {g.Dec:F6}
        tract     {g.Tract}: centre RA {g.TractRa:F6} Dec {g.TractDec:F6}, {g.TractWidth} x {g.TractHeight} px at {g.PixelScaleArcsec:F3}"/px
        patch     {g.Patch} ({g.PatchX},{g.PatchY}): centre RA {g.PatchRa:F6} Dec {g.PatchDec:F6}
          inner   x [{g.Inner.X0}, {g.Inner.X0 + g.Inner.Width})  y [{g.Inner.Y0}, {g.Inner.Y0 + g.Inner.Height})  (tract pixels)
          outer   x [{g.Outer.X0}, {g.Outer.X0 + g.Outer.Width})  y [{g.Outer.Y0}, {g.Outer.Y0 + g.Outer.Height})
          corners {string.Join("  ", g.InnerCornersRaDec.Select(c => $"({c[0]:F5}, {c[1]:F5})"))}
        pixel     tract ({g.TractPixelX:F2}, {g.TractPixelY:F2}), patch outer ({g.PatchPixelX:F2}, {g.PatchPixelY:F2})

        """);
}
