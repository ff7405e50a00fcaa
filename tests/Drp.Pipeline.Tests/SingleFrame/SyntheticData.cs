using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using MathNet.Numerics;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>A star of the truth image: centre in zero-based pixels, total flux in electrons, Gaussian sigma in pixels.</summary>
internal sealed record Star(double X, double Y, double Flux, double Sigma = 2.0);

/// <summary>Seeded synthetic truths for the single-frame tests: skies, stars, exposures and raws.</summary>
internal static class SyntheticData
{
    /// <summary>Standard normal deviate (Box-Muller) from a seeded generator.</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Noise-free electrons: sky(x, y) plus pixel-integrated Gaussian stars.</summary>
    public static double[] Render(int w, int h, Func<int, int, double> sky, IEnumerable<Star> stars)
    {
        var img = new double[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                img[y * w + x] = sky(x, y);
            }
        }
        foreach (var s in stars)
        {
            AddStar(img, w, h, s);
        }
        return img;
    }

    public static void AddStar(double[] img, int w, int h, Star s)
    {
        int r = (int)Math.Ceiling(8 * s.Sigma);
        int x0 = Math.Max(0, (int)s.X - r), x1 = Math.Min(w - 1, (int)s.X + r);
        int y0 = Math.Max(0, (int)s.Y - r), y1 = Math.Min(h - 1, (int)s.Y + r);
        double k = 1.0 / (Math.Sqrt(2) * s.Sigma);
        for (int y = y0; y <= y1; y++)
        {
            double fy = 0.5 * (SpecialFunctions.Erf((y + 0.5 - s.Y) * k) - SpecialFunctions.Erf((y - 0.5 - s.Y) * k));
            for (int x = x0; x <= x1; x++)
            {
                double fx = 0.5 * (SpecialFunctions.Erf((x + 0.5 - s.X) * k) - SpecialFunctions.Erf((x - 0.5 - s.X) * k));
                img[y * w + x] += s.Flux * fx * fy;
            }
        }
    }

    /// <summary>An exposure of truth + Poisson (Gaussian approximation) + read noise, with the matching variance.</summary>
    public static Exposure NoisyExposure(double[] truth, int w, int h, double readNoise, Random rng)
    {
        var image = new float[w * h];
        var variance = new float[w * h];
        for (int i = 0; i < truth.Length; i++)
        {
            double v = Math.Max(truth[i], 0) + readNoise * readNoise;
            image[i] = (float)(truth[i] + Math.Sqrt(v) * Gaussian(rng));
            variance[i] = (float)v;
        }
        return new Exposure(w, h, image, variance, new ushort[w * h], new FitsHeader());
    }

    /// <summary>Stars on a jittered grid, away from the edges, with fluxes spread over a decade from <paramref name="minFlux"/>.</summary>
    public static List<Star> StarGrid(int w, int h, int spacing, double minFlux, Random rng, double sigma = 2.0, int margin = 24)
    {
        var stars = new List<Star>();
        for (int y = margin; y <= h - margin; y += spacing)
        {
            for (int x = margin; x <= w - margin; x += spacing)
            {
                double flux = minFlux * Math.Pow(10, rng.NextDouble());
                stars.Add(new Star(x + rng.NextDouble() * 4 - 2, y + rng.NextDouble() * 4 - 2, flux, sigma));
            }
        }
        return stars;
    }

    /// <summary>A 0.2 arcsec/pixel tangent-like mapping about (ra0, dec0) for zero-based pixels.</summary>
    public static Func<double, double, (double Ra, double Dec)> PixelToSky(double ra0, double dec0, int w, int h, double scaleArcsec = 0.2)
    {
        double s = scaleArcsec / 3600.0;
        double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
        return (x, y) => (ra0 + (x - cx) * s / Math.Cos(dec0 * Math.PI / 180.0), dec0 + (y - cy) * s);
    }
}

/// <summary>
/// A 256 x 256 detector read by 2 x 2 amplifiers of 128 x 128 data pixels. Each amplifier HDU is 4 prescan +
/// 128 data + 32 serial overscan columns wide; the right-hand amplifiers are read out flipped in x and the top
/// ones flipped in y (DETSEC runs backwards), as in LSST cameras.
/// </summary>
internal sealed class SyntheticCamera
{
    public const int Size = 256;
    public const int AmpSize = 128;
    public const int Prescan = 4;
    public const int OverscanColumns = 32;
    public const int RawWidth = Prescan + AmpSize + OverscanColumns;

    public double[] Gains { get; init; } = [1.4, 1.5, 1.6, 1.7];

    public double ReadNoise { get; init; } = 5.0;

    public double Saturate { get; init; } = 60000;

    /// <summary>Overscan (electronic offset) level in ADU per amplifier; each row adds <see cref="OverscanRowSlope"/>.</summary>
    public double[] OverscanLevels { get; init; } = [1000, 1100, 1200, 1300];

    public double OverscanRowSlope { get; init; } = 0.05;

    /// <summary>Residual bias structure in electrons (what the master bias holds).</summary>
    public Func<int, int, double> BiasStructure { get; init; } = (x, y) => 3.0 + 2.0 * Math.Cos(x / 20.0);

    /// <summary>Relative pixel response, normalised to a mean of 1 by <see cref="Flat"/>.</summary>
    public Func<int, int, double> FlatPattern { get; init; } = (x, y) => 1.0 + 0.05 * Math.Sin(x / 15.0) * Math.Cos(y / 25.0) + 0.0002 * x;

    public static PixelSection DetSec(int amp)
    {
        int ax = amp % 2, ay = amp / 2;
        int x1 = ax * AmpSize + 1, x2 = (ax + 1) * AmpSize;
        int y1 = ay * AmpSize + 1, y2 = (ay + 1) * AmpSize;
        return new PixelSection(ax == 1 ? x2 : x1, ax == 1 ? x1 : x2, ay == 1 ? y2 : y1, ay == 1 ? y1 : y2);
    }

    public static PixelSection DataSec { get; } = new(Prescan + 1, Prescan + AmpSize, 1, AmpSize);

    public static PixelSection BiasSec { get; } = new(Prescan + AmpSize + 1, RawWidth, 1, AmpSize);

    /// <summary>The flat's relative response with a mean of exactly 1.</summary>
    public double[] Response()
    {
        var f = new double[Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                f[y * Size + x] = FlatPattern(x, y);
            }
        }
        double mean = f.Average();
        for (int i = 0; i < f.Length; i++)
        {
            f[i] /= mean;
        }
        return f;
    }

    /// <summary>The master flat: the response times an arbitrary scale (ISR normalises it).</summary>
    public FitsImage Flat(double scale = 1.7) =>
        new(Size, Size, pixels: Response().Select(v => (float)(v * scale)).ToArray());

    /// <summary>The master bias in electrons (or in ADU of each amplifier's gain).</summary>
    public FitsImage Bias(bool inAdu = false)
    {
        var px = new float[Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                double e = BiasStructure(x, y);
                px[y * Size + x] = (float)(inAdu ? e / Gains[AmpAt(x, y)] : e);
            }
        }
        var header = new FitsHeader().Set("BUNIT", inAdu ? "adu" : "electron");
        return new FitsImage(Size, Size, header: header, pixels: px);
    }

    public static int AmpAt(int x, int y) => (y / AmpSize) * 2 + x / AmpSize;

    /// <summary>
    /// The raw (primary + 4 amplifiers, integer ADU) of photo-electrons <paramref name="truth"/> before the flat
    /// response, with Poisson and read noise when <paramref name="rng"/> is given; values clip at SATURATE like an ADC.
    /// </summary>
    public List<FitsImage> Raw(double[] truth, Random? rng)
    {
        var response = Response();
        var primary = new FitsHeader()
            .Set("SIMPLE", true)
            .Set("DETSIZE", $"[1:{Size},1:{Size}]")
            .Set("INSTRUME", "SYNTH")
            .Set("EXPTIME", 30.0)
            .Set("MJD-OBS", 60000.25);
        var hdus = new List<FitsImage> { FitsImage.HeaderOnly(primary) };
        for (int amp = 0; amp < 4; amp++)
        {
            double gain = Gains[amp];
            var det = DetSec(amp);
            var header = new FitsHeader()
                .Set("EXTNAME", $"AMP{amp}")
                .Set("DATASEC", DataSec.ToString())
                .Set("BIASSEC", BiasSec.ToString())
                .Set("DETSEC", det.ToString())
                .Set("GAIN", gain)
                .Set("RDNOISE", ReadNoise)
                .Set("SATURATE", Saturate);
            var px = new float[RawWidth * AmpSize];
            for (int ry = 0; ry < AmpSize; ry++)
            {
                double offset = OverscanLevels[amp] + OverscanRowSlope * ry;
                for (int rx = 0; rx < RawWidth; rx++)
                {
                    double adu = offset;
                    double electronsNoise = rng is null ? 0 : ReadNoise * SyntheticData.Gaussian(rng);
                    int k = rx - Prescan;
                    if (k >= 0 && k < AmpSize)
                    {
                        int dx = det.XAt(k), dy = det.YAt(ry);
                        double signal = truth[dy * Size + dx] * response[dy * Size + dx];
                        double poisson = rng is null ? 0 : Math.Sqrt(Math.Max(signal, 0)) * SyntheticData.Gaussian(rng);
                        adu += (signal + poisson + BiasStructure(dx, dy)) / gain;
                    }
                    adu += electronsNoise / gain;
                    px[ry * RawWidth + rx] = (float)Math.Min(Math.Round(adu), Saturate);
                }
            }
            hdus.Add(new FitsImage(RawWidth, AmpSize, FitsBitpix.Int32, header, px));
        }
        return hdus;
    }
}
