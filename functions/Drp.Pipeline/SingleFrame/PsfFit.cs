using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// The PSF fit of <see cref="PsfDeterminer"/>: one elliptical Moffat fitted to all star stamps at once, each star with
/// its own best linear amplitude, minimising Σ_stars χ²/pixel over θ = (log l11, log l22, l21, log(β − 1)), where
/// Q = L Lᵀ with L the lower Cholesky factor [[l11, 0], [l21, l22]]. Levenberg–Marquardt with the amplitudes profiled
/// out (variable projection, Kaufman's Jacobian) and the Moffat's analytic derivatives; Nelder–Mead on the same
/// objective when that does not converge.
/// </summary>
internal static class MoffatFit
{
    /// <summary>Converged when no parameter moves by more than this in a step (θ are logs, l21 is taken relative to l11).</summary>
    internal const double StepTolerance = 1e-8;

    /// <summary>Levenberg–Marquardt steps allowed before the simplex takes over (it usually needs 5–20).</summary>
    internal const int MaxSteps = 100;

    // β − 1 in (0.1, 99): below, the profile is no longer a sensible star; above, it is a Gaussian to 1 %.
    private static readonly double MinLogBetaMinusOne = Math.Log(0.1), MaxLogBetaMinusOne = Math.Log(99.0);

    /// <summary>A fit's minimising parameters, its cost there and how many times it evaluated the objective.</summary>
    internal sealed record Result(Vector<double> Parameters, double Cost, int Evaluations);

    /// <summary>Levenberg–Marquardt from <paramref name="start"/>, falling back to <see cref="Simplex"/> when it fails.</summary>
    public static Result Fit(IReadOnlyList<Stamp> stamps, Vector<double> start, int maxSimplexIterations) =>
        LevenbergMarquardt(stamps, start) ?? Simplex(stamps, start, maxSimplexIterations);

    /// <summary>θ of a PSF.</summary>
    public static Vector<double> Parameters(MoffatPsf p)
    {
        double l11 = Math.Sqrt(p.Qxx), l21 = p.Qxy / l11, l22 = Math.Sqrt(p.Qyy - l21 * l21);
        return Vector<double>.Build.Dense([Math.Log(l11), Math.Log(l22), l21, Math.Log(p.Beta - 1.0)]);
    }

    /// <summary>The PSF of θ (β − 1 clamped to its range).</summary>
    public static MoffatPsf FromParameters(Vector<double> v, int stars)
    {
        double l11 = Math.Exp(v[0]), l22 = Math.Exp(v[1]), l21 = v[2];
        double beta = 1.0 + Math.Exp(Math.Clamp(v[3], MinLogBetaMinusOne, MaxLogBetaMinusOne));
        return new MoffatPsf(l11 * l11, l21 * l21 + l22 * l22, l11 * l21, beta, stars);
    }

    /// <summary>Sum over stars of chi² per pixel with each star's best amplitude (weights 1/variance).</summary>
    public static double Cost(IReadOnlyList<Stamp> stamps, MoffatPsf psf)
    {
        var eval = psf.CreateEvaluator();
        double total = 0;
        foreach (var s in stamps)
        {
            double smd = 0, smm = 0, sdd = 0;
            for (int k = 0; k < s.Count; k++)
            {
                double m = eval[s.Dx[k], s.Dy[k]], w = s.Weight[k], d = s.Value[k];
                smd += w * m * d;
                smm += w * m * m;
                sdd += w * d * d;
            }
            double chi2 = smm > 0 ? sdd - smd * smd / smm : sdd;
            total += chi2 / s.Count;
        }
        return double.IsFinite(total) ? total : double.MaxValue;
    }

    /// <summary>Nelder–Mead on <see cref="Cost"/> to a relative spread of 1e-9 (a restart at 1e-6 when that does not converge).</summary>
    public static Result Simplex(IReadOnlyList<Stamp> stamps, Vector<double> start, int maxIterations)
    {
        int evaluations = 0;
        var objective = ObjectiveFunction.Value(p =>
        {
            evaluations++;
            return Cost(stamps, FromParameters(p, 0));
        });
        var scale = Vector<double>.Build.Dense([0.1, 0.1, 0.1, 0.3]);
        MinimizationResult result;
        try
        {
            result = new NelderMeadSimplex(1e-9, maxIterations).FindMinimum(objective, start, scale);
        }
        catch (MaximumIterationsException)
        {
            // Not converged to 1e-9 in the iterations: the simplex is still far better than the start; keep a restart's best.
            result = new NelderMeadSimplex(1e-6, maxIterations).FindMinimum(objective, start, scale);
        }
        return new Result(result.MinimizingPoint, result.FunctionInfoAtMinimum.Value, evaluations);
    }

    /// <summary>
    /// Levenberg–Marquardt on the residuals w^½ (d − a m(θ)) with each star's amplitude a profiled out: the step solves
    /// (H + λ diag H) δ = −∇C, H the Gauss–Newton matrix of the projected Jacobian (Kaufman). Converged when a step
    /// moves no parameter by more than <see cref="StepTolerance"/>; null when it does not converge or meets a
    /// non-finite value (the caller then uses the simplex).
    /// </summary>
    public static Result? LevenbergMarquardt(IReadOnlyList<Stamp> stamps, Vector<double> start)
    {
        var theta = Clamp(start.ToArray());
        var current = Evaluate(stamps, theta);
        int evaluations = 1;
        if (!current.IsFinite)
        {
            return null;
        }
        double lambda = 1e-3;
        var a = Matrix<double>.Build.Dense(4, 4);
        var g = Vector<double>.Build.Dense(4);
        for (int step = 0; step < MaxSteps; step++)
        {
            for (int i = 0; i < 4; i++)
            {
                g[i] = -current.Gradient[i];
                for (int j = 0; j < 4; j++)
                {
                    a[i, j] = current.Hessian[i, j] * (i == j ? 1.0 + lambda : 1.0);
                }
            }
            Vector<double> delta;
            try
            {
                delta = a.Cholesky().Solve(g);
            }
            catch (ArgumentException)
            {
                // Not positive definite: the stamps do not constrain all four parameters.
                return null;
            }
            var trial = Clamp([theta[0] + delta[0], theta[1] + delta[1], theta[2] + delta[2], theta[3] + delta[3]]);
            double moved = MaxScaledStep(theta, trial);
            if (!double.IsFinite(moved))
            {
                return null;
            }
            if (moved <= StepTolerance && lambda < 1e4)
            {
                // Nothing left to gain beyond the objective's rounding: θ is the minimum to the tolerance.
                return new Result(Vector<double>.Build.Dense(theta), current.Cost, evaluations);
            }
            var next = Evaluate(stamps, trial);
            evaluations++;
            if (next.IsFinite && next.Cost <= current.Cost)
            {
                theta = trial;
                current = next;
                lambda = Math.Max(lambda * 0.1, 1e-12);
            }
            else if ((lambda *= 10.0) > 1e8)
            {
                return null;
            }
        }
        return null;
    }

    private static double[] Clamp(double[] theta)
    {
        theta[3] = Math.Clamp(theta[3], MinLogBetaMinusOne, MaxLogBetaMinusOne);
        return theta;
    }

    private static double MaxScaledStep(double[] from, double[] to) =>
        Math.Max(Math.Max(Math.Abs(to[0] - from[0]), Math.Abs(to[1] - from[1])),
            Math.Max(Math.Abs(to[2] - from[2]) / Math.Exp(from[0]), Math.Abs(to[3] - from[3])));

    /// <summary>The objective at θ, its gradient, and twice the Gauss–Newton matrix (∇²C ≈ H near the minimum).</summary>
    internal sealed class Evaluation
    {
        public double Cost { get; set; }

        public double[] Gradient { get; } = new double[4];

        public double[,] Hessian { get; } = new double[4, 4];

        public bool IsFinite
        {
            get
            {
                bool finite = double.IsFinite(Cost) && Gradient.All(double.IsFinite);
                foreach (double h in Hessian)
                {
                    finite &= double.IsFinite(h);
                }
                return finite;
            }
        }
    }

    /// <summary>
    /// One pass over the stamps. With u = L⁻¹ r (u1 = dx / l11, u2 = (dy − l21 u1) / l22), q = |u|² and
    /// log m = log(β − 1) − log π − θ0 − θ1 − β log(1 + q), the derivatives are ∂m/∂θi = m ∂log m/∂θi with
    /// ∂log m/∂θ0 = −1 − β/(1+q) (−2 u1² + 2 u2 u1 l21/l22), ∂log m/∂θ1 = −1 + 2 β u2²/(1+q),
    /// ∂log m/∂θ2 = 2 β u1 u2 / (l22 (1+q)), ∂log m/∂θ3 = 1 − (β − 1) log(1 + q). Per star, with a = Σwmd/Σwm²:
    /// χ² = Σwd² − a Σwmd, ∂χ²/∂θi = −2 a (Σwd ∂im − a Σwm ∂im), and Kaufman's Gauss–Newton matrix
    /// a² (Σw ∂im ∂jm − Σwm ∂im Σwm ∂jm / Σwm²).
    /// </summary>
    internal static Evaluation Evaluate(IReadOnlyList<Stamp> stamps, double[] theta)
    {
        double l11 = Math.Exp(theta[0]), l22 = Math.Exp(theta[1]), l21 = theta[2], bm1 = Math.Exp(theta[3]), beta = 1.0 + bm1;
        double norm = bm1 / (Math.PI * l11 * l22), inv11 = 1.0 / l11, inv22 = 1.0 / l22, c0 = 2.0 * l21 * inv22;
        var result = new Evaluation();
        Span<double> dm = stackalloc double[4];
        Span<double> wdDm = stackalloc double[4];
        Span<double> wmDm = stackalloc double[4];
        Span<double> wDmDm = stackalloc double[10];
        foreach (var s in stamps)
        {
            double smd = 0, smm = 0, sdd = 0;
            wdDm.Clear();
            wmDm.Clear();
            wDmDm.Clear();
            for (int k = 0; k < s.Count; k++)
            {
                double u1 = s.Dx[k] * inv11, u2 = (s.Dy[k] - l21 * u1) * inv22;
                double q1 = 1.0 + u1 * u1 + u2 * u2, lq = Math.Log(q1);
                double m = norm * Math.Exp(-beta * lq), bq = beta / q1;
                dm[0] = m * (-1.0 - bq * (-2.0 * u1 * u1 + c0 * u1 * u2));
                dm[1] = m * (-1.0 + 2.0 * bq * u2 * u2);
                dm[2] = m * (2.0 * bq * u1 * u2 * inv22);
                dm[3] = m * (1.0 - bm1 * lq);
                double w = s.Weight[k], d = s.Value[k], wd = w * d, wm = w * m;
                smd += wm * d;
                smm += wm * m;
                sdd += wd * d;
                for (int i = 0, n = 0; i < 4; i++)
                {
                    wdDm[i] += wd * dm[i];
                    wmDm[i] += wm * dm[i];
                    double wdi = w * dm[i];
                    for (int j = 0; j <= i; j++, n++)
                    {
                        wDmDm[n] += wdi * dm[j];
                    }
                }
            }
            double scale = 1.0 / s.Count;
            if (!(smm > 0))
            {
                result.Cost += sdd * scale;
                continue;
            }
            double amp = smd / smm;
            result.Cost += (sdd - amp * smd) * scale;
            for (int i = 0, n = 0; i < 4; i++)
            {
                result.Gradient[i] += -2.0 * amp * (wdDm[i] - amp * wmDm[i]) * scale;
                for (int j = 0; j <= i; j++, n++)
                {
                    double h = 2.0 * amp * amp * (wDmDm[n] - wmDm[i] * wmDm[j] / smm) * scale;
                    result.Hessian[i, j] += h;
                    if (j < i)
                    {
                        result.Hessian[j, i] += h;
                    }
                }
            }
        }
        return result;
    }
}
