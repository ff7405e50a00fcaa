using System.Numerics;
using System.Runtime.Intrinsics;

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

    /// <summary>
    /// Pixels with any of these planes are left out of <see cref="BackgroundEstimator.SkyNoise"/>: those whose values
    /// are not measurements of the sky. Sources stay in, as in LSST's skyNoise (its bad planes are NO_DATA and
    /// SUSPECT), and the clipping removes them; leaving DETECTED pixels out would take the positive noise at the
    /// footprints' edges with them and read the noise a few per cent low.
    /// </summary>
    public MaskPlane SkyNoiseIgnoredPlanes { get; init; } =
        MaskPlane.NoData | MaskPlane.Bad | MaskPlane.Saturated | MaskPlane.CosmicRay;

    /// <summary>
    /// Each cell's statistics from the sums of its <c>Binning</c> x <c>Binning</c> blocks (a block with any ignored
    /// pixel is left out; a cell's last partial row or column of blocks too), scaled back to one pixel. The clipped
    /// mean holds the same pixels, so it is as precise, with a quarter of the values to clip at 2; and a block sums the
    /// faint wings and undetected sources that no single pixel shows above the noise (four pixels at +2σ make a sum at
    /// +4σ of the sums), so the clip removes more of their light than a pixel-by-pixel clip. The per-cell RMS comes
    /// from a quarter as many values (statistical error 2.2 % instead of 1.1 % on 64-pixel cells). 1 uses every pixel.
    /// </summary>
    public int Binning { get; init; } = 2;
}

/// <summary>
/// A smooth background and its RMS (electrons): the mesh they are interpolated from, their values at every pixel
/// (<see cref="Image"/>, <see cref="Rms"/>, made on first use: the pipeline evaluates the surface row by row and never
/// needs the planes) and their medians over the mesh (<see cref="Level"/>, the CcdVisit skyBg, and <see cref="Noise"/>;
/// the pipeline takes the CcdVisit skyNoise from <see cref="BackgroundEstimator.SkyNoise"/> instead).
/// </summary>
public sealed record BackgroundModel(
    int Width,
    int Height,
    int CellsX,
    int CellsY,
    float[] MeshLevel,
    float[] MeshRms,
    double Level,
    double Noise)
{
    private float[]? _image;
    private float[]? _rms;

    /// <summary>The background at every pixel (row-major).</summary>
    public float[] Image => _image ??= CreateSurface().Plane();

    /// <summary>The background RMS at every pixel (row-major).</summary>
    public float[] Rms => _rms ??= new MeshSurface(MeshRms, CellsX, CellsY, Width, Height).Plane();

    /// <summary>
    /// A new spline surface through <see cref="MeshLevel"/> for row-by-row evaluation (one per caller: a surface's
    /// row buffers are its own, and building one costs a spline per mesh column only).
    /// </summary>
    internal MeshSurface CreateSurface() => new(MeshLevel, CellsX, CellsY, Width, Height);
}

/// <summary>
/// Background estimation: sigma-clipped statistics in mesh cells (masked pixels excluded; the clipped mean, median or
/// SExtractor-like mode), a median filter over the mesh against outlying cells, then a natural bicubic spline through the cell
/// centres (a linear gradient is reproduced exactly, including beyond the outer cell centres).
/// </summary>
public static class BackgroundEstimator
{
    public static BackgroundModel Estimate(Exposure exposure, BackgroundConfig config) => Estimate(exposure, config, includeNoise: true);

    /// <param name="includeNoise">
    /// False skips the second pass over the cells that measures the RMS about the model (MeshRms and Rms are then
    /// zero and Noise NaN): for a first background that <see cref="Refine"/> replaces anyway.
    /// </param>
    internal static BackgroundModel Estimate(Exposure exposure, BackgroundConfig config, bool includeNoise)
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
            return new BackgroundModel(w, h, nx, ny, level, rms, 0.0, double.NaN);
        }
        if (config.MeshFilterSize > 1)
        {
            MedianFilter(level, nx, ny, config.MeshFilterSize / 2);
        }
        if (!includeNoise)
        {
            return new BackgroundModel(w, h, nx, ny, level, rms, RobustStatistics.Median((float[])level.Clone()), double.NaN);
        }
        var surface = new MeshSurface(level, nx, ny, w, h);

        // The noise about the model, not the spread of the cell: a sky gradient must not count as noise.
        var residual = CellStatistics(exposure, surface, nx, ny, config);
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
        double medLevel = RobustStatistics.Median((float[])level.Clone());
        double medRms = RobustStatistics.Median((float[])rms.Clone());
        return new BackgroundModel(w, h, nx, ny, level, rms, medLevel, medRms);
    }

    /// <summary>
    /// Clipped statistics of each cell's usable pixels (minus <paramref name="model"/> if given, evaluated a band of
    /// rows at a time); null when too few.
    /// </summary>
    private static ClippedStatistics?[] CellStatistics(Exposure exposure, MeshSurface? model, int nx, int ny, BackgroundConfig config)
    {
        int w = exposure.Width, h = exposure.Height;
        var result = new ClippedStatistics?[nx * ny];
        int b = config.Binning;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(b, "config.Binning");
        var buffer = new float[(w / nx + 1) * (h / ny + 1)];
        var band = model is null ? null : new float[(h / ny + 1) * w];
        var clipper = new BinnedSigmaClipper();
        ushort ignored = (ushort)config.IgnoredPlanes;
        var image = exposure.Image;
        var mask = exposure.Mask;
        for (int cy = 0; cy < ny; cy++)
        {
            int y0 = cy * h / ny, y1 = (cy + 1) * h / ny;
            if (model is not null)
            {
                for (int y = y0; y < y1; y++)
                {
                    model.EvaluateRow(y, band.AsSpan((y - y0) * w, w));
                }
            }
            for (int cx = 0; cx < nx; cx++)
            {
                int x0 = cx * w / nx, x1 = (cx + 1) * w / nx;
                int n = 0;
                if (b == 1)
                {
                    for (int y = y0; y < y1; y++)
                    {
                        n = Gather(image.AsSpan(y * w + x0, x1 - x0), mask.AsSpan(y * w + x0, x1 - x0),
                            band is null ? default : band.AsSpan((y - y0) * w + x0, x1 - x0), ignored, buffer, n);
                    }
                }
                else
                {
                    for (int y = y0; y + b <= y1; y += b)
                    {
                        n = GatherBlocks(exposure, y, x0, x1, b, band is null ? null : (band, y0), ignored, buffer, n);
                    }
                }
                if (n >= Math.Max(3, config.MinUsableFraction * ((x1 - x0) / b) * ((y1 - y0) / b)))
                {
                    var s = clipper.Clip(buffer.AsSpan(0, n), config.ClipSigma, config.ClipIterations);
                    // A block's sum: b² times a pixel's level, b times its noise (independent pixels).
                    result[cy * nx + cx] = b == 1 ? s : new ClippedStatistics(s.Mean / (b * b), s.Median / (b * b), s.StdDev / b, s.Count);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Appends to <paramref name="buffer"/> from <paramref name="n"/> on, in order, each value of
    /// <paramref name="values"/> (minus <paramref name="model"/> when given) whose mask has none of
    /// <paramref name="ignored"/>; returns the new count. Stretches of 16 usable pixels are copied a vector at a time.
    /// </summary>
    private static int Gather(ReadOnlySpan<float> values, ReadOnlySpan<ushort> mask, ReadOnlySpan<float> model, ushort ignored, float[] buffer, int n)
    {
        bool hasModel = !model.IsEmpty;
        int x = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            const int chunk = 16; // Vector256<ushort>.Count: two Vector256<float>
            var bits = Vector256.Create(ignored);
            for (; x + chunk <= values.Length; x += chunk)
            {
                if (!Vector256.EqualsAll(Vector256.Create(mask.Slice(x, chunk)) & bits, Vector256<ushort>.Zero))
                {
                    for (int k = x; k < x + chunk; k++)
                    {
                        if ((mask[k] & ignored) == 0)
                        {
                            buffer[n++] = hasModel ? values[k] - model[k] : values[k];
                        }
                    }
                    continue;
                }
                var a = Vector256.Create(values.Slice(x, 8));
                var b = Vector256.Create(values.Slice(x + 8, 8));
                if (hasModel)
                {
                    a -= Vector256.Create(model.Slice(x, 8));
                    b -= Vector256.Create(model.Slice(x + 8, 8));
                }
                a.CopyTo(buffer.AsSpan(n, 8));
                b.CopyTo(buffer.AsSpan(n + 8, 8));
                n += chunk;
            }
        }
        for (; x < values.Length; x++)
        {
            if ((mask[x] & ignored) == 0)
            {
                buffer[n++] = hasModel ? values[x] - model[x] : values[x];
            }
        }
        return n;
    }

    /// <summary>
    /// Appends to <paramref name="buffer"/> from <paramref name="n"/> on the sums of the b x b blocks of rows
    /// <paramref name="y"/> .. y + b - 1 from column <paramref name="x0"/> while whole blocks fit before
    /// <paramref name="x1"/>, minus the model band (its first row <c>Y0</c>) when given, leaving out each block with
    /// an ignored pixel; returns the new count. For b = 2 and no model, eight blocks at a time where none is masked.
    /// </summary>
    private static int GatherBlocks(Exposure exposure, int y, int x0, int x1, int b, (float[] Band, int Y0)? model, ushort ignored, float[] buffer, int n)
    {
        int w = exposure.Width;
        var image = exposure.Image;
        var mask = exposure.Mask;
        int x = x0;
        if (b == 2 && model is null && Vector256.IsHardwareAccelerated)
        {
            const int chunk = 16; // Vector256<ushort>.Count pixels of each row: eight blocks
            var bits = Vector256.Create(ignored);
            int r0 = y * w, r1 = r0 + w;
            for (; x + chunk <= x1; x += chunk)
            {
                var masked = (Vector256.Create(mask.AsSpan(r0 + x, chunk)) | Vector256.Create(mask.AsSpan(r1 + x, chunk))) & bits;
                if (!Vector256.EqualsAll(masked, Vector256<ushort>.Zero))
                {
                    n = GatherBlocksOneByOne(exposure, y, x, x + chunk, b, null, ignored, buffer, n);
                    continue;
                }
                var lo = Vector256.Create(image.AsSpan(r0 + x, 8)) + Vector256.Create(image.AsSpan(r1 + x, 8));
                var hi = Vector256.Create(image.AsSpan(r0 + x + 8, 8)) + Vector256.Create(image.AsSpan(r1 + x + 8, 8));
                PixelBinning.SumPairs(lo, hi).CopyTo(buffer.AsSpan(n, 8));
                n += 8;
            }
        }
        return GatherBlocksOneByOne(exposure, y, x, x1, b, model, ignored, buffer, n);
    }

    private static int GatherBlocksOneByOne(Exposure exposure, int y, int x0, int x1, int b, (float[] Band, int Y0)? model, ushort ignored, float[] buffer, int n)
    {
        int w = exposure.Width;
        for (int x = x0; x + b <= x1; x += b)
        {
            float sum = 0f;
            bool usable = true;
            for (int yy = y; yy < y + b && usable; yy++)
            {
                for (int xx = x; xx < x + b; xx++)
                {
                    if ((exposure.Mask[yy * w + xx] & ignored) != 0)
                    {
                        usable = false;
                        break;
                    }
                    sum += model is { } m ? exposure.Image[yy * w + xx] - m.Band[(yy - m.Y0) * w + xx] : exposure.Image[yy * w + xx];
                }
            }
            if (usable)
            {
                buffer[n++] = sum;
            }
        }
        return n;
    }

    /// <summary>
    /// Second pass after detection: adds <paramref name="previous"/> back, estimates again (DETECTED pixels are left
    /// out by the default <see cref="BackgroundConfig.IgnoredPlanes"/>) and subtracts the new model, which it returns.
    /// </summary>
    public static BackgroundModel Refine(Exposure exposure, BackgroundModel previous, BackgroundConfig config) =>
        Refine(exposure, previous, config, includeNoise: true);

    /// <inheritdoc cref="Refine(Exposure, BackgroundModel, BackgroundConfig)"/>
    /// <param name="includeNoise">As for <see cref="Estimate(Exposure, BackgroundConfig, bool)"/>.</param>
    internal static BackgroundModel Refine(Exposure exposure, BackgroundModel previous, BackgroundConfig config, bool includeNoise)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(previous);
        AddScaled(exposure, previous, 1f);
        var model = Estimate(exposure, config, includeNoise);
        Subtract(exposure, model);
        return model;
    }

    /// <summary>Rows and columns between the pixels <see cref="SkyNoise"/> samples: one pixel in 32.</summary>
    internal const int SkyNoiseRowStep = 4, SkyNoiseColumnStep = 8;

    /// <summary>
    /// The sky noise of a background-subtracted exposure, as LSST's CcdVisit skyNoise: the sigma-clipped standard
    /// deviation (<see cref="BackgroundConfig.ClipSigma"/>, <see cref="BackgroundConfig.ClipIterations"/>) of the
    /// pixels without any of <see cref="BackgroundConfig.SkyNoiseIgnoredPlanes"/>.
    /// It is taken over a fixed regular sample, every <see cref="SkyNoiseColumnStep"/>th pixel of every
    /// <see cref="SkyNoiseRowStep"/>th row (half a million pixels on a 4k x 4k detector: a statistical error of 0.1 %),
    /// instead of a second clip of every mesh cell. NaN when fewer than 3 pixels qualify.
    /// </summary>
    public static double SkyNoise(Exposure exposure, BackgroundConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(config);
        int w = exposure.Width, h = exposure.Height;
        var sample = new float[((h + SkyNoiseRowStep - 1) / SkyNoiseRowStep) * ((w + SkyNoiseColumnStep - 1) / SkyNoiseColumnStep)];
        ushort ignored = (ushort)config.SkyNoiseIgnoredPlanes;
        int n = 0;
        for (int y = 0; y < h; y += SkyNoiseRowStep)
        {
            int row = y * w;
            for (int x = 0; x < w; x += SkyNoiseColumnStep)
            {
                if ((exposure.Mask[row + x] & ignored) == 0)
                {
                    sample[n++] = exposure.Image[row + x];
                }
            }
        }
        return n < 3 ? double.NaN : new BinnedSigmaClipper().Clip(sample.AsSpan(0, n), config.ClipSigma, config.ClipIterations).StdDev;
    }

    /// <summary>Subtracts the background from the exposure's image in place (NO_DATA pixels stay as they are).</summary>
    public static void Subtract(Exposure exposure, BackgroundModel background) => AddScaled(exposure, background, -1f);

    /// <summary>image += sign * background, row by row from the surface (NO_DATA pixels stay as they are).</summary>
    private static void AddScaled(Exposure exposure, BackgroundModel background, float sign)
    {
        if (background.Width != exposure.Width || background.Height != exposure.Height)
        {
            throw new ArgumentException("background and exposure sizes differ", nameof(background));
        }
        int w = exposure.Width;
        var img = exposure.Image;
        var mask = exposure.Mask;
        var surface = background.CreateSurface();
        var row = new float[w];
        for (int y = 0; y < exposure.Height; y++)
        {
            surface.EvaluateRow(y, row);
            var target = img.AsSpan(y * w, w);
            var maskRow = mask.AsSpan(y * w, w);
            if (!MaskRows.AnyIn(maskRow, MaskPlane.NoData))
            {
                // target += sign * row; the same float operations, a vector at a time.
                int x = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    var s = new Vector<float>(sign);
                    for (; x <= w - Vector<float>.Count; x += Vector<float>.Count)
                    {
                        (new Vector<float>(target[x..]) + s * new Vector<float>(row, x)).CopyTo(target[x..]);
                    }
                }
                for (; x < w; x++)
                {
                    target[x] += sign * row[x];
                }
                continue;
            }
            for (int x = 0; x < w; x++)
            {
                if ((maskRow[x] & (ushort)MaskPlane.NoData) == 0)
                {
                    target[x] += sign * row[x];
                }
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
    internal static float[] Interpolate(float[] mesh, int nx, int ny, int w, int h) => new MeshSurface(mesh, nx, ny, w, h).Plane();
}

/// <summary>
/// A separable natural cubic spline through mesh values at the cell centres (<see cref="BackgroundEstimator"/>'s
/// cells): along y for each mesh column once, then along x one image row at a time, so a full plane never has to exist.
/// </summary>
internal sealed class MeshSurface
{
    private readonly int _nx, _w, _h;
    private readonly double[] _knotsX;
    private readonly double[] _columns;
    private readonly double[] _values, _second, _scratch;

    public MeshSurface(float[] mesh, int nx, int ny, int w, int h)
    {
        (_nx, _w, _h) = (nx, w, h);
        _knotsX = new double[nx];
        for (int cx = 0; cx < nx; cx++)
        {
            _knotsX[cx] = 0.5 * (cx * w / nx + (cx + 1) * w / nx - 1);
        }
        var knotsY = new double[ny];
        for (int cy = 0; cy < ny; cy++)
        {
            knotsY[cy] = 0.5 * (cy * h / ny + (cy + 1) * h / ny - 1);
        }
        _values = new double[Math.Max(nx, ny)];
        _second = new double[Math.Max(nx, ny)];
        _scratch = new double[Math.Max(nx, ny)];
        _columns = new double[nx * h];
        for (int cx = 0; cx < nx; cx++)
        {
            for (int cy = 0; cy < ny; cy++)
            {
                _values[cy] = mesh[cy * nx + cx];
            }
            CubicSpline.SecondDerivatives(knotsY, _values.AsSpan(0, ny), _second.AsSpan(0, ny), _scratch.AsSpan(0, ny));
            CubicSpline.EvaluateAtPixels(knotsY, _values.AsSpan(0, ny), _second.AsSpan(0, ny), _columns.AsSpan(cx * h, h));
        }
    }

    /// <summary>The surface along image row <paramref name="y"/> (not thread-safe: it uses the instance's buffers).</summary>
    public void EvaluateRow(int y, Span<float> row)
    {
        for (int cx = 0; cx < _nx; cx++)
        {
            _values[cx] = _columns[cx * _h + y];
        }
        var v = _values.AsSpan(0, _nx);
        var m = _second.AsSpan(0, _nx);
        CubicSpline.SecondDerivatives(_knotsX, v, m, _scratch.AsSpan(0, _nx));
        CubicSpline.EvaluateAtPixels(_knotsX, v, m, row[.._w]);
    }

    /// <summary>The surface at every pixel, row-major.</summary>
    public float[] Plane()
    {
        var result = new float[_w * _h];
        for (int y = 0; y < _h; y++)
        {
            EvaluateRow(y, result.AsSpan(y * _w, _w));
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
        int p = 0;
        foreach (var piece in new Pieces(t, v, m, output.Length))
        {
            for (; p < piece.End; p++)
            {
                double u = p - piece.Origin;
                output[p] = piece.C0 + u * (piece.C1 + u * (piece.C2 + u * piece.C3));
            }
        }
    }

    /// <inheritdoc cref="EvaluateAtPixels(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double})"/>
    public static void EvaluateAtPixels(ReadOnlySpan<double> t, ReadOnlySpan<double> v, ReadOnlySpan<double> m, Span<float> output)
    {
        int p = 0;
        foreach (var piece in new Pieces(t, v, m, output.Length))
        {
            if (Vector256.IsHardwareAccelerated)
            {
                // Eight pixels at a time with the same double operations (no fused multiply-add), then the same narrowing.
                var c0 = Vector256.Create(piece.C0);
                var c1 = Vector256.Create(piece.C1);
                var c2 = Vector256.Create(piece.C2);
                var c3 = Vector256.Create(piece.C3);
                var origin = Vector256.Create(piece.Origin);
                var lanes = Vector256.Create(0.0, 1.0, 2.0, 3.0);
                for (; p + 8 <= piece.End; p += 8)
                {
                    // (p + k) is exact in double, so u is the scalar loop's p - Origin.
                    var u0 = Vector256.Create((double)p) + lanes - origin;
                    var u1 = Vector256.Create((double)(p + 4)) + lanes - origin;
                    var y0 = c0 + u0 * (c1 + u0 * (c2 + u0 * c3));
                    var y1 = c0 + u1 * (c1 + u1 * (c2 + u1 * c3));
                    Vector256.Narrow(y0, y1).CopyTo(output.Slice(p, 8));
                }
            }
            for (; p < piece.End; p++)
            {
                double u = p - piece.Origin;
                output[p] = (float)(piece.C0 + u * (piece.C1 + u * (piece.C2 + u * piece.C3)));
            }
        }
    }

    /// <summary>One polynomial piece in u = x - Origin, valid for the pixels before End.</summary>
    private readonly record struct Piece(int End, double Origin, double C0, double C1, double C2, double C3);

    /// <summary>
    /// The pieces in order: linear before the first knot (x &lt;= t[0]), the cubic of each segment
    /// (t[s] &lt; x &lt;= t[s + 1], the last one up to but excluding t[n - 1]), linear from the last knot on.
    /// </summary>
    private ref struct Pieces(ReadOnlySpan<double> t, ReadOnlySpan<double> v, ReadOnlySpan<double> m, int length)
    {
        private readonly ReadOnlySpan<double> _t = t, _v = v, _m = m;
        private int _index = -1;

        public Piece Current { get; private set; }

        public readonly Pieces GetEnumerator() => this;

        public bool MoveNext()
        {
            int n = _v.Length;
            _index++;
            if (n == 1)
            {
                Current = new Piece(length, 0, _v[0], 0, 0, 0);
                return _index == 0;
            }
            if (_index > n)
            {
                return false;
            }
            if (_index == 0)
            {
                // Pixels p <= t[0].
                Current = new Piece(Math.Clamp((int)Math.Floor(_t[0]) + 1, 0, length), _t[0], _v[0], Slope(_t, _v, _m, 0, atStart: true), 0, 0);
            }
            else if (_index == n)
            {
                Current = new Piece(length, _t[n - 1], _v[n - 1], Slope(_t, _v, _m, n - 2, atStart: false), 0, 0);
            }
            else
            {
                int seg = _index - 1;
                double hs = _t[seg + 1] - _t[seg];
                double end = _t[seg + 1];
                // Pixels p <= t[seg + 1]; the last segment stops before t[n - 1], where the linear piece starts.
                int last = seg + 1 == n - 1 ? (int)Math.Ceiling(end) : (int)Math.Floor(end) + 1;
                Current = new Piece(Math.Clamp(last, 0, length), _t[seg], _v[seg],
                    (_v[seg + 1] - _v[seg]) / hs - hs * (2 * _m[seg] + _m[seg + 1]) / 6.0,
                    _m[seg] / 2.0,
                    (_m[seg + 1] - _m[seg]) / (6.0 * hs));
            }
            return true;
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
