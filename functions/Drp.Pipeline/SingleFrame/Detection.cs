using System.Numerics;
using System.Runtime.Intrinsics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="SourceDetector"/>.</summary>
public sealed record DetectionConfig
{
    /// <summary>Sigma, in pixels, of the Gaussian the image is smoothed with (the expected PSF).</summary>
    public double PsfSigma { get; init; } = 2.0;

    /// <summary>Detection threshold in signal-to-noise of the smoothed image (from the smoothed variance).</summary>
    public double ThresholdSigma { get; init; } = 5.0;

    /// <summary>
    /// Smallest footprint kept, in pixels. 1, as LSST's default: a source just at the threshold has only a pixel or two
    /// above it (5 dropped about half the stars of S/N 5 that peak above 5σ).
    /// </summary>
    public int MinPixels { get; init; } = 1;

    /// <summary>
    /// A peak of a footprint is kept only when it rises at least this much (in σ of the smoothed significance image)
    /// above the highest saddle joining it to a higher peak (its prominence); lower peaks are noise on one source.
    /// </summary>
    public double MinPeakProminence { get; init; } = 3.0;

    /// <summary>
    /// How far below <see cref="ThresholdSigma"/> (in σ of the smoothed significance) a local maximum may sample and
    /// still be detected when its continuous maximum between the pixels, interpolated, reaches the threshold (a
    /// one-pixel footprint); 0 turns the interpolation off. A source between pixel centres samples its filtered peak
    /// up to a few per cent low: 0.5 covers that with room to spare.
    /// </summary>
    public double SubPixelPeakMarginSigma { get; init; } = 0.5;

    /// <summary>Kernel half-width in units of <see cref="PsfSigma"/>.</summary>
    public double KernelHalfWidthSigmas { get; init; } = 4.0;

    /// <summary>
    /// Detect on the image binned <c>Binning</c> x <c>Binning</c> (sums of image and variance; NO_DATA pixels left out),
    /// with the kernel scaled to the binned pixels, and map the footprints back to full-resolution pixels (each binned
    /// pixel becomes its block, each peak the block's brightest pixel). 1, the default, detects at full resolution. A
    /// quarter of the filtering at 2: for a first pass whose footprints only mask the sources and find the bright
    /// stars; <see cref="MinPixels"/> then counts binned pixels.
    /// </summary>
    public int Binning { get; init; } = 1;
}

/// <summary>A run of pixels x0..x1 (inclusive, zero-based) in row y.</summary>
public readonly record struct PixelSpan(int Y, int X0, int X1);

/// <summary>A local maximum of the smoothed significance image inside a footprint.</summary>
public readonly record struct Peak(int X, int Y, float Significance);

/// <summary>An 8-connected set of above-threshold pixels, as row spans, with its peaks, brightest first.</summary>
public sealed record Footprint(IReadOnlyList<PixelSpan> Spans, IReadOnlyList<Peak> Peaks, int Area, int XMin, int XMax, int YMin, int YMax);

/// <summary>
/// Detection: Gaussian smoothing of the image and (with the squared kernel) of the variance, a threshold in
/// signal-to-noise of the smoothed image, 8-connected components as footprints with at least a minimum number of
/// pixels, and their local maxima as peaks; a local maximum sampled just below the threshold whose interpolated
/// continuous maximum reaches it is a one-pixel footprint too (<see cref="DetectionConfig.SubPixelPeakMarginSigma"/>). Sets DETECTED on footprint pixels and EDGE where the kernel leaves the image.
/// </summary>
public static class SourceDetector
{
    public static IReadOnlyList<Footprint> Detect(Exposure exposure, DetectionConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.PsfSigma, "config.PsfSigma");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.KernelHalfWidthSigmas, "config.KernelHalfWidthSigmas");
        ArgumentOutOfRangeException.ThrowIfNegative(config.SubPixelPeakMarginSigma, "config.SubPixelPeakMarginSigma");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Binning, "config.Binning");
        int w = exposure.Width, h = exposure.Height;
        int b = config.Binning;
        // The significance image is scanned as it is made, a row at a time: runs above the threshold keep their values,
        // peaks and sub-pixel peaks are found in a ring of three rows, and no full-frame plane is ever allocated.
        var scan = new RowScan((w + b - 1) / b, (h + b - 1) / b, (float)config.ThresholdSigma,
            config.SubPixelPeakMarginSigma > 0 ? (float)(config.ThresholdSigma - config.SubPixelPeakMarginSigma) : null);
        IRowSource rows = b == 1 ? new ExposureRows(exposure) : new BinnedRows(exposure, b);
        Significance(rows, b == 1 ? config : config with { PsfSigma = config.PsfSigma / b }, scan);
        scan.Finish();
        var footprints = Group(scan, config.MinPixels, (float)config.MinPeakProminence);
        footprints.AddRange(scan.SubPixelFootprints);
        if (b > 1)
        {
            footprints = footprints.ConvertAll(f => Unbin(f, b, exposure));
        }

        var mask = exposure.Mask;
        foreach (var fp in footprints)
        {
            foreach (var s in fp.Spans)
            {
                for (int x = s.X0; x <= s.X1; x++)
                {
                    mask[s.Y * w + x] |= (ushort)MaskPlane.Detected;
                }
            }
        }
        int edge = Math.Min(KernelHalfWidth(config), Math.Max(w, h));
        for (int y = 0; y < h; y++)
        {
            bool borderRow = y < edge || y >= h - edge;
            int row = y * w;
            for (int x = 0; x < w; x++)
            {
                if (borderRow || x < edge || x >= w - edge)
                {
                    mask[row + x] |= (ushort)MaskPlane.Edge;
                }
                else
                {
                    x = w - edge - 1;  // jump over the interior of the row
                }
            }
        }
        return footprints;
    }

    internal static int KernelHalfWidth(DetectionConfig config) =>
        Math.Max(1, (int)Math.Ceiling(config.KernelHalfWidthSigmas * config.PsfSigma));

    /// <summary>
    /// Smoothed image over the square root of the smoothed variance, as a full plane (detection itself scans it a row
    /// at a time). Outside the image and at NO_DATA pixels the kernel sees zero signal and zero variance, so the ratio
    /// stays a fair signal-to-noise near edges.
    /// </summary>
    internal static float[] Significance(Exposure exposure, DetectionConfig config)
    {
        var result = new float[exposure.Width * exposure.Height];
        Significance(new ExposureRows(exposure), config, new PlaneRows(result, exposure.Width));
        return result;
    }

    /// <summary>Receives the significance image a row at a time, top to bottom.</summary>
    private interface IRowSink
    {
        /// <summary>Where row <paramref name="y"/> is to be written.</summary>
        Span<float> Row(int y);

        /// <summary>Row <paramref name="y"/> is complete.</summary>
        void Done(int y);
    }

    /// <summary>Rows into a full plane.</summary>
    private sealed class PlaneRows(float[] plane, int width) : IRowSink
    {
        public Span<float> Row(int y) => plane.AsSpan(y * width, width);

        public void Done(int y)
        {
        }
    }

    /// <summary>
    /// One pass down the image: each input row is smoothed along x (image and variance) into a ring of 2r + 1 rows, and
    /// each output row is the kernel-weighted sum of the ring, so only a few rows are ever in flight.
    /// </summary>
    private static void Significance(IRowSource rows, DetectionConfig config, IRowSink sink)
    {
        int w = rows.Width, h = rows.Height;
        int r = KernelHalfWidth(config);
        var kernel = new float[2 * r + 1];
        var kernel2 = new float[2 * r + 1];
        double sum = 0;
        for (int k = -r; k <= r; k++)
        {
            sum += kernel[k + r] = (float)Math.Exp(-0.5 * k * k / (config.PsfSigma * config.PsfSigma));
        }
        for (int k = 0; k < kernel.Length; k++)
        {
            kernel[k] = (float)(kernel[k] / sum);
            kernel2[k] = kernel[k] * kernel[k];
        }

        int ring = 2 * r + 1;
        var imageRows = new float[ring * w];
        var varianceRows = new float[ring * w];
        var smoothed = new float[w];
        var smoothedVar = new float[w];
        var offsets = new int[ring];
        // Output row y needs smoothed input rows y - r .. y + r; input row j lives in ring slot j % ring.
        for (int j = 0; j < h + r; j++)
        {
            if (j < h)
            {
                int slot = j % ring;
                rows.Row(j, out var imageRow, out var varianceRow);
                ConvolveRow(imageRow, imageRows.AsSpan(slot * w, w), kernel);
                ConvolveRow(varianceRow, varianceRows.AsSpan(slot * w, w), kernel2);
            }
            int y = j - r;
            if (y < 0)
            {
                continue;
            }
            int k0 = Math.Max(-r, -y), k1 = Math.Min(r, h - 1 - y);
            for (int k = k0; k <= k1; k++)
            {
                offsets[k - k0] = (y + k) % ring * w;
            }
            SmoothColumns(imageRows, varianceRows, offsets.AsSpan(0, k1 - k0 + 1), kernel.AsSpan(k0 + r), kernel2.AsSpan(k0 + r),
                smoothed, smoothedVar, sink.Row(y));
            sink.Done(y);
        }
    }

    /// <summary>
    /// One output row: the kernel-weighted sums down the ring rows at <paramref name="offsets"/> (taps in kernel
    /// order, as row-by-row accumulation would add them), then their ratio, a vector of pixels at a time.
    /// </summary>
    private static void SmoothColumns(float[] imageRows, float[] varianceRows, ReadOnlySpan<int> offsets,
        ReadOnlySpan<float> kernel, ReadOnlySpan<float> kernel2, Span<float> smoothed, Span<float> smoothedVar, Span<float> result)
    {
        int w = result.Length, x = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int n = Vector<float>.Count;
            // Two vectors of outputs at a time: four independent chains of additions.
            for (; x <= w - 2 * n; x += 2 * n)
            {
                var accI0 = Vector<float>.Zero;
                var accV0 = Vector<float>.Zero;
                var accI1 = Vector<float>.Zero;
                var accV1 = Vector<float>.Zero;
                for (int k = 0; k < offsets.Length; k++)
                {
                    var tap = new Vector<float>(kernel[k]);
                    var tap2 = new Vector<float>(kernel2[k]);
                    int o = offsets[k] + x;
                    accI0 += tap * new Vector<float>(imageRows, o);
                    accV0 += tap2 * new Vector<float>(varianceRows, o);
                    accI1 += tap * new Vector<float>(imageRows, o + n);
                    accV1 += tap2 * new Vector<float>(varianceRows, o + n);
                }
                accI0.CopyTo(smoothed[x..]);
                accV0.CopyTo(smoothedVar[x..]);
                accI1.CopyTo(smoothed[(x + n)..]);
                accV1.CopyTo(smoothedVar[(x + n)..]);
            }
            for (; x <= w - n; x += n)
            {
                var accI = Vector<float>.Zero;
                var accV = Vector<float>.Zero;
                for (int k = 0; k < offsets.Length; k++)
                {
                    accI += new Vector<float>(kernel[k]) * new Vector<float>(imageRows, offsets[k] + x);
                    accV += new Vector<float>(kernel2[k]) * new Vector<float>(varianceRows, offsets[k] + x);
                }
                accI.CopyTo(smoothed[x..]);
                accV.CopyTo(smoothedVar[x..]);
            }
        }
        for (; x < w; x++)
        {
            float si = 0f, sv = 0f;
            for (int k = 0; k < offsets.Length; k++)
            {
                si += kernel[k] * imageRows[offsets[k] + x];
                sv += kernel2[k] * varianceRows[offsets[k] + x];
            }
            smoothed[x] = si;
            smoothedVar[x] = sv;
        }
        Ratio(smoothed, smoothedVar, result);
    }

    /// <summary>The image and variance rows a significance image is made from, top to bottom.</summary>
    private interface IRowSource
    {
        int Width { get; }

        int Height { get; }

        /// <summary>Row <paramref name="j"/> of the image and the variance, NO_DATA pixels as zero (valid until the next call).</summary>
        void Row(int j, out ReadOnlySpan<float> image, out ReadOnlySpan<float> variance);
    }

    /// <summary>The exposure's own rows (a copy only for the rows with NO_DATA pixels).</summary>
    private sealed class ExposureRows(Exposure exposure) : IRowSource
    {
        private readonly float[] _image = new float[exposure.Width];
        private readonly float[] _variance = new float[exposure.Width];

        public int Width => exposure.Width;

        public int Height => exposure.Height;

        public void Row(int j, out ReadOnlySpan<float> image, out ReadOnlySpan<float> variance)
        {
            int w = exposure.Width;
            var maskRow = exposure.Mask.AsSpan(j * w, w);
            image = exposure.Image.AsSpan(j * w, w);
            variance = exposure.Variance.AsSpan(j * w, w);
            if (MaskRows.AnyIn(maskRow, MaskPlane.NoData))
            {
                image = CopyUnmasked(image, maskRow, _image);
                variance = CopyUnmasked(variance, maskRow, _variance);
            }
        }
    }

    /// <summary>
    /// The exposure binned b x b, a row at a time: each binned pixel is the sum of its block's image and variance
    /// values, NO_DATA pixels left out (the last column and row of blocks may be partial).
    /// </summary>
    private sealed class BinnedRows(Exposure exposure, int b) : IRowSource
    {
        private readonly float[] _image = new float[(exposure.Width + b - 1) / b];
        private readonly float[] _variance = new float[(exposure.Width + b - 1) / b];

        public int Width => _image.Length;

        public int Height => (exposure.Height + b - 1) / b;

        public void Row(int j, out ReadOnlySpan<float> image, out ReadOnlySpan<float> variance)
        {
            Fill(j);
            image = _image;
            variance = _variance;
        }

        private void Fill(int j)
        {
            int w = exposure.Width;
            Array.Clear(_image);
            Array.Clear(_variance);
            for (int y = j * b; y < Math.Min(j * b + b, exposure.Height); y++)
            {
                var maskRow = exposure.Mask.AsSpan(y * w, w);
                var image = exposure.Image.AsSpan(y * w, w);
                var variance = exposure.Variance.AsSpan(y * w, w);
                bool clean = !MaskRows.AnyIn(maskRow, MaskPlane.NoData);
                if (clean && b == 2)
                {
                    AddPairs(image, _image);
                    AddPairs(variance, _variance);
                    continue;
                }
                for (int x = 0; x < w; x++)
                {
                    if (clean || (maskRow[x] & (ushort)MaskPlane.NoData) == 0)
                    {
                        _image[x / b] += image[x];
                        _variance[x / b] += variance[x];
                    }
                }
            }
        }

        /// <summary>target[i] += source[2i] + source[2i + 1] (the last alone when the row is odd), eight outputs at a time.</summary>
        private static void AddPairs(ReadOnlySpan<float> source, Span<float> target)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; 2 * i + 2 * Vector256<float>.Count <= source.Length; i += Vector256<float>.Count)
                {
                    var pairs = PixelBinning.SumPairs(Vector256.Create(source.Slice(2 * i, Vector256<float>.Count)),
                        Vector256.Create(source.Slice(2 * i + Vector256<float>.Count, Vector256<float>.Count)));
                    (Vector256.Create(target.Slice(i, Vector256<float>.Count)) + pairs).CopyTo(target[i..]);
                }
            }
            for (; 2 * i < source.Length; i++)
            {
                target[i] += 2 * i + 1 < source.Length ? source[2 * i] + source[2 * i + 1] : source[2 * i];
            }
        }
    }

    /// <summary>
    /// A footprint found on the b x b binned image in full-resolution pixels: each binned run becomes b rows of its
    /// blocks (cut at the image's edges, in raster order), each peak its block's brightest pixel.
    /// </summary>
    private static Footprint Unbin(Footprint binned, int b, Exposure exposure)
    {
        int w = exposure.Width, h = exposure.Height;
        var spans = new List<PixelSpan>(binned.Spans.Count * b);
        int area = 0;
        int first = 0;
        while (first < binned.Spans.Count)
        {
            int y = binned.Spans[first].Y, end = first;
            while (end < binned.Spans.Count && binned.Spans[end].Y == y)
            {
                end++;
            }
            for (int fy = y * b; fy < Math.Min(y * b + b, h); fy++)
            {
                for (int k = first; k < end; k++)
                {
                    var s = binned.Spans[k];
                    var span = new PixelSpan(fy, s.X0 * b, Math.Min(s.X1 * b + b - 1, w - 1));
                    spans.Add(span);
                    area += span.X1 - span.X0 + 1;
                }
            }
            first = end;
        }
        var peaks = new List<Peak>(binned.Peaks.Count);
        foreach (var p in binned.Peaks)
        {
            int bx = p.X * b, by = p.Y * b;
            for (int y = p.Y * b; y < Math.Min(p.Y * b + b, h); y++)
            {
                for (int x = p.X * b; x < Math.Min(p.X * b + b, w); x++)
                {
                    if (exposure.Image[y * w + x] > exposure.Image[by * w + bx])
                    {
                        (bx, by) = (x, y);
                    }
                }
            }
            peaks.Add(new Peak(bx, by, p.Significance));
        }
        return new Footprint(spans, peaks, area, binned.XMin * b, Math.Min(binned.XMax * b + b - 1, w - 1),
            binned.YMin * b, Math.Min(binned.YMax * b + b - 1, h - 1));
    }

    private static Span<float> CopyUnmasked(ReadOnlySpan<float> values, ReadOnlySpan<ushort> mask, Span<float> target)
    {
        for (int i = 0; i < values.Length; i++)
        {
            target[i] = (mask[i] & (ushort)MaskPlane.NoData) == 0 ? values[i] : 0f;
        }
        return target;
    }

    /// <summary>
    /// target = source convolved with the symmetric kernel along the row, zero beyond its ends. Each output sums its
    /// taps in kernel order (the same order, and so the same rounding, as adding shifted rows one kernel tap at a time),
    /// a vector of outputs at once in the interior.
    /// </summary>
    private static void ConvolveRow(ReadOnlySpan<float> source, Span<float> target, float[] kernel)
    {
        int r = kernel.Length / 2, w = source.Length;
        int x = 0;
        for (; x < Math.Min(r, w); x++)
        {
            target[x] = EdgeTap(source, kernel, x);
        }
        if (Vector.IsHardwareAccelerated)
        {
            int n = Vector<float>.Count;
            // Four vectors of outputs at a time: four independent chains of additions instead of one.
            for (; x <= w - r - 4 * n; x += 4 * n)
            {
                var acc0 = Vector<float>.Zero;
                var acc1 = Vector<float>.Zero;
                var acc2 = Vector<float>.Zero;
                var acc3 = Vector<float>.Zero;
                var window = source[(x - r)..];
                for (int k = 0; k < kernel.Length; k++)
                {
                    var tap = new Vector<float>(kernel[k]);
                    acc0 += tap * new Vector<float>(window[k..]);
                    acc1 += tap * new Vector<float>(window[(k + n)..]);
                    acc2 += tap * new Vector<float>(window[(k + 2 * n)..]);
                    acc3 += tap * new Vector<float>(window[(k + 3 * n)..]);
                }
                acc0.CopyTo(target[x..]);
                acc1.CopyTo(target[(x + n)..]);
                acc2.CopyTo(target[(x + 2 * n)..]);
                acc3.CopyTo(target[(x + 3 * n)..]);
            }
            for (; x <= w - r - n; x += n)
            {
                var acc = Vector<float>.Zero;
                var window = source[(x - r)..];
                for (int k = 0; k < kernel.Length; k++)
                {
                    acc += new Vector<float>(kernel[k]) * new Vector<float>(window[k..]);
                }
                acc.CopyTo(target[x..]);
            }
        }
        for (; x < w; x++)
        {
            target[x] = EdgeTap(source, kernel, x);
        }
    }

    /// <summary>One output of <see cref="ConvolveRow"/>, taps outside the row skipped.</summary>
    private static float EdgeTap(ReadOnlySpan<float> source, float[] kernel, int x)
    {
        int r = kernel.Length / 2;
        float sum = 0f;
        for (int k = Math.Max(-r, -x); k <= Math.Min(r, source.Length - 1 - x); k++)
        {
            sum += kernel[k + r] * source[x + k];
        }
        return sum;
    }

    /// <summary>
    /// Separable convolution of a w x h plane with a symmetric kernel, zero outside it (<paramref name="tmp"/>:
    /// scratch of the same size). Each output sums its taps in kernel order, rows first, then columns.
    /// </summary>
    internal static void Convolve(float[] src, float[] dst, float[] tmp, int w, int h, float[] kernel)
    {
        int r = kernel.Length / 2;
        for (int y = 0; y < h; y++)
        {
            ConvolveRow(src.AsSpan(y * w, w), tmp.AsSpan(y * w, w), kernel);
        }
        for (int y = 0; y < h; y++)
        {
            var target = dst.AsSpan(y * w, w);
            target.Clear();
            for (int k = Math.Max(-r, -y); k <= Math.Min(r, h - 1 - y); k++)
            {
                Axpy(target, tmp.AsSpan((y + k) * w, w), kernel[k + r]);
            }
        }
    }

    /// <summary>target += a * source, element-wise.</summary>
    private static void Axpy(Span<float> target, ReadOnlySpan<float> source, float a)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a);
            for (; i <= target.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(target[i..]) + va * new Vector<float>(source[i..])).CopyTo(target[i..]);
            }
        }
        for (; i < target.Length; i++)
        {
            target[i] += a * source[i];
        }
    }

    /// <summary>result = signal / sqrt(variance) where the variance is positive, else 0.</summary>
    private static void Ratio(ReadOnlySpan<float> signal, ReadOnlySpan<float> variance, Span<float> result)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= result.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(variance[i..]);
                var q = new Vector<float>(signal[i..]) / Vector.SquareRoot(v);
                Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), q, Vector<float>.Zero).CopyTo(result[i..]);
            }
        }
        for (; i < result.Length; i++)
        {
            float v = variance[i];
            result[i] = v > 0 ? signal[i] / MathF.Sqrt(v) : 0f;
        }
    }

    /// <summary>
    /// Scans the significance image as <see cref="Significance(Exposure, DetectionConfig, IRowSink)"/> makes it: each
    /// row's runs at or above the threshold, with their values (<see cref="Runs"/>, <see cref="Values"/>); the local
    /// maxima inside them, run by run (<see cref="PeaksOf"/>); and the sub-pixel peaks. The rows live in a ring of
    /// three, so a row's maxima are judged once the row below it is done, and no full plane is ever held.
    /// </summary>
    private sealed class RowScan(int width, int height, float threshold, float? subPixelFloor) : IRowSink
    {
        private readonly float[] _ring = new float[3 * width];
        private readonly List<int> _valueStart = [];
        private readonly List<Peak> _peaks = [];
        private readonly List<int> _peakStart = [];
        private float[] _values = new float[1 << 16];
        private int _valueCount;
        private int _nextPeakRun;

        /// <summary>The runs at or above the threshold, in raster order.</summary>
        public List<PixelSpan> Runs { get; } = [];

        /// <summary>One-pixel footprints of the sub-pixel peaks, in raster order.</summary>
        public List<Footprint> SubPixelFootprints { get; } = [];

        public Span<float> Row(int y) => _ring.AsSpan(y % 3 * width, width);

        public void Done(int y)
        {
            var row = Row(y);
            int x = 0;
            while (x < width)
            {
                x = NotBelow(row, x, threshold);
                if (x == width)
                {
                    break;
                }
                int x0 = x;
                while (x < width && row[x] >= threshold)
                {
                    x++;
                }
                Runs.Add(new PixelSpan(y, x0, x - 1));
                _valueStart.Add(_valueCount);
                if (_valueCount + (x - x0) > _values.Length)
                {
                    Array.Resize(ref _values, Math.Max(2 * _values.Length, _valueCount + (x - x0)));
                }
                row[x0..x].CopyTo(_values.AsSpan(_valueCount));
                _valueCount += x - x0;
            }
            if (y >= 1)
            {
                ScanMaxima(y - 1);
            }
        }

        /// <summary>Judges the last row's maxima: call once every row is done.</summary>
        public void Finish()
        {
            if (height > 0)
            {
                ScanMaxima(height - 1);
            }
        }

        /// <summary>The significance values of run <paramref name="run"/>, from its first pixel.</summary>
        public ReadOnlySpan<float> Values(int run) =>
            _values.AsSpan(_valueStart[run], Runs[run].X1 - Runs[run].X0 + 1);

        /// <summary>The local maxima in run <paramref name="run"/>, left to right.</summary>
        public IEnumerable<Peak> PeaksOf(int run)
        {
            int end = run + 1 < _peakStart.Count ? _peakStart[run + 1] : _peaks.Count;
            for (int i = _peakStart[run]; i < end; i++)
            {
                yield return _peaks[i];
            }
        }

        private void ScanMaxima(int y)
        {
            var above = y > 0 ? (ReadOnlySpan<float>)Row(y - 1) : default;
            ReadOnlySpan<float> row = Row(y);
            var below = y < height - 1 ? (ReadOnlySpan<float>)Row(y + 1) : default;
            for (; _nextPeakRun < Runs.Count && Runs[_nextPeakRun].Y == y; _nextPeakRun++)
            {
                _peakStart.Add(_peaks.Count);
                var run = Runs[_nextPeakRun];
                for (int x = run.X0; x <= run.X1; x++)
                {
                    if (IsLocalMaximum(above, row, below, x))
                    {
                        _peaks.Add(new Peak(x, y, row[x]));
                    }
                }
            }
            if (subPixelFloor is { } floor && y >= 1 && y < height - 1)
            {
                SubPixelPeaks(above, row, below, y, floor);
            }
        }

        /// <summary>
        /// One-pixel footprints for the local maxima of row <paramref name="y"/> that sample below the threshold (but
        /// at least <paramref name="floor"/>) while the continuous maximum between the pixels reaches it: a pixel grid
        /// samples a source's filtered peak up to a few per cent low when the source sits between pixel centres. The
        /// continuous maximum comes from <see cref="ContinuousMaximum"/>, a 2-D quadratic fit to the logarithm of the
        /// 3 x 3 significances around the maximum (a Gaussian is exactly such a quadratic; a plain quadratic reads the
        /// peak of the filtered PSFs here up to 1.6 % low at a pixel corner, as much as the sampling loss it is meant to
        /// recover).
        /// </summary>
        private void SubPixelPeaks(ReadOnlySpan<float> above, ReadOnlySpan<float> row, ReadOnlySpan<float> below, int y, float floor)
        {
            var floorVector = new Vector<float>(floor);
            int n = Vector<float>.Count;
            Span<double> z = stackalloc double[9];
            for (int x = 1; x < width - 1; x++)
            {
                // Skip a vector of pixels at a time while none reaches the floor (most of the image).
                if (Vector.IsHardwareAccelerated && x + n <= width - 1 && !Vector.GreaterThanOrEqualAny(new Vector<float>(row[x..]), floorVector))
                {
                    x += n - 1;
                    continue;
                }
                float v = row[x];
                if (v < floor || v >= threshold || !IsLocalMaximum(above, row, below, x))
                {
                    continue;
                }
                for (int k = 0; k < 3; k++)
                {
                    z[k] = above[x + k - 1];
                    z[3 + k] = row[x + k - 1];
                    z[6 + k] = below[x + k - 1];
                }
                if (ContinuousMaximum(z) is { } peak && peak >= threshold)
                {
                    SubPixelFootprints.Add(new Footprint([new PixelSpan(y, x, x)], [new Peak(x, y, (float)peak)], 1, x, x, y, y));
                }
            }
        }
    }
    /// <summary>The first index from <paramref name="start"/> whose value is not below the threshold (the line's length if none), a vector at a time.</summary>
    private static int NotBelow(ReadOnlySpan<float> line, int start, float threshold)
    {
        int x = start;
        if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            for (; x + Vector256<float>.Count <= line.Length; x += Vector256<float>.Count)
            {
                uint below = Vector256.LessThan(Vector256.Create(line.Slice(x, Vector256<float>.Count)), t).ExtractMostSignificantBits();
                if (below != 0xFFu)
                {
                    return x + BitOperations.TrailingZeroCount(~below);
                }
            }
        }
        while (x < line.Length && line[x] < threshold)
        {
            x++;
        }
        return x;
    }

    /// <summary>
    /// Joins runs that touch (8-connectivity: overlapping or diagonal) in consecutive rows by union-find; footprints of
    /// at least <paramref name="minPixels"/> pixels, with their peaks brightest first, culled by prominence.
    /// </summary>
    private static List<Footprint> Group(RowScan scan, int minPixels, float minProminence)
    {
        var runs = scan.Runs;
        var parent = new int[runs.Count];
        for (int i = 0; i < parent.Length; i++)
        {
            parent[i] = i;
        }
        int prevStart = 0, prevEnd = 0, i0 = 0;
        while (i0 < runs.Count)
        {
            int y = runs[i0].Y;
            int i1 = i0;
            while (i1 < runs.Count && runs[i1].Y == y)
            {
                i1++;
            }
            if (prevEnd > prevStart && runs[prevStart].Y == y - 1)
            {
                int p = prevStart;
                for (int c = i0; c < i1; c++)
                {
                    var run = runs[c];
                    while (p < prevEnd && runs[p].X1 < run.X0 - 1)
                    {
                        p++;
                    }
                    for (int q = p; q < prevEnd && runs[q].X0 <= run.X1 + 1; q++)
                    {
                        Union(parent, c, q);
                    }
                }
            }
            prevStart = i0;
            prevEnd = i1;
            i0 = i1;
        }

        // Each footprint's runs, by index, in raster order.
        var index = new Dictionary<int, List<int>>();
        var order = new List<int>();
        for (int i = 0; i < runs.Count; i++)
        {
            int root = Find(parent, i);
            if (!index.TryGetValue(root, out var list))
            {
                index[root] = list = [];
                order.Add(root);
            }
            list.Add(i);
        }

        var footprints = new List<Footprint>();
        foreach (int root in order)
        {
            var members = index[root];
            var spans = new List<PixelSpan>(members.Count);
            int area = 0, xMin = int.MaxValue, xMax = -1, yMin = int.MaxValue, yMax = -1;
            foreach (int i in members)
            {
                var s = runs[i];
                spans.Add(s);
                area += s.X1 - s.X0 + 1;
                xMin = Math.Min(xMin, s.X0);
                xMax = Math.Max(xMax, s.X1);
                yMin = Math.Min(yMin, s.Y);
                yMax = Math.Max(yMax, s.Y);
            }
            if (area < minPixels)
            {
                continue;
            }
            var peaks = new List<Peak>();
            foreach (int i in members)
            {
                peaks.AddRange(scan.PeaksOf(i));
            }
            peaks.Sort((a, b) => b.Significance.CompareTo(a.Significance));
            if (peaks.Count > 1)
            {
                peaks = CullPeaks(scan, members, peaks, xMin, xMax, yMin, yMax, minProminence);
            }
            footprints.Add(new Footprint(spans, peaks, area, xMin, xMax, yMin, yMax));
        }
        return footprints;
    }

    /// <summary>
    /// Keeps the peaks whose prominence (height above the highest saddle that joins them to a higher peak) is at least
    /// <paramref name="minProminence"/>; the highest peak is always kept. A watershed flood from the top: footprint
    /// pixels in decreasing significance join their already-flooded 8-neighbours' basins, and where two basins meet
    /// the lower one's peak is judged at that saddle level (the topographic prominence, as in SExtractor's
    /// multi-threshold deblending or LSST's peak culling, but in units of the noise).
    /// </summary>
    private static List<Peak> CullPeaks(
        RowScan scan, List<int> members, List<Peak> peaks, int xMin, int xMax, int yMin, int yMax, float minProminence)
    {
        int bw = xMax - xMin + 1, bh = yMax - yMin + 1;
        int count = 0;
        foreach (int i in members)
        {
            count += scan.Runs[i].X1 - scan.Runs[i].X0 + 1;
        }
        // The footprint's box pixels in raster order with their significances, then sorted highest first.
        var order = new int[count];
        var keys = new float[count];
        var height = new float[bw * bh];
        int n = 0;
        foreach (int i in members)
        {
            var span = scan.Runs[i];
            var values = scan.Values(i);
            for (int x = span.X0; x <= span.X1; x++, n++)
            {
                int p = (span.Y - yMin) * bw + (x - xMin);
                order[n] = p;
                keys[n] = -values[x - span.X0];
                height[p] = values[x - span.X0];
            }
        }
        Array.Sort(keys, order);  // highest significance first

        // basin[p]: the union-find parent of flooded box pixel p (-1 not yet flooded); top[root]: the basin's peak.
        var basin = new int[bw * bh];
        Array.Fill(basin, -1);
        var top = new int[bw * bh];
        var peakIndex = new Dictionary<int, int>();
        for (int i = 0; i < peaks.Count; i++)
        {
            peakIndex[(peaks[i].Y - yMin) * bw + (peaks[i].X - xMin)] = i;
        }
        var keep = new bool[peaks.Count];
        for (int k = 0; k < order.Length; k++)
        {
            int p = order[k];
            float level = -keys[k];
            int px = p % bw, py = p / bw;
            basin[p] = p;
            top[p] = p;
            for (int dy = -1; dy <= 1; dy++)
            {
                int yy = py + dy;
                if (yy < 0 || yy >= bh)
                {
                    continue;
                }
                for (int dx = -1; dx <= 1; dx++)
                {
                    int xx = px + dx;
                    if ((dx == 0 && dy == 0) || xx < 0 || xx >= bw || basin[yy * bw + xx] < 0)
                    {
                        continue;
                    }
                    int a = Find(basin, yy * bw + xx), b = Find(basin, p);
                    if (a == b)
                    {
                        continue;
                    }
                    int ta = top[a], tb = top[b];
                    float va = height[ta], vb = height[tb];
                    // The lower basin's peak meets the higher basin here: judge it at this saddle level.
                    var (high, low) = va >= vb ? (a, b) : (b, a);
                    int lowTop = top[low];
                    if (peakIndex.TryGetValue(lowTop, out int li) && height[lowTop] - level >= minProminence)
                    {
                        keep[li] = true;
                    }
                    basin[low] = high;
                }
            }
        }
        keep[0] = true;  // peaks are sorted brightest first
        var kept = new List<Peak>();
        for (int i = 0; i < peaks.Count; i++)
        {
            if (keep[i])
            {
                kept.Add(peaks[i]);
            }
        }
        return kept;
    }

    /// <summary>
    /// True when pixel <paramref name="x"/> of <paramref name="row"/> is above its neighbours in the rows
    /// <paramref name="above"/> and <paramref name="below"/> (empty outside the image) and in its own; a tie goes to the
    /// neighbour first in raster order, so a flat top gives one peak.
    /// </summary>
    private static bool IsLocalMaximum(ReadOnlySpan<float> above, ReadOnlySpan<float> row, ReadOnlySpan<float> below, int x)
    {
        float v = row[x];
        int x0 = Math.Max(0, x - 1), x1 = Math.Min(row.Length - 1, x + 1);
        for (int xx = x0; xx <= x1; xx++)
        {
            if ((!above.IsEmpty && above[xx] >= v) || (!below.IsEmpty && below[xx] > v))
            {
                return false;
            }
        }
        return !(x > 0 && row[x - 1] >= v) && !(x + 1 < row.Length && row[x + 1] > v);
    }
    /// <summary>
    /// The maximum of exp(q) where q(x, y) = a + b x + c y + d x² + e x y + f y² is the least-squares fit to the
    /// logarithm of the 3 x 3 values <paramref name="z"/> (row by row, x and y from −1 to 1); null when a value is not
    /// positive, q has no maximum, or the maximum lies more than one pixel from the centre in x or y.
    /// </summary>
    internal static double? ContinuousMaximum(ReadOnlySpan<double> z)
    {
        Span<double> l = stackalloc double[9];
        for (int k = 0; k < 9; k++)
        {
            if (!(z[k] > 0))
            {
                return null;
            }
            l[k] = Math.Log(z[k]);
        }
        // Row sums (y = −1, 0, 1) and column sums (x = −1, 0, 1) of the logarithms.
        double r0 = l[0] + l[1] + l[2], r1 = l[3] + l[4] + l[5], r2 = l[6] + l[7] + l[8];
        double c0 = l[0] + l[3] + l[6], c1 = l[1] + l[4] + l[7], c2 = l[2] + l[5] + l[8];
        double b = (c2 - c0) / 6, c = (r2 - r0) / 6;
        double d = (c0 + c2 - 2 * c1) / 6, f = (r0 + r2 - 2 * r1) / 6;
        double e = (l[0] - l[2] - l[6] + l[8]) / 4;
        double a = (r0 + r1 + r2 - 6 * d - 6 * f) / 9;
        double det = 4 * d * f - e * e;
        if (d >= 0 || f >= 0 || det <= 0)
        {
            return null;
        }
        double x = (e * c - 2 * f * b) / det, y = (e * b - 2 * d * c) / det;
        if (Math.Abs(x) > 1 || Math.Abs(y) > 1)
        {
            return null;
        }
        return Math.Exp(a + 0.5 * (b * x + c * y));
    }

    private static int Find(int[] parent, int i)
    {
        while (parent[i] != i)
        {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void Union(int[] parent, int a, int b)
    {
        int ra = Find(parent, a), rb = Find(parent, b);
        if (ra != rb)
        {
            parent[Math.Max(ra, rb)] = Math.Min(ra, rb);
        }
    }
}
