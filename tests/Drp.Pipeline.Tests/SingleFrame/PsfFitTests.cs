using Drp.Pipeline.SingleFrame;
using MathNet.Numerics.LinearAlgebra;

namespace Drp.Pipeline.Tests.SingleFrame;

/// <summary>
/// The PSF fit on stamps of a known elliptical Moffat: nine stars of S/N ~ 150–600 sampled at pixel centres on a sky of
/// 300 e⁻ with Gaussian noise, cut at their true centres.
/// </summary>
public class PsfFitTests
{
    private const int N = 150;

    private static readonly MoffatPsf Truth = new(Qxx: 6.0, Qyy: 8.0, Qxy: -1.2, Beta: 2.6, StarCount: 0);

    private static Stamp[] Stamps(int seed, MoffatPsf psf)
    {
        var rng = new Random(seed);
        var stars = new List<(double X, double Y, double Flux)>();
        for (int gy = 25; gy < N - 20; gy += 45)
        {
            for (int gx = 25; gx < N - 20; gx += 45)
            {
                stars.Add((gx + rng.NextDouble(), gy + rng.NextDouble(), 2e4 * (1 + 4 * rng.NextDouble())));
            }
        }
        var eval = psf.CreateEvaluator();
        var image = new float[N * N];
        var variance = new float[N * N];
        for (int j = 0; j < N; j++)
        {
            for (int i = 0; i < N; i++)
            {
                double truth = stars.Sum(s => s.Flux * eval[i - s.X, j - s.Y]), v = 300 + truth;
                image[j * N + i] = (float)(truth + Math.Sqrt(v) * SyntheticData.Gaussian(rng));
                variance[j * N + i] = (float)v;
            }
        }
        var exposure = new Exposure(N, N, image, variance, new ushort[N * N], new Drp.Pipeline.Fits.FitsHeader());
        return stars.Select(s => Stamp.Cut(exposure, s.X, s.Y, 14)).ToArray();
    }

    private static Vector<double> CircularStart => MoffatFit.Parameters(MoffatPsf.Circular(4.5, 3.0));

    [Fact]
    public void LevenbergMarquardt_NoisyEllipticalMoffatStars_RecoversShapeAndBeta()
    {
        var stamps = Stamps(1, Truth);

        var fit = MoffatFit.LevenbergMarquardt(stamps, CircularStart);

        Assert.NotNull(fit);
        var psf = MoffatFit.FromParameters(fit.Parameters, stamps.Length);
        // Nine stars of S/N 150-600: the shape to 2 %, beta to 5 %.
        Assert.Equal(Truth.Qxx, psf.Qxx, 0.02 * Truth.Qxx);
        Assert.Equal(Truth.Qyy, psf.Qyy, 0.02 * Truth.Qyy);
        Assert.Equal(Truth.Qxy, psf.Qxy, 0.02 * Truth.Qyy);
        Assert.Equal(Truth.Beta, psf.Beta, 0.05 * Truth.Beta);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void LevenbergMarquardt_NoisyEllipticalMoffatStars_SameMinimumAsSimplexInFarFewerEvaluations(int seed)
    {
        var stamps = Stamps(seed, Truth);

        var lm = MoffatFit.LevenbergMarquardt(stamps, CircularStart);
        var simplex = MoffatFit.Simplex(stamps, CircularStart, new PsfConfig().MaxIterations);

        Assert.NotNull(lm);
        var a = MoffatFit.FromParameters(lm.Parameters, 0);
        var b = MoffatFit.FromParameters(simplex.Parameters, 0);
        // The simplex stops at a relative spread of 1e-9 in the objective, ~1e-5 in the parameters: agree to 1e-4.
        Assert.Equal(b.Qxx, a.Qxx, 1e-4 * b.Qxx);
        Assert.Equal(b.Qyy, a.Qyy, 1e-4 * b.Qyy);
        Assert.Equal(b.Qxy, a.Qxy, 1e-4 * b.Qyy);
        Assert.Equal(b.Beta, a.Beta, 1e-4 * b.Beta);
        // Not above the simplex's minimum beyond the objective's rounding.
        Assert.True(lm.Cost <= simplex.Cost * (1 + 1e-9), $"LM cost {lm.Cost:R}, simplex {simplex.Cost:R}");
        Assert.True(5 * lm.Evaluations < simplex.Evaluations, $"LM {lm.Evaluations} evaluations, simplex {simplex.Evaluations}");
    }

    [Fact]
    public void Evaluate_NearTheTruth_GradientMatchesCentralDifferencesOfCost()
    {
        var stamps = Stamps(4, Truth);
        double[] theta = [.. MoffatFit.Parameters(Truth with { Qxx = 6.3, Beta = 2.9 })];

        var evaluation = MoffatFit.Evaluate(stamps, theta);

        for (int i = 0; i < 4; i++)
        {
            const double h = 1e-5;
            double[] plus = [.. theta], minus = [.. theta];
            plus[i] += h;
            minus[i] -= h;
            double numeric = (MoffatFit.Cost(stamps, MoffatFit.FromParameters(Vector<double>.Build.Dense(plus), 0))
                - MoffatFit.Cost(stamps, MoffatFit.FromParameters(Vector<double>.Build.Dense(minus), 0))) / (2 * h);
            Assert.Equal(numeric, evaluation.Gradient[i], 1e-5 * Math.Abs(numeric) + 1e-6);
        }
        Assert.Equal(MoffatFit.Cost(stamps, MoffatFit.FromParameters(Vector<double>.Build.Dense(theta), 0)), evaluation.Cost, 1e-9 * evaluation.Cost);
    }

    [Fact]
    public void Fit_StampsWithoutSignal_LevenbergMarquardtGivesUpAndTheSimplexAnswers()
    {
        // Empty sky: every amplitude is zero, so the residuals do not depend on the shape and the step is undefined.
        var stamps = Stamps(5, Truth).Select(s => Blank(s)).ToArray();

        var lm = MoffatFit.LevenbergMarquardt(stamps, CircularStart);
        var fit = MoffatFit.Fit(stamps, CircularStart, new PsfConfig().MaxIterations);

        Assert.Null(lm);
        var simplex = MoffatFit.Simplex(stamps, CircularStart, new PsfConfig().MaxIterations);
        Assert.Equal(simplex.Parameters.ToArray(), fit.Parameters.ToArray());
        Assert.Equal(simplex.Evaluations, fit.Evaluations);
    }

    private static Stamp Blank(Stamp s)
    {
        Array.Clear(s.Value);
        return s;
    }
}
