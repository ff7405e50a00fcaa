using System.Globalization;
using System.Runtime.Intrinsics;
using Drp.Pipeline.Fits;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// Instrument signature removal: raw amplifiers to an assembled <see cref="Exposure"/> in electrons.
/// Per amplifier: saturation mask (raw ADU &gt;= SATURATE), per-row overscan subtraction, trim to DATASEC, placement
/// at DETSEC (flips honoured), gain (ADU to electrons). Then master bias subtraction, variance (Poisson from the
/// pre-flat electron signal + read noise², divided by flat²), flat division, and linear interpolation along rows over
/// BAD pixels (defects, non-finite raw or bias values, unusable flat values) and, by default, saturated ones.
/// </summary>
/// <remarks>
/// Calibration inputs, in the assembled detector geometry (the same width and height as the assembled raw):
/// the master bias is the residual bias after overscan subtraction, with BUNIT 'electron' (or 'electrons', 'e-') or
/// 'adu' (converted with each amplifier's GAIN); a bias without BUNIT is refused rather than guessed. The master flat
/// is normalised here to a mean of 1 over its usable pixels, so any scale is accepted. Defects: non-zero = bad.
/// </remarks>
public static class IsrTask
{
    public static Exposure Run(IReadOnlyList<FitsImage> raw, FitsImage bias, FitsImage flat, FitsImage? defects, IsrConfig config) =>
        Run(raw, bias, flat, defects, config, consumeCalibrations: false);

    /// <param name="consumeCalibrations">
    /// When true the bias's and the flat's pixel arrays become the exposure's image and variance planes (their values
    /// are overwritten): for a caller whose calibration images are used once, it saves touching two full planes of
    /// fresh memory. The result is the same either way.
    /// </param>
    public static Exposure Run(IReadOnlyList<FitsImage> raw, FitsImage bias, FitsImage flat, FitsImage? defects, IsrConfig config,
        bool consumeCalibrations)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return Run(RawFrame.FromImages(raw), bias, flat, defects is null ? null : DefectMap.FromImage(defects), config, consumeCalibrations);
    }

    /// <inheritdoc cref="Run(IReadOnlyList{FitsImage}, FitsImage, FitsImage, FitsImage?, IsrConfig, bool)"/>
    /// <remarks>The amplifiers' pixels are asked of <paramref name="raw"/> one at a time, each HDU once.</remarks>
    public static Exposure Run(RawFrame raw, FitsImage bias, FitsImage flat, DefectMap? defects, IsrConfig config,
        bool consumeCalibrations)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(flat);
        ArgumentNullException.ThrowIfNull(config);
        var layout = RawLayout.FromRaw(raw.Hdus);
        int w = layout.Width, h = layout.Height;
        CheckGeometry("bias", bias.Width, bias.Height, w, h);
        CheckGeometry("flat", flat.Width, flat.Height, w, h);
        if (defects is not null)
        {
            CheckGeometry("defects", defects.Width, defects.Height, w, h);
        }
        bool biasInAdu = BiasInAdu(bias);

        var mask = LargeArrays.AllocateUninitialized<ushort>(w * h); // MarkCoverage and AssembleAmplifier write every value
        bool fullyCovered = MarkCoverage(layout, mask, w);
        double flatMean = FlatMean(flat.Pixels, fullyCovered ? null : mask); // a tiled mask is not written yet
        // Each pixel's bias and flat values are read before its image and variance are written, so in place is safe.
        var image = consumeCalibrations ? bias.Pixels : LargeArrays.AllocateUninitialized<float>(w * h);
        var variance = consumeCalibrations ? flat.Pixels : LargeArrays.AllocateUninitialized<float>(w * h);
        if (!fullyCovered)
        {
            for (int i = 0; i < mask.Length; i++)
            {
                if (mask[i] == (ushort)MaskPlane.NoData)
                {
                    image[i] = 0f;
                    variance[i] = 0f;
                }
            }
        }

        float[]? done = null; // the last amplifier's pixels: a streamed raw reads the next one into them
        foreach (var amp in layout.Amplifiers)
        {
            var hdu = raw.Hdus[amp.HduIndex];
            var pixels = raw.Pixels(amp.HduIndex, done);
            var levels = OverscanLevels(pixels, hdu.Width, hdu.Height, amp, config);
            AssembleAmplifier(pixels, hdu.Width, amp, levels, bias.Pixels, biasInAdu, flat.Pixels, flatMean, config.MinimumFlat * flatMean,
                image, variance, mask, w);
            done = pixels;
        }
        if (defects is not null)
        {
            MarkDefects(defects, mask, w);
        }
        var interpolate = MaskPlane.Bad | (config.InterpolateSaturated ? MaskPlane.Saturated : MaskPlane.None);
        RowInterpolation.Apply(image, variance, mask, w, h, interpolate);

        var header = layout.PrimaryHeader.Clone();
        header.Set("BUNIT", "electron", "image in electrons, variance in electrons^2");
        return new Exposure(w, h, image, variance, mask, header);
    }

    /// <summary>
    /// Refuses two amplifiers whose DETSECs overlap; returns true when the DETSECs tile the whole detector (they lie
    /// inside it, so then their areas add up to it). Otherwise marks NO_DATA everywhere but under the DETSECs. The
    /// pixels under the DETSECs are <see cref="AssembleAmplifier"/>'s to write.
    /// </summary>
    private static bool MarkCoverage(RawLayout layout, ushort[] mask, int width)
    {
        var amps = layout.Amplifiers;
        long covered = 0;
        for (int a = 0; a < amps.Count; a++)
        {
            var s = amps[a].DetSec;
            for (int b = 0; b < a; b++)
            {
                var t = amps[b].DetSec;
                int x0 = Math.Max(s.XMin, t.XMin), y0 = Math.Max(s.YMin, t.YMin);
                if (x0 <= Math.Min(s.XMax, t.XMax) && y0 <= Math.Min(s.YMax, t.YMax))
                {
                    throw new IsrInputException(amps[a].Hdu, "DETSEC", s.ToString(),
                        string.Create(CultureInfo.InvariantCulture, $"overlaps another amplifier ({amps[b].Hdu}) at detector pixel ({x0}, {y0})"));
                }
            }
            covered += (long)s.Width * s.Height;
        }
        if (covered == mask.Length)
        {
            return true;
        }
        Array.Fill(mask, (ushort)MaskPlane.NoData);
        foreach (var amp in amps)
        {
            for (int y = amp.DetSec.YMin; y <= amp.DetSec.YMax; y++)
            {
                mask.AsSpan(y * width + amp.DetSec.XMin, amp.DetSec.Width).Clear();
            }
        }
        return false;
    }

    /// <summary>The mean of the flat's finite positive values over the covered pixels, by which it is normalised.</summary>
    /// <param name="mask">The coverage (NO_DATA outside the DETSECs), or null when the amplifiers cover every pixel.</param>
    private static double FlatMean(float[] flat, ushort[]? mask)
    {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < flat.Length; i++)
        {
            if ((mask is null || (mask[i] & (ushort)MaskPlane.NoData) == 0) && float.IsFinite(flat[i]) && flat[i] > 0)
            {
                sum += flat[i];
                n++;
            }
        }
        if (n == 0)
        {
            throw new IsrInputException("flat", null, null, "no finite positive values over the detector");
        }
        return sum / n;
    }

    /// <summary>
    /// The overscan level of every raw row covered by DATASEC (index = zero-based raw row), from the BIASSEC columns
    /// of that row, non-finite values skipped; a row with none takes the amplifier's median level.
    /// </summary>
    internal static double[] OverscanLevels(FitsImage hdu, AmplifierGeometry amp, IsrConfig config) =>
        OverscanLevels(hdu.Pixels, hdu.Width, hdu.Height, amp, config);

    private static double[] OverscanLevels(float[] pixels, int hduWidth, int hduHeight, AmplifierGeometry amp, IsrConfig config)
    {
        var levels = new double[hduHeight];
        Array.Fill(levels, double.NaN);
        var buffer = new float[amp.BiasSec.Width];
        int y0 = amp.DataSec.YMin, y1 = amp.DataSec.YMax;
        for (int y = y0; y <= y1; y++)
        {
            int n = 0;
            int row = y * hduWidth;
            for (int x = amp.BiasSec.XMin; x <= amp.BiasSec.XMax; x++)
            {
                float v = pixels[row + x];
                if (float.IsFinite(v))
                {
                    buffer[n++] = v;
                }
            }
            if (n > 0)
            {
                var values = buffer.AsSpan(0, n);
                levels[y] = config.OverscanStatistic == OverscanStatistic.Median
                    ? RobustStatistics.Median(values)
                    : RobustStatistics.SigmaClip(values, config.OverscanClipSigma).Mean;
            }
        }

        var finite = new double[y1 - y0 + 1];
        int nFinite = 0;
        for (int y = y0; y <= y1; y++)
        {
            if (double.IsFinite(levels[y]))
            {
                finite[nFinite++] = levels[y];
            }
        }
        if (nFinite == 0)
        {
            throw new IsrInputException(amp.Hdu, "BIASSEC", amp.BiasSec.ToString(), "no finite overscan pixels");
        }
        double fallback = RobustStatistics.Median(finite.AsSpan(0, nFinite));
        for (int y = y0; y <= y1; y++)
        {
            if (!double.IsFinite(levels[y]))
            {
                levels[y] = fallback;
            }
        }
        return config.OverscanSmoothingRows > 0 ? Smooth(levels, y0, y1, config.OverscanSmoothingRows) : levels;
    }

    private static double[] Smooth(double[] levels, int y0, int y1, int halfWidth)
    {
        var smoothed = (double[])levels.Clone();
        for (int y = y0; y <= y1; y++)
        {
            int a = Math.Max(y0, y - halfWidth), b = Math.Min(y1, y + halfWidth);
            double sum = 0;
            for (int k = a; k <= b; k++)
            {
                sum += levels[k];
            }
            smoothed[y] = sum / (b - a + 1);
        }
        return smoothed;
    }

    /// <summary>
    /// One amplifier's pixels into the detector: overscan, gain, bias, variance (Poisson from the pre-flat electrons +
    /// read noise²), then division by the normalised flat (variance by its square); a flat value below
    /// <paramref name="flatFloor"/> (or not finite) leaves the pixel unflattened and BAD. Non-finite raw or bias: 0, BAD.
    /// </summary>
    private static void AssembleAmplifier(
        float[] pixels, int aw, AmplifierGeometry amp, double[] levels, float[] bias, bool biasInAdu, float[] flat, double flatMean, double flatFloor,
        float[] image, float[] variance, ushort[] mask, int width)
    {
        double gain = amp.Gain, rn2 = amp.ReadNoise * amp.ReadNoise;
        double biasScale = biasInAdu ? gain : 1.0;
        double saturate = amp.Saturate;
        // Walk each row with a stride of +1 or -1 (a flipped DATASEC or DETSEC) instead of asking the section per pixel.
        int rawStep = amp.DataSec.FlipX ? -1 : 1, detStep = amp.DetSec.FlipX ? -1 : 1;
        int rawX0 = amp.DataSec.XAt(0), detX0 = amp.DetSec.XAt(0), n = amp.DataSec.Width;
        var reverse = Vector256.Create(7, 6, 5, 4, 3, 2, 1, 0);
        for (int ky = 0; ky < amp.DataSec.Height; ky++)
        {
            int ry = amp.DataSec.YAt(ky);
            int dy = amp.DetSec.YAt(ky);
            double level = levels[ry];
            int ri = ry * aw + rawX0, di = dy * width + detX0;
            int kx = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // Eight pixels at a time, lane k the k-th pixel of the walk, with the scalar loop's double operations
                // and narrowings; a group holding a non-finite raw or bias value or an unusable flat value goes pixel by pixel.
                for (; kx + 8 <= n; kx += 8, ri += 8 * rawStep, di += 8 * detStep)
                {
                    int rs = rawStep > 0 ? ri : ri - 7, ds = detStep > 0 ? di : di - 7;
                    var rawV = Vector256.Create(pixels.AsSpan(rs, 8));
                    var biasV = Vector256.Create(bias.AsSpan(ds, 8));
                    var flatV = Vector256.Create(flat.AsSpan(ds, 8));
                    if (rawStep < 0)
                    {
                        rawV = Vector256.Shuffle(rawV, reverse);
                    }
                    if (detStep < 0)
                    {
                        biasV = Vector256.Shuffle(biasV, reverse);
                        flatV = Vector256.Shuffle(flatV, reverse);
                    }
                    var (rawLo, rawHi) = Vector256.Widen(rawV);
                    var (flatLo, flatHi) = Vector256.Widen(flatV);
                    var usable = Vector256.Equals(rawV - rawV, Vector256<float>.Zero) & Vector256.Equals(biasV - biasV, Vector256<float>.Zero)
                        & Vector256.Equals(flatV - flatV, Vector256<float>.Zero);
                    var flatOk = Vector256.GreaterThanOrEqual(flatLo, Vector256.Create(flatFloor)).ExtractMostSignificantBits()
                        | (Vector256.GreaterThanOrEqual(flatHi, Vector256.Create(flatFloor)).ExtractMostSignificantBits() << 4);
                    if (usable.ExtractMostSignificantBits() != 0xFFu || flatOk != 0xFFu)
                    {
                        for (int k = 0; k < 8; k++)
                        {
                            AssemblePixel(pixels[ri + k * rawStep], di + k * detStep, level, gain, biasScale, rn2, saturate, bias, flat, flatMean, flatFloor, image, variance, mask);
                        }
                        continue;
                    }
                    var (biasLo, biasHi) = Vector256.Widen(biasV);
                    var eLo = (rawLo - Vector256.Create(level)) * Vector256.Create(gain) - biasLo * Vector256.Create(biasScale);
                    var eHi = (rawHi - Vector256.Create(level)) * Vector256.Create(gain) - biasHi * Vector256.Create(biasScale);
                    var e = Vector256.Narrow(eLo, eHi);
                    var rn = Vector256.Create(rn2);
                    var v = Vector256.Narrow(Vector256.Max(eLo, Vector256<double>.Zero) + rn, Vector256.Max(eHi, Vector256<double>.Zero) + rn);
                    var mean = Vector256.Create(flatMean);
                    var normLo = flatLo / mean;
                    var normHi = flatHi / mean;
                    var (eWideLo, eWideHi) = Vector256.Widen(e);
                    var (vWideLo, vWideHi) = Vector256.Widen(v);
                    var img = Vector256.Narrow(eWideLo / normLo, eWideHi / normHi);
                    var vari = Vector256.Narrow(vWideLo / (normLo * normLo), vWideHi / (normHi * normHi));
                    var sat = Vector256.Create(saturate);
                    uint saturated = Vector256.GreaterThanOrEqual(rawLo, sat).ExtractMostSignificantBits()
                        | (Vector256.GreaterThanOrEqual(rawHi, sat).ExtractMostSignificantBits() << 4);
                    if (detStep < 0)
                    {
                        img = Vector256.Shuffle(img, reverse);
                        vari = Vector256.Shuffle(vari, reverse);
                    }
                    img.CopyTo(image.AsSpan(ds, 8));
                    vari.CopyTo(variance.AsSpan(ds, 8));
                    for (int k = 0; k < 8; k++)
                    {
                        mask[di + k * detStep] = (saturated >> k & 1) != 0 ? (ushort)MaskPlane.Saturated : (ushort)0;
                    }
                }
            }
            for (; kx < n; kx++, ri += rawStep, di += detStep)
            {
                AssemblePixel(pixels[ri], di, level, gain, biasScale, rn2, saturate, bias, flat, flatMean, flatFloor, image, variance, mask);
            }
        }
    }

    /// <summary>One pixel of <see cref="AssembleAmplifier"/>: raw value <paramref name="raw"/> to detector index <paramref name="di"/>.</summary>
    private static void AssemblePixel(float raw, int di, double level, double gain, double biasScale, double rn2, double saturate,
        float[] bias, float[] flat, double flatMean, double flatFloor, float[] image, float[] variance, ushort[] mask)
    {
        float b = bias[di];
        double f = flat[di];
        if (!float.IsFinite(raw) || !float.IsFinite(b))
        {
            mask[di] = (ushort)MaskPlane.Bad;
            image[di] = 0f;
            variance[di] = 0f;
            return;
        }
        ushort m = raw >= saturate ? (ushort)MaskPlane.Saturated : (ushort)0;
        double electrons = (raw - level) * gain - b * biasScale;
        float e = (float)electrons;
        float v = (float)(Math.Max(electrons, 0.0) + rn2);
        if (!(f >= flatFloor) || !double.IsFinite(f))
        {
            image[di] = e;
            variance[di] = v;
            mask[di] = (ushort)(m | (ushort)MaskPlane.Bad);
            return;
        }
        double norm = f / flatMean;
        image[di] = (float)(e / norm);
        variance[di] = (float)(v / (norm * norm));
        mask[di] = m;
    }

    /// <summary>BAD on every defect pixel that has data.</summary>
    private static void MarkDefects(DefectMap defects, ushort[] mask, int width)
    {
        foreach (var run in defects.Runs)
        {
            var row = mask.AsSpan(run.Y * width + run.X0, run.X1 - run.X0 + 1);
            for (int i = 0; i < row.Length; i++)
            {
                if ((row[i] & (ushort)MaskPlane.NoData) == 0)
                {
                    row[i] |= (ushort)MaskPlane.Bad;
                }
            }
        }
    }

    private static void CheckGeometry(string name, int imageWidth, int imageHeight, int width, int height)
    {
        if (imageWidth != width || imageHeight != height)
        {
            throw new IsrInputException(name, "NAXIS1/NAXIS2", $"{imageWidth}/{imageHeight}",
                $"does not match the assembled raw, {width} x {height}");
        }
    }

    private static bool BiasInAdu(FitsImage bias)
    {
        string? unit = bias.Header.GetString("BUNIT")?.Trim();
        return unit?.ToLowerInvariant() switch
        {
            "electron" or "electrons" or "e-" => false,
            "adu" => true,
            _ => throw new IsrInputException("bias", "BUNIT", unit, "expected 'electron' or 'adu'"),
        };
    }
}
