using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class PhotometricCalibrationTests
{
    private const int N = 256;
    private static readonly Func<double, double, (double Ra, double Dec)> s_pixelToSky = SyntheticData.PixelToSky(61.9, -35.8, N, N);

    private static MeasuredSource Source(double x, double y, double flux, double err)
    {
        var fluxes = Enumerable.Repeat(flux, Apertures.Radii.Count).ToArray();
        var errs = Enumerable.Repeat(err, Apertures.Radii.Count).ToArray();
        return new MeasuredSource(0, (int)x, (int)y, 30, 1, x, y, false, fluxes, errs, new bool[Apertures.Radii.Count],
            4, 4, 0, false, false, false, false, false);
    }

    [Fact]
    public void Run_MatchedStars_RecoverKnownZeroPointWithinItsError()
    {
        // Truth: 0.8 nJy per electron, zeroPoint = 31.4 - 2.5 log10(0.8) = 31.642. Measured fluxes scatter by 1%,
        // two matches are outliers (a variable star and a blend at 3x).
        const double nJyPerElectron = 0.8;
        var rng = new Random(60);
        var sources = new List<MeasuredSource>();
        var references = new List<ReferenceObject>();
        for (int i = 0; i < 40; i++)
        {
            double x = 10 + rng.NextDouble() * 236, y = 10 + rng.NextDouble() * 236;
            double electrons = 1e4 * Math.Pow(10, rng.NextDouble());
            double measured = electrons * (1 + 0.01 * SyntheticData.Gaussian(rng)) * (i < 2 ? 3.0 : 1.0);
            sources.Add(Source(x, y, measured, 0.01 * electrons));
            var (ra, dec) = s_pixelToSky(x + 0.05, y - 0.05);
            references.Add(new ReferenceObject(ra, dec, electrons * nJyPerElectron));
        }
        // Reference objects off the detector, and a faint source that must not calibrate.
        references.Add(new ReferenceObject(62.5, -35.8, 1e4));
        sources.Add(Source(128, 128, 100, 50));

        var outcome = PhotometricCalibration.Run(sources, sources.Select(s => s_pixelToSky(s.X, s.Y)).ToList(), references,
            DetectorSky.From(s_pixelToSky, N, N), new PhotoCalConfig());

        var calibrated = Assert.IsType<PhotoCalOutcome.Calibrated>(outcome);
        var calib = calibrated.Calib;
        Assert.Equal(40, calib.MatchCount);
        Assert.InRange(calib.UsedCount, 35, 38);
        Assert.Equal(31.4 - 2.5 * Math.Log10(nJyPerElectron), calib.ZeroPoint, 0.01);
        Assert.InRange(Math.Abs(calib.NanojanskyPerElectron - nJyPerElectron), 0, 3 * calib.NanojanskyPerElectronErr);
        Assert.InRange(calib.ZeroPointErr, 0.0005, 0.005);
        Assert.All(calibrated.Matches, m => Assert.Equal(m.SourceIndex, m.ReferenceIndex));
    }

    [Fact]
    public void Run_NoReferenceObjects_IsUnprocessableNotAnException()
    {
        var sources = new List<MeasuredSource> { Source(50, 50, 1e5, 100) };

        var outcome = PhotometricCalibration.Run(sources, [s_pixelToSky(50, 50)], [],
            DetectorSky.From(s_pixelToSky, N, N), new PhotoCalConfig());

        var failed = Assert.IsType<PhotoCalOutcome.Failed>(outcome);
        Assert.Equal(UnprocessableReason.NoReferenceObjects, failed.Reason);
        Assert.Contains("no reference objects", failed.Message);
    }

    [Fact]
    public void Run_ReferenceObjectsOnlyOffTheDetector_IsNoReferenceObjects()
    {
        var sources = new List<MeasuredSource> { Source(50, 50, 1e5, 100) };
        // 256 px x 0.2" = 51": these sit 2 and 60 arcmin away.
        ReferenceObject[] references = [new(61.9, -35.8 + 2.0 / 60, 1e4), new(61.9 + 1.0 / Math.Cos(35.8 * Math.PI / 180), -35.8, 1e4)];

        var outcome = PhotometricCalibration.Run(sources, [s_pixelToSky(50, 50)], references,
            DetectorSky.From(s_pixelToSky, N, N), new PhotoCalConfig());

        Assert.Equal(UnprocessableReason.NoReferenceObjects, Assert.IsType<PhotoCalOutcome.Failed>(outcome).Reason);
    }

    [Fact]
    public void Run_TooFewMatches_IsTooFewReferenceMatches()
    {
        var sources = new List<MeasuredSource> { Source(50, 50, 1e5, 100), Source(150, 150, 1e5, 100) };
        var (ra, dec) = s_pixelToSky(50, 50);

        var outcome = PhotometricCalibration.Run(sources, sources.Select(s => s_pixelToSky(s.X, s.Y)).ToList(),
            [new ReferenceObject(ra, dec, 1e5)], DetectorSky.From(s_pixelToSky, N, N), new PhotoCalConfig());

        Assert.Equal(UnprocessableReason.TooFewReferenceMatches, Assert.IsType<PhotoCalOutcome.Failed>(outcome).Reason);
    }

    [Fact]
    public void Match_RandomLists_AgreesWithBruteForceNearestNeighbour()
    {
        var rng = new Random(61);
        // Around RA 0 so that matches straddle the wrap.
        var refs = Enumerable.Range(0, 3000)
            .Select(_ => new ReferenceObject((rng.NextDouble() * 0.2 + 359.9) % 360, rng.NextDouble() * 0.1, 1)).ToList();
        var sources = refs.Take(1000)
            .Select(r => ((r.Ra + 0.4 / 3600 * SyntheticData.Gaussian(rng) + 360) % 360, r.Dec + 0.4 / 3600 * SyntheticData.Gaussian(rng)))
            .ToList();

        var matches = SkyMatcher.Match(sources, refs, 1.0);

        int agree = 0;
        foreach (var m in matches)
        {
            var (ra, dec) = sources[m.SourceIndex];
            int best = Enumerable.Range(0, refs.Count).MinBy(k => SkyMatcher.DistanceArcsec(ra, dec, refs[k].Ra, refs[k].Dec));
            agree += best == m.ReferenceIndex ? 1 : 0;
            Assert.True(m.DistanceArcsec <= 1.0);
        }
        // 1" radius, 0.57" rms offsets: ~78% of sources fall inside; a few lose their nearest to a closer claimant.
        Assert.InRange(matches.Count, 700, 1000);
        Assert.True(agree >= matches.Count - 5, $"{agree} of {matches.Count} agree with brute force");
        Assert.Equal(matches.Count, matches.Select(m => m.ReferenceIndex).Distinct().Count());
    }

    [Fact]
    public void DistanceArcsec_AcrossRaZero_IsSmall()
    {
        Assert.Equal(3.6, SkyMatcher.DistanceArcsec(359.9995, 0, 0.0005, 0), 1e-6);
    }
}
