using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Simulation;

/// <summary>
/// Draws the simulated sky: stars and galaxies uniformly over a square of the tangent plane at the field centre,
/// magnitudes from rising power-law counts, simple colour sequences, galaxy shapes. Deterministic for the seed.
/// </summary>
internal static class SkyCatalog
{
    /// <summary>Slope of the star counts, dex per magnitude (high Galactic latitude, faint end).</summary>
    private const double StarCountSlope = 0.15;

    /// <summary>Slope of the galaxy counts, dex per magnitude (r ≈ 19-25).</summary>
    private const double GalaxyCountSlope = 0.33;

    /// <summary>Half-size of the simulated square on the sky, arcseconds: the dithered focal plane plus the margin.</summary>
    public static double HalfSizeArcsec(SimulationOptions o)
    {
        double fpWidth = o.DetectorColumns * o.DetectorWidth + (o.DetectorColumns - 1) * o.DetectorGapPixels;
        double fpHeight = o.DetectorRows * o.DetectorHeight + (o.DetectorRows - 1) * o.DetectorGapPixels;
        double halfDiagonal = 0.5 * Math.Sqrt(fpWidth * fpWidth + fpHeight * fpHeight) * o.PixelScaleArcsec;
        return halfDiagonal + o.DitherRadiusArcsec + o.SkyMarginArcsec;
    }

    public static List<TruthSource> Generate(SimulationOptions o)
    {
        double half = HalfSizeArcsec(o);
        double areaArcmin2 = Math.Pow(2.0 * half / 60.0, 2);
        // The tangent plane in 1-arcsecond "pixels" centred on the field centre.
        var plane = new TanWcs(o.CenterRa, o.CenterDec, 1.0, 1.0, -1.0 / 3600.0, 0, 0, 1.0 / 3600.0);
        var rng = new SimRandom(o.Seed, StreamPurpose.Catalog);
        int starCount = (int)Math.Round(o.StarDensityPerArcmin2 * areaArcmin2);
        int galaxyCount = (int)Math.Round(o.GalaxyDensityPerArcmin2 * areaArcmin2);
        var sources = new List<TruthSource>(starCount + galaxyCount);
        long id = 1;

        for (int i = 0; i < starCount; i++)
        {
            var (ra, dec) = plane.PixelToSky(rng.Uniform(-half, half), rng.Uniform(-half, half));
            double r = PowerLawMagnitude(rng, o.StarMagBright, o.StarMagFaint, StarCountSlope);
            double gr = rng.Uniform(0.25, 1.45);
            double[] mags = Colors(r, ug: 0.7 + 1.3 * gr, gr: gr, ri: -0.05 + 0.5 * gr, iz: -0.02 + 0.3 * gr, zy: 0.12 * gr);
            sources.Add(new TruthSource(id++, ra, dec, SourceType.Star, mags.Select(BandInfo.MagToNanojansky).ToArray(), 0, 0, 1, 0));
        }

        for (int i = 0; i < galaxyCount; i++)
        {
            var (ra, dec) = plane.PixelToSky(rng.Uniform(-half, half), rng.Uniform(-half, half));
            double r = PowerLawMagnitude(rng, o.GalaxyMagBright, o.GalaxyMagFaint, GalaxyCountSlope);
            double gr = rng.Uniform(0.2, 1.0);
            double[] mags = Colors(r, ug: 0.6 + 1.2 * gr + 0.1 * rng.Gaussian(), gr: gr, ri: 0.1 + 0.4 * gr, iz: 0.05 + 0.2 * gr, zy: 0.05 + 0.1 * gr);
            // Red galaxies are more often bulge-dominated.
            bool bulge = rng.NextDouble() < 0.15 + 0.4 * (gr - 0.2) / 0.8;
            double medianHlr = 0.8 * Math.Pow(10.0, -0.12 * (r - 21.0));
            double hlr = Math.Clamp(medianHlr * Math.Pow(10.0, 0.2 * rng.Gaussian()), 0.1, 5.0);
            double q = bulge ? rng.Uniform(0.5, 1.0) : rng.Uniform(0.2, 1.0);
            double pa = rng.Uniform(0.0, 180.0);
            sources.Add(new TruthSource(id++, ra, dec, SourceType.Galaxy, mags.Select(BandInfo.MagToNanojansky).ToArray(),
                bulge ? 4.0 : 1.0, hlr, q, pa));
        }
        return sources;
    }

    /// <summary>A magnitude in [bright, faint] with counts ∝ 10^(slope·m) (inverse of the truncated CDF).</summary>
    private static double PowerLawMagnitude(SimRandom rng, double bright, double faint, double slope)
    {
        double a = Math.Pow(10.0, slope * bright);
        double b = Math.Pow(10.0, slope * faint);
        return Math.Log10(a + rng.NextDouble() * (b - a)) / slope;
    }

    /// <summary>u..y magnitudes from r and the colours u−g, g−r, r−i, i−z, z−y.</summary>
    private static double[] Colors(double r, double ug, double gr, double ri, double iz, double zy)
    {
        double g = r + gr;
        double u = g + ug;
        double i = r - ri;
        double z = i - iz;
        double y = z - zy;
        return [u, g, r, i, z, y];
    }
}
