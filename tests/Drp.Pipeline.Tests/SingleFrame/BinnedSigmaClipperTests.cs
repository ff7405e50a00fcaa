using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>The background's linear-time clipper must reproduce the plain sigma clip it replaces.</summary>
public class BinnedSigmaClipperTests
{
    public static TheoryData<int, double, double> Samples => new()
    {
        // size, fraction of source-like outliers, sky level
        { 4096, 0.0, 400.0 },
        { 4096, 0.05, 400.0 },
        { 3969, 0.30, 1200.0 },   // a crowded cell: the median moves far from the subsample's first guess
        { 1000, 0.02, -3.0 },     // background-subtracted residuals around zero
        { 4097, 0.01, 1e5 },      // odd count, bright sky
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Clip_SkyWithOutliers_MatchesPlainSigmaClip(int size, double outlierFraction, double sky)
    {
        var rng = new Random(size + (int)(outlierFraction * 100));
        var values = new float[size];
        for (int i = 0; i < size; i++)
        {
            double gauss = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            values[i] = (float)(sky + 20 * gauss + (rng.NextDouble() < outlierFraction ? 3000 * rng.NextDouble() : 0));
        }
        var plain = RobustStatistics.SigmaClip((float[])values.Clone(), 3.0, 5);
        var clipper = new BinnedSigmaClipper();

        var binned = clipper.Clip(values, 3.0, 5);
        var again = clipper.Clip(values, 3.0, 5);

        Assert.Equal(plain.Count, binned.Count);
        Assert.Equal(plain.Median, binned.Median);
        Assert.Equal(plain.Mean, binned.Mean, 1e-9 * Math.Max(1, Math.Abs(plain.Mean)));
        Assert.Equal(plain.StdDev, binned.StdDev, 1e-9 * plain.StdDev);
        Assert.Equal(binned, again);
    }

    [Fact]
    public void Clip_ConstantOrNonFiniteValues_FallsBackToPlainSigmaClip()
    {
        var constant = Enumerable.Repeat(7f, 2000).ToArray();
        var withNaN = Enumerable.Range(0, 2000).Select(i => i == 1000 ? float.NaN : i % 17).Select(v => (float)v).ToArray();
        var clipper = new BinnedSigmaClipper();

        Assert.Equal(RobustStatistics.SigmaClip((float[])constant.Clone()), clipper.Clip(constant));
        var expected = RobustStatistics.SigmaClip((float[])withNaN.Clone());
        var actual = clipper.Clip(withNaN);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Median, actual.Median);
    }
}
