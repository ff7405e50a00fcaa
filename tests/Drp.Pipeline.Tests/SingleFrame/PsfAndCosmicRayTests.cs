using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>
/// The PSF fit and the cosmic-ray finder on small synthetic images with a known truth: stars drawn from an elliptical
/// Moffat (sampled at pixel centres, the model's own convention) on a flat sky of 400 e⁻ with Gaussian noise.
/// </summary>
public class PsfAndCosmicRayTests
{
    private const int N = 256;
    private const double Sky = 400;

    private static readonly MoffatPsf Truth = new(Qxx: 9.0, Qyy: 6.0, Qxy: 1.5, Beta: 3.0, StarCount: 0);

    /// <summary>A background-subtracted exposure with stars of the true PSF on a grid, and their positions.</summary>
    private static (Exposure Exposure, List<(double X, double Y, double Flux)> Stars) Frame(int seed)
    {
        var rng = new Random(seed);
        var stars = new List<(double, double, double)>();
        for (int gy = 24; gy < N - 24; gy += 42)
        {
            for (int gx = 24; gx < N - 24; gx += 42)
            {
                stars.Add((gx + rng.NextDouble(), gy + rng.NextDouble(), 5e4 * (1 + 4 * rng.NextDouble())));
            }
        }
        var truth = new double[N * N];
        var eval = Truth.CreateEvaluator();
        foreach (var (x, y, f) in stars)
        {
            for (int j = (int)y - 20; j <= (int)y + 20; j++)
            {
                for (int i = (int)x - 20; i <= (int)x + 20; i++)
                {
                    truth[j * N + i] += f * eval[i - x, j - y];
                }
            }
        }
        var image = new float[N * N];
        var variance = new float[N * N];
        for (int k = 0; k < truth.Length; k++)
        {
            double v = Sky + truth[k];
            image[k] = (float)(truth[k] + Math.Sqrt(v) * SyntheticData.Gaussian(rng));
            variance[k] = (float)v;
        }
        return (new Exposure(N, N, image, variance, new ushort[N * N], new Drp.Pipeline.Fits.FitsHeader()), stars);
    }

    private static IReadOnlyList<MeasuredSource> Measure(Exposure e) =>
        SourceMeasurer.Measure(e, SourceDetector.Detect(e, new DetectionConfig()), new MeasurementConfig());

    [Fact]
    public void Determine_EllipticalMoffatStars_RecoversShapeAndBeta()
    {
        var (exposure, stars) = Frame(1);

        var psf = PsfDeterminer.Determine(exposure, Measure(exposure), new PsfConfig());

        Assert.Equal(stars.Count, psf.StarCount);
        // 25 stars of S/N ~ 300-1000: the shape to 2 %, beta to 5 %.
        Assert.Equal(Truth.Qxx, psf.Qxx, 0.02 * Truth.Qxx);
        Assert.Equal(Truth.Qyy, psf.Qyy, 0.02 * Truth.Qyy);
        Assert.Equal(Truth.Qxy, psf.Qxy, 0.02 * Truth.Qxx);
        Assert.Equal(Truth.Beta, psf.Beta, 0.05 * Truth.Beta);
        // The model's moments have the ellipse's orientation: ixx > iyy, ixy > 0.
        Assert.True(psf.Ixx > psf.Iyy && psf.Ixy > 0);
    }

    [Fact]
    public void PsfFlux_EllipticalMoffatStars_WithinThreeSigmaOfTruth()
    {
        var (exposure, stars) = Frame(2);
        var measured = Measure(exposure);
        var psf = PsfDeterminer.Determine(exposure, measured, new PsfConfig());

        var withFlux = PsfPhotometry.Measure(exposure, measured, psf, new PsfConfig());

        foreach (var (x, y, f) in stars)
        {
            var m = Assert.Single(withFlux, s => Math.Abs(s.X - x) < 0.5 && Math.Abs(s.Y - y) < 0.5);
            Assert.False(m.PsfFluxFlag);
            // 3 sigma of the measurement plus 0.5 % for the fitted model's error.
            Assert.InRange(Math.Abs(m.PsfInstFlux - f), 0, 3 * m.PsfInstFluxErr + 0.005 * f);
            Assert.Equal(0.0, m.Extendedness);
        }
    }

    [Fact]
    public void FindAndRepair_HitsSharperThanThePsf_AreRepairedAndStarsAreNot()
    {
        var (exposure, stars) = Frame(3);
        var hits = new[] { (60, 140), (140, 60), (200, 200) };
        foreach (var (x, y) in hits)
        {
            exposure.Image[y * N + x] += 3000f;       // a single-pixel hit
            exposure.Image[y * N + x + 1] += 2000f;   // and its neighbour along the track
        }

        int repaired = CosmicRayFinder.FindAndRepair(exposure, Truth, new CosmicRayConfig());

        Assert.InRange(repaired, 2 * hits.Length, 8 * hits.Length);
        foreach (var (x, y) in hits)
        {
            Assert.True(exposure.HasMask(x, y, MaskPlane.CosmicRay | MaskPlane.Interpolated));
            // Repaired to about the sky-subtracted background (noise ~20 e-, the interpolation is of two noisy pixels).
            Assert.InRange(exposure.Image[y * N + x], -100f, 100f);
        }
        foreach (var (x, y, _) in stars)
        {
            Assert.False(exposure.HasMask((int)Math.Round(x), (int)Math.Round(y), MaskPlane.CosmicRay), $"star at ({x:F1}, {y:F1}) marked CR");
        }
    }
}
