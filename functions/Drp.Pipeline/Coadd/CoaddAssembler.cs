using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Coadd;

/// <summary>assembleCoadd's settings: compare-warp outlier rejection (DMTN-080) and the final combine.</summary>
public sealed record CoaddConfig
{
    /// <summary>Transient footprints are found at this many sigma on each PSF-matched difference.</summary>
    public double DetectionSigma { get; init; } = 5.0;

    /// <summary>Pixels a footprint grows by before epochs are counted (the PSF's wings).</summary>
    public int FootprintGrow { get; init; } = 2;

    /// <summary>The static-sky template's clip, in each warp's own sigma about the median.</summary>
    public double TemplateClipSigma { get; init; } = 3.0;

    /// <summary>The common PSF's variance is this times the widest input's (σ²).</summary>
    public double MatchedPsfFactor { get; init; } = 1.1;

    /// <summary>A footprint is clipped when more than this fraction of its pixels are seen in few epochs.</summary>
    public double ClipFraction { get; init; } = 0.5;

    /// <summary>Planes whose pixels never enter the final mean.</summary>
    public MaskPlane BadPlanes { get; init; } = MaskPlane.NoData | MaskPlane.Bad | MaskPlane.Saturated | MaskPlane.Clipped;

    /// <summary>Planes that explain a missing input pixel (NO_DATA alone does not: the geometry says data was there).</summary>
    public MaskPlane ReasonPlanes { get; init; } = MaskPlane.Bad | MaskPlane.Saturated | MaskPlane.Clipped;

    public static CoaddConfig Default { get; } = new();

    /// <summary>Most epochs a transient may be found in, of <paramref name="n"/>: min(0.4 N, 2 + 0.03 N).</summary>
    public static double MaxTransientEpochs(int n) => Math.Min(0.4 * n, 2 + 0.03 * n);
}

/// <summary>One input of a coadd: which calexp, its weight, the patch box it covers and what compare-warp clipped.</summary>
public sealed record CoaddInput(long Visit, int Detector, double Weight, PixelBox Box, int ClippedPixels, int ClippedFootprints)
{
    public string InputName => $"visit {Visit} detector {Detector}";
}

/// <summary>
/// A patch coadd in one band over the patch's outer box (nJy per pixel): image, variance, mask, the number of inputs
/// per pixel, the inputs with their weights and boxes, and the coadd PSF.
/// </summary>
public sealed record Coadd(PatchInfo Patch, string Band, int Width, int Height, float[] Image, float[] Variance, ushort[] Mask,
    ushort[] NImage, IReadOnlyList<CoaddInput> Inputs, CoaddPsf Psf);

/// <summary>The coadd PSF: the weighted sum of the inputs' warped Moffats among those that cover a position.</summary>
public sealed record CoaddPsf(IReadOnlyList<(double Weight, PixelBox Box, MoffatPsf Psf)> Components)
{
    /// <summary>The single Moffat closest to the sum at (x, y): weighted mean Q and β of the covering inputs.</summary>
    public MoffatPsf At(double x, double y)
    {
        double w = 0, qxx = 0, qyy = 0, qxy = 0, beta = 0;
        foreach (var (weight, box, psf) in Components)
        {
            if (box.Contains(x, y))
            {
                w += weight;
                qxx += weight * psf.Qxx;
                qyy += weight * psf.Qyy;
                qxy += weight * psf.Qxy;
                beta += weight * psf.Beta;
            }
        }
        if (w == 0)
        {
            // No input here: the mean over all inputs keeps a defined PSF for edge measurements.
            foreach (var (weight, _, psf) in Components)
            {
                w += weight;
                qxx += weight * psf.Qxx;
                qyy += weight * psf.Qyy;
                qxy += weight * psf.Qxy;
                beta += weight * psf.Beta;
            }
        }
        return new MoffatPsf(qxx / w, qyy / w, qxy / w, beta / w, Components.Count);
    }
}

/// <summary>An input the coadd expected is missing, or pixels it should have supplied are neither values nor masked.</summary>
public sealed class CoverageHoleException(string message, int pixels, IReadOnlyList<string> inputs) : Exception(message)
{
    public int Pixels { get; } = pixels;

    public IReadOnlyList<string> Inputs { get; } = inputs;
}

/// <summary>
/// assembleCoadd with compare-warp outlier rejection: a clipped-mean static sky from PSF-matched warps, 5σ transient
/// footprints on each difference, CLIPPED where few epochs saw them, then the inverse-variance mean of direct warps.
/// </summary>
public static class CoaddAssembler
{
    /// <summary>
    /// Coadds <paramref name="warps"/> on <paramref name="patch"/>. <paramref name="expected"/> are every input the
    /// patch should have; each one that geometrically covers it must be among the warps and must account for every
    /// pixel of its valid region, or the coadd fails with <see cref="CoverageHoleException"/>.
    /// </summary>
    public static Coadd Assemble(PatchInfo patch, string band, IReadOnlyList<CalexpGeometry> expected, IReadOnlyList<Warp> warps, CoaddConfig? config = null)
    {
        config ??= CoaddConfig.Default;
        var covering = expected.Where(g => g.Band == band && Warper.CoveredBox(g, patch) is not null).ToList();
        var missing = covering.Where(g => !warps.Any(w => w.Visit == g.Visit && w.Detector == g.Detector)).Select(g => g.InputName).ToList();
        if (missing.Count > 0)
        {
            throw new CoverageHoleException($"no warp for {string.Join(", ", missing)}, which cover {patch}", 0, missing);
        }
        var unexpected = warps.Where(w => !covering.Any(g => g.Visit == w.Visit && g.Detector == w.Detector)).Select(w => w.InputName).ToList();
        if (unexpected.Count > 0 || warps.Any(w => w.Band != band))
        {
            throw new ArgumentException($"warps not among the {band}-band inputs of {patch}: {string.Join(", ", unexpected)}");
        }
        if (warps.Count == 0)
        {
            throw new CoverageHoleException($"no input covers {patch} in band {band}", 0, []);
        }

        int width = patch.Outer.Width, height = patch.Outer.Height;
        var clipped = CompareWarp(warps, config, out var clippedFootprints);
        var weights = warps.Select((w, i) => 1.0 / ClippedMeanVariance(w, clipped[i], config)).ToArray();

        var image = new float[width * height];
        var variance = new float[width * height];
        var mask = new ushort[width * height];
        var nImage = new ushort[width * height];
        Array.Fill(image, float.NaN);
        Array.Fill(variance, float.NaN);
        Array.Fill(mask, (ushort)MaskPlane.NoData);
        // Sums over the inputs' union only: the rest of the patch stays NaN and NO_DATA.
        var union = Union(warps);
        int uw = union.Width, un = union.Width * union.Height;
        var sumW = new double[un];
        var sumWV = new double[un];
        var sumW2Var = new double[un];
        var accepted = new ushort[un];
        var rejected = new ushort[un];
        var ended = new bool[un];
        ushort bad = (ushort)config.BadPlanes;
        for (int k = 0; k < warps.Count; k++)
        {
            var w = warps[k];
            var b = w.Box;
            double wt = weights[k];
            for (int y = 0; y < b.Height; y++)
            {
                for (int x = 0; x < b.Width; x++)
                {
                    int i = y * b.Width + x, o = (b.Y0 + y - union.Y0) * uw + b.X0 + x - union.X0;
                    ushort m = (ushort)(w.Mask[i] | (clipped[k][i] ? (ushort)MaskPlane.Clipped : 0));
                    if ((m & bad) != 0 || !float.IsFinite(w.Image[i]))
                    {
                        rejected[o] |= m;
                        ended[o] |= (m & (ushort)MaskPlane.NoData) != 0;
                        continue;
                    }
                    sumW[o] += wt;
                    sumWV[o] += wt * w.Image[i];
                    sumW2Var[o] += wt * wt * w.Variance[i];
                    accepted[o] |= m;
                    nImage[(b.Y0 + y) * width + b.X0 + x]++;
                }
            }
        }
        for (int o = 0; o < un; o++)
        {
            int p = (union.Y0 + o / uw) * width + union.X0 + o % uw;
            if (nImage[p] == 0)
            {
                mask[p] = (ushort)(MaskPlane.NoData | (MaskPlane)(rejected[o] & ~(ushort)MaskPlane.NoData));
                continue;
            }
            image[p] = (float)(sumWV[o] / sumW[o]);
            variance[p] = (float)(sumW2Var[o] / (sumW[o] * sumW[o]));
            int m = accepted[o] | (rejected[o] & (ushort)MaskPlane.Clipped);
            if (ended[o])
            {
                m |= (int)MaskPlane.SensorEdge;
            }
            mask[p] = (ushort)m;
        }

        CheckCoverage(patch, covering, warps, clipped, config);

        var inputs = warps.Select((w, k) => new CoaddInput(w.Visit, w.Detector, weights[k], w.Box, clipped[k].Count(c => c), clippedFootprints[k])).ToList();
        var psf = new CoaddPsf(warps.Select((w, k) => (weights[k], w.Box, w.Psf)).ToList());
        return new Coadd(patch, band, width, height, image, variance, mask, nImage, inputs, psf);
    }

    /// <summary>
    /// Every pixel of each input's valid region (its taps on the calexp, by geometry alone) must be a value in its
    /// warp or carry a reason plane; else the coadd would hide a hole (DM-33786's skipped reads).
    /// </summary>
    private static void CheckCoverage(PatchInfo patch, IReadOnlyList<CalexpGeometry> covering, IReadOnlyList<Warp> warps, bool[][] clipped, CoaddConfig config)
    {
        int total = 0;
        var inputs = new List<string>();
        ushort reason = (ushort)config.ReasonPlanes;
        foreach (var g in covering)
        {
            int k = Enumerable.Range(0, warps.Count).First(i => warps[i].Visit == g.Visit && warps[i].Detector == g.Detector);
            var w = warps[k];
            var box = Warper.CoveredBox(g, patch)!.Value;
            var map = new PixelMapping(patch.Wcs, g.Wcs, box);
            int holes = 0;
            for (int y = box.Y0; y < box.Y1; y++)
            {
                for (int x = box.X0; x < box.X1; x++)
                {
                    var (u, v, _) = map.At(x, y);
                    if (!Warper.TapsInside(u, v, g.Width, g.Height))
                    {
                        continue;
                    }
                    if (!w.Box.Contains(x, y))
                    {
                        holes++;
                        continue;
                    }
                    int i = (y - w.Box.Y0) * w.Box.Width + x - w.Box.X0;
                    if (!float.IsFinite(w.Image[i]) && (w.Mask[i] & reason) == 0 && !clipped[k][i])
                    {
                        holes++;
                    }
                }
            }
            if (holes > 0)
            {
                total += holes;
                inputs.Add($"{g.InputName} ({holes} px)");
            }
        }
        if (total > 0)
        {
            throw new CoverageHoleException(
                $"{patch}: {total} pixels that inputs cover hold no value and no mask reason; inputs: {string.Join(", ", inputs)}", total, inputs);
        }
    }

    /// <summary>The mean variance of a warp's usable pixels, 3σ-clipped twice: its weight is the inverse.</summary>
    private static double ClippedMeanVariance(Warp w, bool[] clipped, CoaddConfig config)
    {
        ushort bad = (ushort)config.BadPlanes;
        var values = new List<double>();
        for (int i = 0; i < w.Variance.Length; i++)
        {
            if ((w.Mask[i] & bad) == 0 && !clipped[i] && float.IsFinite(w.Variance[i]) && w.Variance[i] > 0)
            {
                values.Add(w.Variance[i]);
            }
        }
        if (values.Count == 0)
        {
            return double.PositiveInfinity;
        }
        double mean = values.Average();
        for (int iter = 0; iter < 2; iter++)
        {
            double sd = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
            var kept = values.Where(v => Math.Abs(v - mean) <= 3 * sd).ToList();
            if (kept.Count == 0)
            {
                break;
            }
            values = kept;
            mean = values.Average();
        }
        return mean;
    }

    /// <summary>Compare-warp: which pixels of each direct warp are CLIPPED, and how many footprints were clipped per warp.</summary>
    private static bool[][] CompareWarp(IReadOnlyList<Warp> warps, CoaddConfig config, out int[] clippedFootprints)
    {
        int n = warps.Count;
        var clipped = warps.Select(w => new bool[w.Image.Length]).ToArray();
        clippedFootprints = new int[n];
        if (n < 2)
        {
            return clipped;
        }
        // 1. PSF-matched warps to a common Gaussian, for outlier detection only.
        double target = config.MatchedPsfFactor * warps.Max(w => w.Psf.Sigma * w.Psf.Sigma);
        var matched = warps.Select(w => PsfMatch(w, Math.Sqrt(target - w.Psf.Sigma * w.Psf.Sigma), config)).ToArray();

        // 2. The static-sky template: per pixel, the mean of values within 3σ of the median of the covering warps.
        var union = Union(warps);
        int uw = union.Width, uh = union.Height;
        var tImage = new float[uw * uh];
        var tVar = new float[uw * uh];
        var cover = new byte[uw * uh];
        var keptCount = new byte[uw * uh];
        // Whether each warp's pixel entered the template: its difference's variance depends on it.
        var inTemplate = warps.Select(w => new bool[w.Image.Length]).ToArray();
        var vals = new double[n];
        var vars = new double[n];
        var from = new (int K, int I)[n];
        var scratch = new double[n];
        for (int y = union.Y0; y < union.Y1; y++)
        {
            for (int x = union.X0; x < union.X1; x++)
            {
                int c = 0;
                for (int k = 0; k < n; k++)
                {
                    var b = warps[k].Box;
                    if (!b.Contains(x, y))
                    {
                        continue;
                    }
                    int i = (y - b.Y0) * b.Width + x - b.X0;
                    if (float.IsFinite(matched[k].Image[i]))
                    {
                        vals[c] = matched[k].Image[i];
                        vars[c] = matched[k].Variance[i];
                        from[c] = (k, i);
                        c++;
                    }
                }
                int o = (y - union.Y0) * uw + x - union.X0;
                cover[o] = (byte)c;
                if (c == 0)
                {
                    tImage[o] = float.NaN;
                    tVar[o] = float.NaN;
                    continue;
                }
                vals.AsSpan(0, c).CopyTo(scratch);
                double median = Median(scratch.AsSpan(0, c));
                double s = 0, sv = 0;
                int kept = 0;
                for (int j = 0; j < c; j++)
                {
                    if (Math.Abs(vals[j] - median) <= config.TemplateClipSigma * Math.Sqrt(vars[j]))
                    {
                        s += vals[j];
                        sv += vars[j];
                        kept++;
                        inTemplate[from[j].K][from[j].I] = true;
                    }
                }
                if (kept == 0)
                {
                    tImage[o] = (float)median;
                    tVar[o] = (float)(vars.AsSpan(0, c).ToArray().Average() * Math.PI / 2 / c);
                }
                else
                {
                    tImage[o] = (float)(s / kept);
                    tVar[o] = (float)(sv / ((double)kept * kept));
                    keptCount[o] = (byte)kept;
                }
            }
        }
        // Static sources: the template's own 5σ pixels; footprints inside them are spared (variable stars, PSF mismatch).
        // They grow one pixel more than a transient footprint does, so a residual at a star fits inside.
        var staticCore = new bool[uw * uh];
        for (int o = 0; o < staticCore.Length; o++)
        {
            staticCore[o] = float.IsFinite(tImage[o]) && tImage[o] > config.DetectionSigma * Math.Sqrt(tVar[o]);
        }
        var staticSky = new bool[uw * uh];
        foreach (var fp in Footprints(staticCore, uw, uh, config.FootprintGrow + 1))
        {
            foreach (int o in fp)
            {
                staticSky[o] = true;
            }
        }

        // 3. Differences, their 5σ footprints, and per-pixel epoch counts.
        var footprints = new List<List<int>>[n];
        var count = new byte[uw * uh];
        for (int k = 0; k < n; k++)
        {
            var b = warps[k].Box;
            var diff = new float[b.Width * b.Height];
            var dsig = new float[b.Width * b.Height];
            for (int y = 0; y < b.Height; y++)
            {
                for (int x = 0; x < b.Width; x++)
                {
                    int i = y * b.Width + x, o = (b.Y0 + y - union.Y0) * uw + b.X0 + x - union.X0;
                    diff[i] = matched[k].Image[i] - tImage[o];
                    // A warp inside the template's mean of `kept` is partly differenced against itself.
                    double v = matched[k].Variance[i];
                    dsig[i] = (float)Math.Sqrt(Math.Max(0, inTemplate[k][i] ? v * (1 - 2.0 / keptCount[o]) + tVar[o] : v + tVar[o]));
                }
            }
            // The matched warp's noise is correlated; rescale σ so the difference's robust scatter is 1.
            double rescale = RobustScale(diff, dsig);
            var above = new bool[diff.Length];
            for (int i = 0; i < diff.Length; i++)
            {
                above[i] = float.IsFinite(diff[i]) && diff[i] > config.DetectionSigma * rescale * dsig[i];
            }
            footprints[k] = Footprints(above, b.Width, b.Height, config.FootprintGrow);
            var seen = new bool[uw * uh];
            foreach (var fp in footprints[k])
            {
                foreach (int i in fp)
                {
                    int o = (b.Y0 + i / b.Width - union.Y0) * uw + b.X0 + i % b.Width - union.X0;
                    if (!seen[o])
                    {
                        seen[o] = true;
                        count[o]++;
                    }
                }
            }
        }
        // 4. Clip footprints that more than half of their pixels found in few epochs, unless inside a static source.
        for (int k = 0; k < n; k++)
        {
            var b = warps[k].Box;
            foreach (var fp in footprints[k])
            {
                int few = 0;
                bool inStatic = true;
                foreach (int i in fp)
                {
                    int o = (b.Y0 + i / b.Width - union.Y0) * uw + b.X0 + i % b.Width - union.X0;
                    if (count[o] <= CoaddConfig.MaxTransientEpochs(cover[o]))
                    {
                        few++;
                    }
                    inStatic &= staticSky[o];
                }
                if (few > config.ClipFraction * fp.Count && !inStatic)
                {
                    clippedFootprints[k]++;
                    foreach (int i in fp)
                    {
                        clipped[k][i] = true;
                    }
                }
            }
        }
        return clipped;
    }

    /// <summary>A warp convolved with a Gaussian of σ <paramref name="sigma"/> (normalised over valid pixels; NaN where any tap is invalid).</summary>
    private static (float[] Image, float[] Variance) PsfMatch(Warp w, double sigma, CoaddConfig config)
    {
        int bw = w.Box.Width, bh = w.Box.Height;
        ushort bad = (ushort)(config.BadPlanes & ~MaskPlane.Clipped);
        var valid = new float[bw * bh];
        var img = new float[bw * bh];
        var var = new float[bw * bh];
        for (int i = 0; i < valid.Length; i++)
        {
            bool ok = (w.Mask[i] & bad) == 0 && float.IsFinite(w.Image[i]);
            valid[i] = ok ? 1 : 0;
            img[i] = ok ? w.Image[i] : 0;
            var[i] = ok ? w.Variance[i] : 0;
        }
        if (sigma < 0.05)
        {
            for (int i = 0; i < img.Length; i++)
            {
                if (valid[i] == 0)
                {
                    img[i] = float.NaN;
                    var[i] = float.NaN;
                }
            }
            return (img, var);
        }
        int r = (int)Math.Ceiling(4 * sigma);
        var kernel = new double[2 * r + 1];
        for (int i = -r; i <= r; i++)
        {
            kernel[i + r] = Math.Exp(-0.5 * i * i / (sigma * sigma));
        }
        double ks = kernel.Sum();
        for (int i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= ks;
        }
        var kernel2 = kernel.Select(k => k * k).ToArray();
        var cImg = Convolve(Convolve(img, bw, bh, kernel, true), bw, bh, kernel, false);
        var cVar = Convolve(Convolve(var, bw, bh, kernel2, true), bw, bh, kernel2, false);
        var cValid = Convolve(Convolve(valid, bw, bh, kernel, true), bw, bh, kernel, false);
        for (int i = 0; i < cImg.Length; i++)
        {
            if (cValid[i] < 0.999f)
            {
                cImg[i] = float.NaN;
                cVar[i] = float.NaN;
            }
        }
        return (cImg, cVar);
    }

    private static float[] Convolve(float[] src, int w, int h, double[] kernel, bool alongX)
    {
        int r = kernel.Length / 2;
        var dst = new float[src.Length];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double s = 0;
                for (int k = -r; k <= r; k++)
                {
                    int xx = alongX ? x + k : x, yy = alongX ? y : y + k;
                    if (xx >= 0 && xx < w && yy >= 0 && yy < h)
                    {
                        s += kernel[k + r] * src[yy * w + xx];
                    }
                }
                dst[y * w + x] = (float)s;
            }
        }
        return dst;
    }

    /// <summary>1.4826 × the median absolute normalised difference: the factor the nominal σ is off by.</summary>
    private static double RobustScale(float[] diff, float[] sigma)
    {
        var z = new List<double>();
        for (int i = 0; i < diff.Length; i += 3)
        {
            if (float.IsFinite(diff[i]) && sigma[i] > 0)
            {
                z.Add(Math.Abs(diff[i] / sigma[i]));
            }
        }
        if (z.Count < 100)
        {
            return 1.0;
        }
        double mad = Median(z.ToArray()) * 1.4826;
        return mad > 0 ? Math.Max(mad, 0.5) : 1.0;
    }

    /// <summary>8-connected components of the set pixels, each grown by <paramref name="grow"/> pixels (a square), as pixel-index lists.</summary>
    private static List<List<int>> Footprints(bool[] set, int w, int h, int grow)
    {
        var label = new int[set.Length];
        var list = new List<List<int>>();
        var stack = new Stack<int>();
        for (int start = 0; start < set.Length; start++)
        {
            if (!set[start] || label[start] != 0)
            {
                continue;
            }
            int id = list.Count + 1;
            var core = new List<int>();
            label[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                core.Add(p);
                int px = p % w, py = p / w;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int qx = px + dx, qy = py + dy;
                        if (qx < 0 || qy < 0 || qx >= w || qy >= h)
                        {
                            continue;
                        }
                        int q = qy * w + qx;
                        if (set[q] && label[q] == 0)
                        {
                            label[q] = id;
                            stack.Push(q);
                        }
                    }
                }
            }
            var grown = new HashSet<int>();
            foreach (int p in core)
            {
                int px = p % w, py = p / w;
                for (int dy = -grow; dy <= grow; dy++)
                {
                    for (int dx = -grow; dx <= grow; dx++)
                    {
                        int qx = px + dx, qy = py + dy;
                        if (qx >= 0 && qy >= 0 && qx < w && qy < h)
                        {
                            grown.Add(qy * w + qx);
                        }
                    }
                }
            }
            list.Add([.. grown]);
        }
        return list;
    }

    private static PixelBox Union(IReadOnlyList<Warp> warps) =>
        warps.Select(w => w.Box).Aggregate((a, b) => new PixelBox(Math.Min(a.X0, b.X0), Math.Min(a.Y0, b.Y0),
            Math.Max(a.X1, b.X1) - Math.Min(a.X0, b.X0), Math.Max(a.Y1, b.Y1) - Math.Min(a.Y0, b.Y0)));

    private static double Median(Span<double> values)
    {
        values.Sort();
        int c = values.Length;
        return c % 2 == 1 ? values[c / 2] : 0.5 * (values[c / 2 - 1] + values[c / 2]);
    }
}
