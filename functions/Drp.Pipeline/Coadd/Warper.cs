using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Coadd;

/// <summary>One calexp resampled onto a patch's grid (nJy), over the box of the patch it covers.</summary>
/// <remarks>
/// <see cref="Box"/> is in the patch image's own pixels (outer box, zero-based). A pixel whose Lanczos taps leave the
/// calexp or touch a non-finite value is NaN and NO_DATA. <see cref="Psf"/> is the calexp's PSF on the patch grid.
/// </remarks>
public sealed record Warp(long Visit, int Detector, string Band, PixelBox Box, float[] Image, float[] Variance, ushort[] Mask, MoffatPsf Psf)
{
    public string InputName => $"visit {Visit} detector {Detector}";
}

/// <summary>
/// The map from a patch image's pixels to a calexp's: the exact sky round trip on a coarse grid, bilinear between
/// (the TAN-to-TAN map is smooth, so 16 px nodes are exact to far below 0.001 px), with the Jacobian determinant
/// (calexp pixels per patch pixel) for flux conservation.
/// </summary>
public sealed class PixelMapping
{
    private readonly int _step, _nx, _ny;
    private readonly double[] _u, _v, _det;

    public PixelMapping(TanWcs from, TanWcs to, PixelBox box, int step = 16)
    {
        Box = box;
        _step = step;
        _nx = box.Width / step + 2;
        _ny = box.Height / step + 2;
        _u = new double[_nx * _ny];
        _v = new double[_nx * _ny];
        _det = new double[_nx * _ny];
        for (int j = 0; j < _ny; j++)
        {
            for (int i = 0; i < _nx; i++)
            {
                double x = box.X0 + i * step, y = box.Y0 + j * step;
                var (u, v) = Map(from, to, x, y);
                // The Jacobian by central differences of half a pixel.
                var (ux1, vx1) = Map(from, to, x + 0.5, y);
                var (ux0, vx0) = Map(from, to, x - 0.5, y);
                var (uy1, vy1) = Map(from, to, x, y + 0.5);
                var (uy0, vy0) = Map(from, to, x, y - 0.5);
                int k = j * _nx + i;
                _u[k] = u;
                _v[k] = v;
                _det[k] = Math.Abs((ux1 - ux0) * (vy1 - vy0) - (uy1 - uy0) * (vx1 - vx0));
            }
        }
    }

    public PixelBox Box { get; }

    /// <summary>The calexp pixel of patch pixel (x, y) and the pixel-area ratio there.</summary>
    public (double U, double V, double Det) At(int x, int y)
    {
        int gx = x - Box.X0, gy = y - Box.Y0;
        int i = gx / _step, j = gy / _step;
        double fx = (gx - i * _step) / (double)_step, fy = (gy - j * _step) / (double)_step;
        int k = j * _nx + i;
        double w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        return (w00 * _u[k] + w10 * _u[k + 1] + w01 * _u[k + _nx] + w11 * _u[k + _nx + 1],
            w00 * _v[k] + w10 * _v[k + 1] + w01 * _v[k + _nx] + w11 * _v[k + _nx + 1],
            w00 * _det[k] + w10 * _det[k + 1] + w01 * _det[k + _nx] + w11 * _det[k + _nx + 1]);
    }

    private static (double U, double V) Map(TanWcs from, TanWcs to, double x, double y)
    {
        var (ra, dec) = from.PixelToSky(x, y);
        return to.SkyToPixel(ra, dec);
    }
}

/// <summary>makeWarp: Lanczos-3 resampling of a calexp onto a patch grid, flux-conserving, calibrated to nJy.</summary>
public static class Warper
{
    /// <summary>Lanczos order: taps from floor(u) − 2 to floor(u) + 3.</summary>
    public const int Order = 3;

    /// <summary>Planes a warp carries; DETECTED and EDGE describe the calexp's own detection and stay behind.</summary>
    public const MaskPlane CarriedPlanes = MaskPlane.Saturated | MaskPlane.Bad | MaskPlane.Interpolated | MaskPlane.NoData | MaskPlane.CosmicRay;

    private const int TableSteps = 1024;

    // Weights of the six taps for each fractional offset at 1/1024 px (position error ≤ 0.0005 px): unit sum, zero first moment.
    private static readonly float[] Table = BuildTable();

    /// <summary>The patch pixels whose six-by-six taps all lie on the calexp: its valid region, by geometry alone.</summary>
    public static PixelBox? CoveredBox(CalexpGeometry input, PatchInfo patch)
    {
        var patchWcs = patch.Wcs;
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        // The calexp's outline, sampled along its edges, in patch pixels.
        for (int s = 0; s <= 64; s++)
        {
            double t = s / 64.0;
            foreach (var (u, v) in new[] { (t * (input.Width - 1), 0.0), (t * (input.Width - 1), input.Height - 1.0), (0.0, t * (input.Height - 1)), (input.Width - 1.0, t * (input.Height - 1)) })
            {
                var (ra, dec) = input.Wcs.PixelToSky(u, v);
                var (x, y) = patchWcs.SkyToPixel(ra, dec);
                if (!double.IsFinite(x))
                {
                    continue;
                }
                minX = Math.Min(minX, x);
                maxX = Math.Max(maxX, x);
                minY = Math.Min(minY, y);
                maxY = Math.Max(maxY, y);
            }
        }
        int x0 = Math.Max((int)Math.Floor(minX) - 1, 0), y0 = Math.Max((int)Math.Floor(minY) - 1, 0);
        int x1 = Math.Min((int)Math.Ceiling(maxX) + 2, patch.Outer.Width), y1 = Math.Min((int)Math.Ceiling(maxY) + 2, patch.Outer.Height);
        return x1 > x0 && y1 > y0 ? new PixelBox(x0, y0, x1 - x0, y1 - y0) : null;
    }

    /// <summary>Whether a calexp pixel position has all its taps on a width × height image.</summary>
    public static bool TapsInside(double u, double v, int width, int height)
    {
        int iu = (int)Math.Floor(u), iv = (int)Math.Floor(v);
        return iu - Order + 1 >= 0 && iu + Order < width && iv - Order + 1 >= 0 && iv + Order < height && !double.IsNaN(u) && !double.IsNaN(v);
    }

    /// <summary>Resamples a calexp onto the patch; null when it covers none of the patch.</summary>
    public static Warp? Warp(CalexpImage calexp, PatchInfo patch)
    {
        var geometry = calexp.Geometry;
        if (CoveredBox(geometry, patch) is not { } box)
        {
            return null;
        }
        var map = new PixelMapping(patch.Wcs, calexp.Wcs, box);
        int n = box.Width * box.Height, w = calexp.Width, h = calexp.Height;
        var image = new float[n];
        var variance = new float[n];
        var mask = new ushort[n];
        var inImage = calexp.Image;
        var inVariance = calexp.Variance;
        var inMask = calexp.Mask;
        double scale = calexp.NanojanskyPerElectron;
        bool any = false;
        Span<float> wx = stackalloc float[2 * Order];
        Span<float> wy = stackalloc float[2 * Order];
        for (int y = 0; y < box.Height; y++)
        {
            for (int x = 0; x < box.Width; x++)
            {
                int o = y * box.Width + x;
                var (u, v, det) = map.At(box.X0 + x, box.Y0 + y);
                if (!TapsInside(u, v, w, h))
                {
                    image[o] = float.NaN;
                    variance[o] = float.NaN;
                    mask[o] = (ushort)MaskPlane.NoData;
                    continue;
                }
                int iu = (int)Math.Floor(u), iv = (int)Math.Floor(v);
                Weights(u - iu, wx);
                Weights(v - iv, wy);
                double sum = 0, sumVar = 0;
                int m = 0;
                int u0 = iu - Order + 1, v0 = iv - Order + 1;
                for (int j = 0; j < 2 * Order; j++)
                {
                    int row = (v0 + j) * w + u0;
                    double rs = 0, rv = 0;
                    bool rowCounts = wy[j] != 0;
                    for (int i = 0; i < 2 * Order; i++)
                    {
                        float a = wx[i];
                        rs += a * inImage[row + i];
                        rv += a * a * inVariance[row + i];
                        if (rowCounts && a != 0)
                        {
                            m |= inMask[row + i];
                        }
                    }
                    sum += wy[j] * rs;
                    sumVar += wy[j] * wy[j] * rv;
                }
                m &= (int)CarriedPlanes;
                if (!double.IsFinite(sum) || !double.IsFinite(sumVar))
                {
                    image[o] = float.NaN;
                    variance[o] = float.NaN;
                    mask[o] = (ushort)(m | (int)MaskPlane.NoData);
                    continue;
                }
                // Surface brightness per patch pixel: calexp value times calexp pixels per patch pixel, in nJy.
                double f = det * scale;
                image[o] = (float)(sum * f);
                variance[o] = (float)(sumVar * f * f);
                mask[o] = (ushort)m;
                any = true;
            }
        }
        if (!any)
        {
            return null;
        }
        return new Warp(calexp.Visit, calexp.Detector, calexp.Band, box, image, variance, mask, WarpPsf(calexp, patch, box));
    }

    /// <summary>The calexp's Moffat carried to the patch grid at the box centre: Q' = A Q Aᵀ, A = ∂(x, y)/∂(u, v).</summary>
    public static MoffatPsf WarpPsf(CalexpImage calexp, PatchInfo patch, PixelBox box)
    {
        var pw = patch.Wcs;
        double cx = box.X0 + 0.5 * box.Width, cy = box.Y0 + 0.5 * box.Height;
        (double U, double V) M(double x, double y)
        {
            var (ra, dec) = pw.PixelToSky(x, y);
            return calexp.Wcs.SkyToPixel(ra, dec);
        }
        var (ux1, vx1) = M(cx + 0.5, cy);
        var (ux0, vx0) = M(cx - 0.5, cy);
        var (uy1, vy1) = M(cx, cy + 0.5);
        var (uy0, vy0) = M(cx, cy - 0.5);
        // J = ∂(u, v)/∂(x, y); A is its inverse.
        double j11 = ux1 - ux0, j12 = uy1 - uy0, j21 = vx1 - vx0, j22 = vy1 - vy0;
        double det = j11 * j22 - j12 * j21;
        double a11 = j22 / det, a12 = -j12 / det, a21 = -j21 / det, a22 = j11 / det;
        var q = calexp.Psf;
        // (A Q)
        double b11 = a11 * q.Qxx + a12 * q.Qxy, b12 = a11 * q.Qxy + a12 * q.Qyy;
        double b21 = a21 * q.Qxx + a22 * q.Qxy, b22 = a21 * q.Qxy + a22 * q.Qyy;
        double qxx = b11 * a11 + b12 * a12, qxy = b11 * a21 + b12 * a22, qyy = b21 * a21 + b22 * a22;
        return new MoffatPsf(qxx, qyy, qxy, q.Beta, q.StarCount);
    }

    /// <summary>The normalised Lanczos-3 weights of taps floor(u) − 2 … floor(u) + 3 for fraction <paramref name="frac"/>.</summary>
    public static void Weights(double frac, Span<float> weights)
    {
        int k = (int)(frac * TableSteps + 0.5);
        Table.AsSpan(k * 2 * Order, 2 * Order).CopyTo(weights);
    }

    private static float[] BuildTable()
    {
        var table = new float[(TableSteps + 1) * 2 * Order];
        for (int k = 0; k <= TableSteps; k++)
        {
            double frac = k / (double)TableSteps, sum = 0;
            var w = new double[2 * Order];
            double m1 = 0, m2 = 0;
            for (int i = 0; i < 2 * Order; i++)
            {
                double d = i - Order + 1 - frac;
                w[i] = Lanczos(-d);
                m1 += w[i] * d;
                m2 += Math.Abs(w[i]) * d * d;
            }
            // Truncated sinc does not reproduce a linear ramp: its first moment shifts every centroid by up to
            // 0.02 px where the grids align. Adding −(m1/m2)·|w|·d to each tap zeroes it; then unit sum.
            for (int i = 0; i < 2 * Order; i++)
            {
                w[i] -= m2 > 0 ? m1 / m2 * Math.Abs(w[i]) * (i - Order + 1 - frac) : 0;
                sum += w[i];
            }
            for (int i = 0; i < 2 * Order; i++)
            {
                table[k * 2 * Order + i] = (float)(w[i] / sum);
            }
        }
        return table;
    }

    private static double Lanczos(double x)
    {
        // Exact at integers, so a tap of zero weight is zero (and carries no mask bit).
        if (Math.Abs(x - Math.Round(x)) < 1e-12)
        {
            return Math.Abs(x) < 0.5 ? 1.0 : 0.0;
        }
        if (Math.Abs(x) >= Order)
        {
            return 0.0;
        }
        double px = Math.PI * x;
        return Order * Math.Sin(px) * Math.Sin(px / Order) / (px * px);
    }
}

/// <summary>What the coadd knows of an input without its pixels: id, size and WCS (its valid region follows).</summary>
public sealed record CalexpGeometry(long Visit, int Detector, string Band, TanWcs Wcs, int Width, int Height)
{
    public string InputName => $"visit {Visit} detector {Detector}";
}
