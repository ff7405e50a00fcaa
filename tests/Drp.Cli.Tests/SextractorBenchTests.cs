using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;

namespace Drp.Cli.Tests;

/// <summary>
/// <c>drp bench sextractor</c>'s ideal point-source S/N: F f / √(A (s f + rn²)) with the flat and the read noise of
/// the star's amplifier, against values computed by hand.
/// </summary>
public sealed class SextractorBenchTests
{
    // Two amplifiers side by side on a 20 x 10 frame: columns 0–9 read noise 5 e⁻, columns 10–19 (read backwards) 7 e⁻.
    private static readonly AmplifierInfo[] Amplifiers =
    [
        new("C00", "[1:10,1:10]", "[11:12,1:10]", "[1:10,1:10]", 1.0, 5.0, 0, 0, 1e5),
        new("C01", "[1:10,1:10]", "[11:12,1:10]", "[20:11,1:10]", 1.0, 7.0, 0, 0, 1e5),
    ];

    private static SextractorBenchCommand.FrameNoise Noise(float flatValue, double sky = 400, double area = 30)
    {
        var flat = new FitsImage(20, 10);
        Array.Fill(flat.Pixels, flatValue);
        return new SextractorBenchCommand.FrameNoise(flat, Amplifiers, sky, area);
    }

    [Fact]
    public void SignalToNoise_StarOnFlatOfPointEightWithReadNoise_MatchesHandComputedValue()
    {
        // 1000 e⁻ × 0.8 / √(30 × (400 × 0.8 + 5²)) = 800 / √10350 = 7.86357...
        double sn = Noise(0.8f).SignalToNoise(1000, 4.2, 6.7);

        Assert.Equal(7.86357, sn, 5);
    }

    [Fact]
    public void SignalToNoise_StarInTheSecondAmplifier_UsesThatAmplifiersReadNoise()
    {
        // 800 / √(30 × (320 + 49)) = 800 / √11070 = 7.60355...
        double sn = Noise(0.8f).SignalToNoise(1000, 15.4, 2.0);

        Assert.Equal(7.60355, sn, 5);
    }

    [Fact]
    public void SignalToNoise_UnitFlatNoReadNoise_EqualsTheSkyOnlyDefinition()
    {
        var amplifiers = Amplifiers.Select(a => a with { ReadNoiseElectrons = 0 }).ToArray();
        var flat = new FitsImage(20, 10);
        Array.Fill(flat.Pixels, 1f);
        var noise = new SextractorBenchCommand.FrameNoise(flat, amplifiers, 400, 30);

        Assert.Equal(noise.SkyOnlySignalToNoise(1000), noise.SignalToNoise(1000, 3, 3), 12);
        Assert.Equal(1000 / Math.Sqrt(12000), noise.SkyOnlySignalToNoise(1000), 12);
    }

    [Fact]
    public void SignalToNoise_PixelInNoAmplifier_ThrowsWithThePixel()
    {
        var noise = new SextractorBenchCommand.FrameNoise(new FitsImage(30, 10), Amplifiers, 400, 30);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => noise.SignalToNoise(1000, 25, 5));
        Assert.Contains("pixel (25, 5) is in no amplifier's DETSEC", e.Message);
    }

    [Fact]
    public void MoffatEffectiveArea_Beta3Point5_MatchesOneOverTheSumOfTheSquaredProfile()
    {
        // Numerically: 1 / ∫p² of the normalised Moffat, FWHM 4 px, on a 0.05 px grid out to ±60 px.
        double fwhm = 4.0, beta = 3.5, alpha = fwhm / (2 * Math.Sqrt(Math.Pow(2, 1 / beta) - 1)), step = 0.05, sum = 0;
        for (double y = -60; y <= 60; y += step)
        {
            for (double x = -60; x <= 60; x += step)
            {
                double p = (beta - 1) / (Math.PI * alpha * alpha) * Math.Pow(1 + (x * x + y * y) / (alpha * alpha), -beta);
                sum += p * p * step * step;
            }
        }

        Assert.Equal(1 / sum, SextractorBenchCommand.MoffatEffectiveArea(fwhm, beta), 1e-3 * (1 / sum));
        Assert.Throws<ArgumentOutOfRangeException>(() => SextractorBenchCommand.MoffatEffectiveArea(fwhm, 1.0));
    }

    [Fact]
    public void LastRunTotalSeconds_RepeatedRuns_ReadsTheLastRunsTotal()
    {
        const string stderr = "timing run 1 of 2\ntiming isr    0.300 s  cpu  0.300 s  rss   330 MB\n"
            + "timing total of the stages              4.423 s  cpu  4.224 s\ntiming since process start 4.6 s\n"
            + "timing run 2 of 2\ntiming total of the stages              3.062 s  cpu  2.962 s\n";

        Assert.Equal(3.062, SextractorBenchCommand.LastRunTotalSeconds(stderr), 9);
        Assert.Throws<InvalidOperationException>(() => SextractorBenchCommand.LastRunTotalSeconds("no timings"));
    }
}
