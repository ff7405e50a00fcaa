namespace Drp.Pipeline.SingleFrame;

/// <summary>The statistic that gives a mesh cell its level.</summary>
public enum BackgroundStatistic
{
    /// <summary>SExtractor's mode, 2.5 median - 1.5 mean of the clipped pixels, or their median when skewed.</summary>
    Mode,
    /// <summary>Median of the clipped pixels.</summary>
    Median,
    /// <summary>Mean of the clipped pixels (LSST's MEANCLIP).</summary>
    ClippedMean,
}

/// <summary>Configuration of <see cref="BackgroundEstimator"/>.</summary>
public sealed record BackgroundConfig
{
    /// <summary>Mesh cell size in pixels (cells are spread evenly, so the actual size is within a few pixels of it).</summary>
    public int CellSize { get; init; } = 64;

    /// <summary>
    /// Clipped mean by default (LSST's choice): on 64-pixel cells it is about twice as precise as the mode, and
    /// <see cref="BackgroundEstimator.Refine"/> removes most of the source light the mode would guard against.
    /// </summary>
    public BackgroundStatistic Statistic { get; init; } = BackgroundStatistic.ClippedMean;

    public double ClipSigma { get; init; } = 3.0;

    public int ClipIterations { get; init; } = 5;

    /// <summary>A cell with fewer usable pixels than this fraction of its area is filled from its neighbours.</summary>
    public double MinUsableFraction { get; init; } = 0.3;

    /// <summary>
    /// The SExtractor mode 2.5 median - 1.5 mean is used while |mean - median| / sigma is below this; the clipped
    /// median beyond it (a crowded, skewed cell).
    /// </summary>
    public double ModeSkewLimit { get; init; } = 0.3;

    /// <summary>Size of the median filter over the mesh (1 = none; odd).</summary>
    public int MeshFilterSize { get; init; } = 3;

    /// <summary>Pixels with any of these planes are left out of the cell statistics.</summary>
    public MaskPlane IgnoredPlanes { get; init; } =
        MaskPlane.NoData | MaskPlane.Bad | MaskPlane.Saturated | MaskPlane.Detected | MaskPlane.CosmicRay;
}

/// <summary>
/// A smooth background and its RMS at every pixel (electrons), the mesh they were interpolated from, and their
/// medians over the mesh (<see cref="Level"/>, <see cref="Noise"/>), the CcdVisit skyBg and skyNoise.
/// </summary>
public sealed record BackgroundModel(
    int Width,
    int Height,
    int CellsX,
    int CellsY,
    float[] MeshLevel,
    float[] MeshRms,
    float[] Image,
    float[] Rms,
    double Level,
    double Noise);

/// <summary>
/// Background estimation: sigma-clipped statistics in mesh cells (masked pixels excluded; the clipped mean, median or
/// SExtractor-like mode), a median filter over the mesh against outlying cells, then a natural bicubic spline through the cell
/// centres (a linear gradient is reproduced exactly, including beyond the outer cell centres).
/// </summary>
public static class BackgroundEstimator
{
    public static BackgroundModel Estimate(Exposure exposure, BackgroundConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.CellSize, "config.CellSize");
        int w = exposure.Width, h = exposure.Height;
        int nx = Math.Max(1, (int)Math.Round(w / (double)config.CellSize));
        int ny = Math.Max(1, (int)Math.Round(h / (double)config.CellSize));
        var level = new float[nx * ny];
        var rms = new float[nx * ny];
        var valid = new bool[nx * ny];

        var stats = CellStatistics(exposure, null, nx, ny, config);
        for (int c = 0; c < stats.Length; c++)
        {
            if (stats[c] is not { } s)
            {
                continue;
            }
            bool symmetric = s.StdDev > 0 && Math.Abs(s.Mean - s.Median) / s.StdDev < config.ModeSkewLimit;
            level[c] = (float)(config.Statistic switch
            {
                BackgroundStatistic.Mode => symmetric ? 2.5 * s.Median - 1.5 * s.Mean : s.Median,
                BackgroundStatistic.Median => s.Median,
                _ => s.Mean,
            });
            valid[c] = true;
        }
        int nValid = FillInvalid(level, rms, valid, nx, ny);
        if (nValid == 0)
        {
            // Nothing usable: a zero background keeps the pixels as they are; Noise = NaN tells the caller.
            return new BackgroundModel(w, h, nx, ny, level, rms, new float[w * h], new float[w * h], 0.0, double.NaN);
        }
        if (config.MeshFilterSize > 1)
        {
            MedianFilter(level, nx, ny, config.MeshFilterSize / 2);
        }
        var image = Interpolate(level, nx, ny, w, h);

        // The noise about the model, not the spread of the cell: a sky gradient must not count as noise.
        var residual = CellStatistics(exposure, image, nx, ny, config);
        Array.Clear(valid);
        for (int c = 0; c < residual.Length; c++)
        {
            if (residual[c] is { } s)
            {
                rms[c] = (float)s.StdDev;
                valid[c] = true;
            }
        }
        FillInvalid(rms, new float[rms.Length], valid, nx, ny);
        if (config.MeshFilterSize > 1)
        {
            MedianFilter(rms, nx, ny, config.MeshFilterSize / 2);
        }
        var rmsImage = Interpolate(rms, nx, ny, w, h);
        double medLevel = RobustStatistics.Median((float[])level.Clone());
        double medRms = RobustStatistics.Median((float[])rms.Clone());
        return new BackgroundModel(w, h, nx, ny, level, rms, image, rmsImage, medLevel, medRms);
    }

    /// <summary>Clipped statistics of each cell's usable pixels (minus <paramref name="model"/> if given); null when too few.</summary>
    private static ClippedStatistics?[] CellStatistics(Exposure exposure, float[]? model, int nx, int ny, BackgroundConfig config)
    {
        int w = exposure.Width, h = exposure.Height;
        var result = new ClippedStatistics?[nx * ny];
        var buffer = new float[(w / nx + 1) * (h / ny + 1)];
        ushort ignored = (ushort)config.IgnoredPlanes;
        for (int cy = 0; cy < ny; cy++)
        {
            int y0 = cy * h / ny, y1 = (cy + 1) * h / ny;
            for (int cx = 0; cx < nx; cx++)
            {
                int x0 = cx * w / nx, x1 = (cx + 1) * w / nx;
                int n = 0;
                for (int y = y0; y < y1; y++)
                {
                    int row = y * w;
                    for (int x = x0; x < x1; x++)
                    {
                        if ((exposure.Mask[row + x] & ignored) == 0)
                        {
                            buffer[n++] = model is null ? exposure.Image[row + x] : exposure.Image[row + x] - model[row + x];
                        }
                    }
                }
                if (n >= Math.Max(3, config.MinUsableFraction * (x1 - x0) * (y1 - y0)))
                {
                    result[cy * nx + cx] = RobustStatistics.SigmaClip(buffer.AsSpan(0, n), config.ClipSigma, config.ClipIterations);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Second pass after detection: adds <paramref name="previous"/> back, estimates again (DETECTED pixels are left
    /// out by the default <see cref="BackgroundConfig.IgnoredPlanes"/>) and subtracts the new model, which it returns.
    /// </summary>
    public static BackgroundModel Refine(Exposure exposure, BackgroundModel previous, BackgroundConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(previous);
        var img = exposure.Image;
        for (int i = 0; i < img.Length; i++)
        {
            if ((exposure.Mask[i] & (ushort)MaskPlane.NoData) == 0)
            {
                img[i] += previous.Image[i];
            }
        }
        var model = Estimate(exposure, config);
        Subtract(exposure, model);
        return model;
    }

    /// <summary>Subtracts the background from the exposure's image in place (NO_DATA pixels stay as they are).</summary>
    public static void Subtract(Exposure exposure, BackgroundModel background)
    {
        if (background.Width != exposure.Width || background.Height != exposure.Height)
        {
            throw new ArgumentException("background and exposure sizes differ", nameof(background));
        }
        var img = exposure.Image;
        var bg = background.Image;
        for (int i = 0; i < img.Length; i++)
        {
            if ((exposure.Mask[i] & (ushort)MaskPlane.NoData) == 0)
            {
                img[i] -= bg[i];
            }
        }
    }

    /// <summary>Fills unusable cells with the mean of their usable neighbours, growing inwards; returns the usable count.</summary>
    private static int FillInvalid(float[] level, float[] rms, bool[] valid, int nx, int ny)
    {
        int nValid = 0;
        foreach (bool v in valid)
        {
            nValid += v ? 1 : 0;
        }
        if (nValid == 0 || nValid == valid.Length)
        {
            return nValid;
        }
        var filled = (bool[])valid.Clone();
        bool any = true;
        while (any)
        {
            any = false;
            var next = (bool[])filled.Clone();
            for (int cy = 0; cy < ny; cy++)
            {
                for (int cx = 0; cx < nx; cx++)
                {
                    int c = cy * nx + cx;
                    if (filled[c])
                    {
                        continue;
                    }
                    double sl = 0, sr = 0;
                    int k = 0;
                    for (int dy = -1; dy <= 1; dy++)
                    {
                        for (int dx = -1; dx <= 1; dx++)
                        {
                            int ex = cx + dx, ey = cy + dy;
                            if (ex >= 0 && ex < nx && ey >= 0 && ey < ny && filled[ey * nx + ex])
                            {
                                sl += level[ey * nx + ex];
                                sr += rms[ey * nx + ex];
                                k++;
                            }
                        }
                    }
                    if (k > 0)
                    {
                        level[c] = (float)(sl / k);
                        rms[c] = (float)(sr / k);
                        next[c] = true;
                        any = true;
                    }
                }
            }
            filled = next;
        }
        return nValid;
    }

    /// <summary>
    /// Median filter of half-width <paramref name="r"/>; beyond the mesh edge values are point-reflected
    /// (2 v[edge] - v[inside]) so that a plane passes unchanged.
    /// </summary>
    internal static void MedianFilter(float[] values, int nx, int ny, int r)
    {
        var source = (float[])values.Clone();
        var window = new float[(2 * r + 1) * (2 * r + 1)];
        for (int cy = 0; cy < ny; cy++)
        {
            for (int cx = 0; cx < nx; cx++)
            {
                int n = 0;
                for (int dy = -r; dy <= r; dy++)
                {
                    for (int dx = -r; dx <= r; dx++)
                    {
                        window[n++] = Reflected(source, nx, ny, cx + dx, cy + dy);
                    }
                }
                values[cy * nx + cx] = (float)RobustStatistics.Median(window.AsSpan(0, n));
            }
        }
    }

    private static float Reflected(float[] v, int nx, int ny, int x, int y)
    {
        // Point reflection through the edge cell, f(-k) = 2 f(0) - f(k), axis by axis: exact for planes.
        if (x < 0 || x >= nx)
        {
            int cx = Math.Clamp(x, 0, nx - 1);
            int rx = Math.Clamp(2 * cx - x, 0, nx - 1);
            return 2 * Reflected(v, nx, ny, cx, y) - Reflected(v, nx, ny, rx, y);
        }
        if (y < 0 || y >= ny)
        {
            int cy = Math.Clamp(y, 0, ny - 1);
            int ry = Math.Clamp(2 * cy - y, 0, ny - 1);
            return 2 * v[cy * nx + x] - v[ry * nx + x];
        }
        return v[y * nx + x];
    }

    /// <summary>Separable natural cubic spline through the cell centres, evaluated at every pixel centre.</summary>
    internal static float[] Interpolate(float[] mesh, int nx, int ny, int w, int h)
    {
        var knotsX = new double[nx];
        for (int cx = 0; cx < nx; cx++)
        {
            knotsX[cx] = 0.5 * (cx * w / nx + (cx + 1) * w / nx - 1);
        }
        var knotsY = new double[ny];
        for (int cy = 0; cy < ny; cy++)
        {
            knotsY[cy] = 0.5 * (cy * h / ny + (cy + 1) * h / ny - 1);
        }

        // Along y for each mesh column (small), then along x row by row so the full image is written in order.
        var columns = new double[nx * h];
        var values = new double[Math.Max(nx, ny)];
        var second = new double[Math.Max(nx, ny)];
        var scratch = new double[Math.Max(nx, ny)];
        for (int cx = 0; cx < nx; cx++)
        {
            for (int cy = 0; cy < ny; cy++)
            {
                values[cy] = mesh[cy * nx + cx];
            }
            CubicSpline.SecondDerivatives(knotsY, values.AsSpan(0, ny), second.AsSpan(0, ny), scratch.AsSpan(0, ny));
            CubicSpline.EvaluateAtPixels(knotsY, values.AsSpan(0, ny), second.AsSpan(0, ny), columns.AsSpan(cx * h, h));
        }

        var row = new double[w];
        var result = new float[w * h];
        for (int y = 0; y < h; y++)
        {
            for (int cx = 0; cx < nx; cx++)
            {
                values[cx] = columns[cx * h + y];
            }
            CubicSpline.SecondDerivatives(knotsX, values.AsSpan(0, nx), second.AsSpan(0, nx), scratch.AsSpan(0, nx));
            CubicSpline.EvaluateAtPixels(knotsX, values.AsSpan(0, nx), second.AsSpan(0, nx), row);
            var target = result.AsSpan(y * w, w);
            for (int x = 0; x < w; x++)
            {
                target[x] = (float)row[x];
            }
        }
        return result;
    }
}

/// <summary>Natural cubic spline through increasing knots, extended linearly beyond the end knots.</summary>
internal static class CubicSpline
{
    /// <summary>Second derivatives at the knots (zero at both ends) by the tridiagonal algorithm.</summary>
    public static void SecondDerivatives(ReadOnlySpan<double> t, ReadOnlySpan<double> v, Span<double> m, Span<double> u)
    {
        int n = v.Length;
        m.Clear();
        if (n < 3)
        {
            return;
        }
        u[0] = 0;
        for (int i = 1; i < n - 1; i++)
        {
            double sig = (t[i] - t[i - 1]) / (t[i + 1] - t[i - 1]);
            double p = sig * m[i - 1] + 2.0;
            m[i] = (sig - 1.0) / p;
            double d = (v[i + 1] - v[i]) / (t[i + 1] - t[i]) - (v[i] - v[i - 1]) / (t[i] - t[i - 1]);
            u[i] = (6.0 * d / (t[i + 1] - t[i - 1]) - sig * u[i - 1]) / p;
        }
        m[n - 1] = 0;
        for (int k = n - 2; k >= 0; k--)
        {
            m[k] = m[k] * m[k + 1] + u[k];
        }
        m[0] = 0;
    }

    /// <summary>Evaluates the spline at the pixel centres 0, 1, ..., output.Length - 1.</summary>
    public static void EvaluateAtPixels(ReadOnlySpan<double> t, ReadOnlySpan<double> v, ReadOnlySpan<double> m, Span<double> output)
    {
        int n = v.Length;
        if (n == 1)
        {
            output.Fill(v[0]);
            return;
        }
        int seg = 0;
        for (int p = 0; p < output.Length; p++)
        {
            double x = p;
            if (x <= t[0])
            {
                output[p] = v[0] + Slope(t, v, m, 0, atStart: true) * (x - t[0]);
                continue;
            }
            if (x >= t[n - 1])
            {
                output[p] = v[n - 1] + Slope(t, v, m, n - 2, atStart: false) * (x - t[n - 1]);
                continue;
            }
            while (x > t[seg + 1])
            {
                seg++;
            }
            double hs = t[seg + 1] - t[seg];
            double a = (t[seg + 1] - x) / hs, b = (x - t[seg]) / hs;
            output[p] = a * v[seg] + b * v[seg + 1] + ((a * a * a - a) * m[seg] + (b * b * b - b) * m[seg + 1]) * hs * hs / 6.0;
        }
    }

    /// <summary>First derivative at the start (or end) of segment <paramref name="seg"/>.</summary>
    private static double Slope(ReadOnlySpan<double> t, ReadOnlySpan<double> v, ReadOnlySpan<double> m, int seg, bool atStart)
    {
        double hs = t[seg + 1] - t[seg];
        double chord = (v[seg + 1] - v[seg]) / hs;
        return atStart
            ? chord - hs * (2 * m[seg] + m[seg + 1]) / 6.0
            : chord + hs * (m[seg] + 2 * m[seg + 1]) / 6.0;
    }
}
