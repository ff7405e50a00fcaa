namespace Drp.Pipeline.Simulation;

/// <summary>A bad column segment or a hot pixel: rows Y0..Y1 (inclusive) of column X, either hot (extra electrons) or dead (a response factor).</summary>
internal sealed record DefectRegion(int X, int Y0, int Y1, bool Hot, double Value);

/// <summary>The fixed electronics of one amplifier and its bias structure parameters.</summary>
internal sealed record AmpElectronics(
    double Gain,
    double ReadNoiseElectrons,
    double BiasLevelAdu,
    double RowNoiseAdu,
    double EdgeAdu,
    double EdgeScaleColumns,
    double SlopeAdu,
    double SaturateAdu);

/// <summary>
/// What is fixed for a detector whatever the visit: amplifier electronics, the bias structure left after overscan
/// subtraction (ADU), the defects, and the flat (vignetting × pixel response, mean 1). All are deterministic
/// functions of (seed, detector[, band]) and are computed on demand, so detectors can be simulated independently.
/// </summary>
internal sealed class DetectorModel
{
    /// <summary>Pixel-to-pixel response scatter of the flat (1σ).</summary>
    public const double PixelResponseSigma = 0.005;

    /// <summary>Fixed-pattern bias noise after overscan subtraction, ADU (1σ).</summary>
    public const double BiasPatternSigmaAdu = 0.3;

    private readonly SimulationOptions _options;
    private readonly IReadOnlyList<AmpLayout> _amps;

    public DetectorModel(SimulationOptions options, int detector)
    {
        _options = options;
        Detector = detector;
        _amps = AmpLayout.For(options.Detector, options.Format);
        Amps = _amps;
        int col = detector % options.DetectorColumns;
        int row = detector / options.DetectorColumns;
        double fpWidth = options.DetectorColumns * options.DetectorWidth + (options.DetectorColumns - 1) * options.DetectorGapPixels;
        double fpHeight = options.DetectorRows * options.DetectorHeight + (options.DetectorRows - 1) * options.DetectorGapPixels;
        FocalX0 = -0.5 * fpWidth + 0.5 + col * (options.DetectorWidth + options.DetectorGapPixels);
        FocalY0 = -0.5 * fpHeight + 0.5 + row * (options.DetectorHeight + options.DetectorGapPixels);
        FocalRadius = 0.5 * Math.Sqrt(fpWidth * fpWidth + fpHeight * fpHeight);

        Electronics = _amps.Select(a => MakeElectronics(a.Index)).ToArray();
        Defects = MakeDefects();
    }

    public int Detector { get; }

    public IReadOnlyList<AmpLayout> Amps { get; }

    /// <summary>Focal-plane position (pixels from the boresight) of this detector's pixel (0, 0).</summary>
    public double FocalX0 { get; }

    public double FocalY0 { get; }

    /// <summary>Half-diagonal of the focal plane, pixels: the vignetting radius.</summary>
    public double FocalRadius { get; }

    public IReadOnlyList<AmpElectronics> Electronics { get; }

    public IReadOnlyList<DefectRegion> Defects { get; }

    private int Width => _options.DetectorWidth;

    private int Height => _options.DetectorHeight;

    /// <summary>
    /// The bias left after overscan subtraction along data row v of an amplifier, ADU, for data columns u = 0..:
    /// a decaying offset next to the readout, a gentle gradient along the columns, a fixed pixel pattern.
    /// </summary>
    public void BiasRow(int amp, int v, Span<double> row)
    {
        var e = Electronics[amp];
        ulong key = SimRandom.Hash((ulong)_options.Seed, 0xB1A5, (ulong)Detector, (ulong)amp);
        double rowTerm = e.SlopeAdu * ((v + 0.5) / _amps[amp].DataHeight - 0.5);
        double edgeDecay = Math.Exp(-1.0 / e.EdgeScaleColumns);
        double edge = e.EdgeAdu;
        double patternScale = Math.Sqrt(12.0) * BiasPatternSigmaAdu;
        ulong first = (ulong)v * (ulong)row.Length;
        for (int u = 0; u < row.Length; u++)
        {
            row[u] = edge + rowTerm + (SimRandom.UnitAt(key, first + (ulong)u) - 0.5) * patternScale;
            edge *= edgeDecay;
        }
    }

    /// <summary>The master bias in the assembled geometry, ADU.</summary>
    public float[] MasterBias()
    {
        var bias = new float[Width * Height];
        Parallel.ForEach(_amps, Parallelism(), a =>
        {
            var row = new double[a.DataWidth];
            for (int v = 0; v < a.DataHeight; v++)
            {
                BiasRow(a.Index, v, row);
                int det = a.DetY(v) * Width;
                for (int u = 0; u < a.DataWidth; u++)
                {
                    bias[det + a.DetX(u)] = (float)row[u];
                }
            }
        });
        return bias;
    }

    /// <summary>The flat in a band: radial vignetting over the focal plane times pixel response, normalized to mean 1.</summary>
    public float[] Flat(string band)
    {
        double depth = BandInfo.Get(band).VignettingDepth;
        ulong key = SimRandom.Hash((ulong)_options.Seed, 0xF1A7, (ulong)Detector, (ulong)TruthSource.BandIndex(band));
        double responseScale = Math.Sqrt(12.0) * PixelResponseSigma;
        double invR2 = 1.0 / (FocalRadius * FocalRadius);
        var flat = new float[Width * Height];
        var rowSums = new double[Height];
        Parallel.For(0, Height, Parallelism(), y =>
        {
            double fy = FocalY0 + y;
            double s = 0;
            for (int x = 0; x < Width; x++)
            {
                double fx = FocalX0 + x;
                double r2 = (fx * fx + fy * fy) * invR2;
                double response = 1.0 + (SimRandom.UnitAt(key, (ulong)(y * Width + x)) - 0.5) * responseScale;
                double v = (1.0 - depth * r2) * response;
                flat[y * Width + x] = (float)v;
                s += v;
            }
            rowSums[y] = s;
        });
        // Summed in row order: the mean does not depend on the thread count.
        double mean = rowSums.Sum() / flat.Length;
        float inv = (float)(1.0 / mean);
        for (int i = 0; i < flat.Length; i++)
        {
            flat[i] *= inv;
        }
        return flat;
    }

    /// <summary>The defect mask: 1 for bad pixels, 0 elsewhere.</summary>
    public float[] DefectMask()
    {
        var mask = new float[Width * Height];
        foreach (var d in Defects)
        {
            for (int y = d.Y0; y <= d.Y1; y++)
            {
                mask[y * Width + d.X] = 1f;
            }
        }
        return mask;
    }

    public ParallelOptions Parallelism() => new() { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism ?? -1 };

    private AmpElectronics MakeElectronics(int amp)
    {
        var rng = new SimRandom(_options.Seed, StreamPurpose.Electronics, Detector, amp);
        double gain = rng.Uniform(1.5, 1.8);
        double readNoise = rng.Uniform(4.5, 7.0);
        double bias = rng.Uniform(8000, 11000);
        double rowNoise = rng.Uniform(1.0, 2.5);
        double edge = rng.Uniform(2.0, 6.0);
        double edgeScale = rng.Uniform(4.0, 12.0);
        double slope = rng.Uniform(-1.5, 1.5);
        // A pixel at full well reads bias + fullWell/gain ± a few ADU of noise: flag it with a margin below that.
        double saturate = Math.Floor(bias + _options.FullWellElectrons / gain - 40.0);
        return new AmpElectronics(gain, readNoise, bias, rowNoise, edge, edgeScale, slope, saturate);
    }

    private List<DefectRegion> MakeDefects()
    {
        var rng = new SimRandom(_options.Seed, StreamPurpose.Defects, Detector);
        double megapixels = Width * (double)Height / 1e6;
        int columns = (int)rng.Poisson(_options.BadColumnsPerMegapixel * megapixels);
        int hotPixels = (int)rng.Poisson(_options.HotPixelsPerMegapixel * megapixels);
        var defects = new List<DefectRegion>(columns + hotPixels);
        for (int i = 0; i < columns; i++)
        {
            int x = rng.NextInt(Width);
            int y0 = 0, y1 = Height - 1;
            if (rng.NextDouble() < 0.5)
            {
                // A partial column: from a trap to the edge the charge is read towards.
                int y = rng.NextInt(Height);
                (y0, y1) = rng.NextDouble() < 0.5 ? (0, y) : (y, Height - 1);
            }
            bool hot = rng.NextDouble() < 0.6;
            defects.Add(new DefectRegion(x, y0, y1, hot, hot ? rng.Uniform(300, 3000) : rng.Uniform(0.0, 0.1)));
        }
        for (int i = 0; i < hotPixels; i++)
        {
            int x = rng.NextInt(Width);
            int y = rng.NextInt(Height);
            defects.Add(new DefectRegion(x, y, y, true, rng.Uniform(1000, 20000)));
        }
        return defects;
    }
}
