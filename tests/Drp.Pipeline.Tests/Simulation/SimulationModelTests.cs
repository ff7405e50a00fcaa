using Drp.Pipeline.Simulation;

namespace Drp.Pipeline.Tests.Simulation;

/// <summary>The building blocks: profiles, the Poisson sampler, rendering, calibration products.</summary>
public sealed class SimulationModelTests
{
    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void Moffat_Mixture_EnclosedFluxMatchesAnalyticWithinOnePercent(double radiusInFwhm)
    {
        const double beta = 3.5;
        var mixture = GaussianMixture.Moffat(beta);

        double actual = GaussianMixture.EnclosedFraction(mixture, radiusInFwhm);

        double alpha = GaussianMixture.MoffatAlphaPerFwhm(beta);
        double expected = 1.0 - Math.Pow(1.0 + radiusInFwhm * radiusInFwhm / (alpha * alpha), 1.0 - beta);
        Assert.Equal(expected, actual, 0.01);
    }

    [Theory]
    [InlineData(1.0, 0.5, 0.2053)]
    [InlineData(1.0, 2.0, 0.8484)]
    [InlineData(4.0, 0.5, 0.3139)]
    [InlineData(4.0, 2.0, 0.7028)]
    public void Sersic_Mixture_EnclosedFluxMatchesProfileWithinTwoPercent(double n, double radius, double expected)
    {
        // Expected: enclosed fraction P(2n, b_n r^(1/n)) of the Sérsic profile truncated as the fit is (n = 1 at 6 r_e,
        // n = 4 at 8 r_e) and rescaled to a half-light radius of 1, from scipy.special.gammainc.
        var mixture = n == 1.0 ? GaussianMixture.Exponential : GaussianMixture.DeVaucouleurs;

        Assert.Equal(0.5, GaussianMixture.EnclosedFraction(mixture, 1.0), 3);
        Assert.Equal(expected, GaussianMixture.EnclosedFraction(mixture, radius), 0.02);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(4.0)]
    [InlineData(25.0)]
    [InlineData(900.0)]
    [InlineData(60000.0)]
    public void Poisson_Mean_SampleMeanAndVarianceMatch(double lambda)
    {
        var rng = new SimRandom(1, StreamPurpose.Poisson, (long)lambda);
        const int n = 200_000;
        double sum = 0, sum2 = 0;
        for (int i = 0; i < n; i++)
        {
            double k = rng.Poisson(lambda);
            Assert.Equal(Math.Floor(k), k);
            sum += k;
            sum2 += k * k;
        }
        double mean = sum / n;
        double variance = sum2 / n - mean * mean;

        Assert.Equal(lambda, mean, 5 * Math.Sqrt(lambda / n));
        Assert.Equal(lambda, variance, 0.02 * lambda);
    }

    [Fact]
    public void RenderGalaxy_ElongatedProfile_ConservesFluxAndFollowsOrientation()
    {
        var renderer = new SourceRenderer(4.0, 3.5, GaussianMixture.Moffat(3.5));
        // Half-light radius 6 px, axis ratio 0.3, major axis along x.
        double q = 0.3, r2 = 36;
        var stamp = renderer.RenderGalaxy(50.3, 40.7, 1e5, GaussianMixture.Exponential, (r2 / q, 0, r2 * q));

        double sum = 0, sxx = 0, syy = 0;
        for (int j = 0; j < stamp.Height; j++)
        {
            for (int i = 0; i < stamp.Width; i++)
            {
                double v = stamp.Pixels[j * stamp.Width + i];
                double dx = stamp.X0 + i - 50.3, dy = stamp.Y0 + j - 40.7;
                sum += v;
                sxx += v * dx * dx;
                syy += v * dy * dy;
            }
        }
        Assert.Equal(1e5, sum, 1e5 * 1e-5);
        Assert.True(sxx > 3 * syy, $"second moments {sxx / sum:F1} (x) vs {syy / sum:F1} (y)");
    }

    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(90.0, 0.0, true)]
    [InlineData(0.0, 90.0, true)]
    [InlineData(45.0, 45.0, true)]
    public void Render_GalaxyPositionAngleEastOfNorth_ElongatedAlongTheRightPixelAxis(double positionAngle, double skyRotation, bool alongX)
    {
        // North up, east left for rotation 0: PA 0 (north) lies along y, PA 90 (east) along x; a 90° CROTA2 rotation
        // swaps them; at 45° north points to (−1, 1) and east to (−1, −1), so PA 45 lies along x.
        var wcs = Drp.Pipeline.Wcs.TanWcs.Create(61.9, -35.8, 0.2, skyRotation, 200, 200);
        var (ra, dec) = wcs.PixelToSky(100, 100);
        var galaxy = new TruthSource(1, ra, dec, SourceType.Galaxy, [1, 1, 1, 1, 1, 1], 1.0, 2.0, 0.3, positionAngle);
        var renderer = new SourceRenderer(3.0, 3.5, GaussianMixture.Moffat(3.5));

        var stamp = SurveySimulator.Render(renderer, galaxy, 100, 100, 1e5, wcs);

        double sxx = 0, syy = 0;
        for (int j = 0; j < stamp.Height; j++)
        {
            for (int i = 0; i < stamp.Width; i++)
            {
                double v = stamp.Pixels[j * stamp.Width + i];
                sxx += v * Math.Pow(stamp.X0 + i - 100, 2);
                syy += v * Math.Pow(stamp.Y0 + j - 100, 2);
            }
        }
        Assert.True(alongX ? sxx > 2 * syy : syy > 2 * sxx, $"PA {positionAngle}, rotation {skyRotation}: Ixx {sxx / 1e5:F1}, Iyy {syy / 1e5:F1}");
    }

    [Fact]
    public void CreateMasterFlat_AnyBand_MeanOneWithVignettingTowardsTheEdge()
    {
        var sim = new SurveySimulator(SimulationTestSupport.Tiny() with { DetectorColumns = 1 });

        var flat = sim.CreateMasterFlat(0, "r");

        Assert.Equal(1.0, flat.Pixels.Average(p => (double)p), 6);
        Assert.True(flat[64, 64] > flat[0, 0] + 0.05, "the corner must be vignetted");
        Assert.Equal("r", flat.Header.GetString("BAND"));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => new SurveySimulator(SimulationTestSupport.Tiny() with { Bands = ["r", "w"] }));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);

        var e2 = Assert.Throws<ArgumentException>(() => new SurveySimulator(SimulationTestSupport.Tiny() with { FullWellElectrons = 200000 }));
        Assert.Contains(nameof(SimulationOptions.FullWellElectrons), e2.Message, StringComparison.Ordinal);
    }
}
