namespace Drp.Pipeline.SingleFrame;

/// <summary>Configuration of <see cref="CosmicRayFinder"/> (LSST's findCosmicRays names in brackets).</summary>
public sealed record CosmicRayConfig
{
    /// <summary>A cosmic-ray pixel is at least this many sigma above the background [minSigma].</summary>
    public double MinSigma { get; init; } = 6.0;

    /// <summary>Noise allowance, in sigma, on both sides of the sharpness test [cond3_fac].</summary>
    public double NoiseFactor { get; init; } = 2.5;

    /// <summary>Neighbours of a cosmic-ray pixel above this many sigma join it (the track's fainter edges).</summary>
    public double GrowSigma { get; init; } = 2.0;

    /// <summary>Find and repair cosmic rays at all.</summary>
    public bool Enabled { get; init; } = true;
}

/// <summary>
/// Cosmic-ray detection and repair on a background-subtracted exposure, given the PSF: a pixel is a cosmic ray when
/// it is significant and sharper than the PSF allows — for some pair of opposite neighbours (row, column or a
/// diagonal), (I − k σ) · PSF(d)/PSF(0) still exceeds the pair's mean plus k times its noise (LSST's criterion). Found
/// pixels, grown into their significant neighbours, get the CR mask plane and are replaced by linear interpolation
/// along the row (INTRP). Saturated and NO_DATA pixels are never cosmic rays.
/// </summary>
public static class CosmicRayFinder
{
    /// <summary>Marks and repairs cosmic rays in place; returns the number of pixels repaired.</summary>
    public static int FindAndRepair(Exposure exposure, MoffatPsf psf, CosmicRayConfig config)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        ArgumentNullException.ThrowIfNull(psf);
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Enabled)
        {
            return 0;
        }
        int w = exposure.Width, h = exposure.Height;
        var img = exposure.Image;
        var var = exposure.Variance;
        var mask = exposure.Mask;
        var eval = psf.CreateEvaluator();
        double p0 = eval[0, 0];
        float ratioSide = (float)(eval[1, 0] / p0), ratioUp = (float)(eval[0, 1] / p0);
        float ratioDiag1 = (float)(eval[1, 1] / p0), ratioDiag2 = (float)(eval[1, -1] / p0);
        float k = (float)config.NoiseFactor, minSigma = (float)config.MinSigma;
        const ushort never = (ushort)(MaskPlane.Saturated | MaskPlane.NoData);

        var found = new List<int>[h];
        Parallel.For(1, h - 1, y =>
        {
            List<int>? rowFound = null;
            int row = y * w;
            for (int x = 1; x < w - 1; x++)
            {
                int i = row + x;
                float c = img[i], vc = var[i];
                if (!(vc > 0) || c < minSigma * MathF.Sqrt(vc) || (mask[i] & never) != 0)
                {
                    continue;
                }
                float core = c - k * MathF.Sqrt(vc);
                if (Sharper(core, ratioSide, img, var, i - 1, i + 1, k)
                    || Sharper(core, ratioUp, img, var, i - w, i + w, k)
                    || Sharper(core, ratioDiag1, img, var, i - w - 1, i + w + 1, k)
                    || Sharper(core, ratioDiag2, img, var, i - w + 1, i + w - 1, k))
                {
                    (rowFound ??= []).Add(i);
                }
            }
            found[y] = rowFound!;
        });

        int count = 0;
        float grow = (float)config.GrowSigma;
        foreach (var rowFound in found)
        {
            if (rowFound is null)
            {
                continue;
            }
            foreach (int i in rowFound)
            {
                int x = i % w, y = i / w;
                for (int yy = Math.Max(0, y - 1); yy <= Math.Min(h - 1, y + 1); yy++)
                {
                    for (int xx = Math.Max(0, x - 1); xx <= Math.Min(w - 1, x + 1); xx++)
                    {
                        int j = yy * w + xx;
                        bool centre = j == i;
                        if ((mask[j] & (ushort)MaskPlane.CosmicRay) == 0 && (mask[j] & never) == 0
                            && (centre || img[j] > grow * MathF.Sqrt(Math.Max(var[j], 0f))))
                        {
                            mask[j] |= (ushort)MaskPlane.CosmicRay;
                            count++;
                        }
                    }
                }
            }
        }
        if (count > 0)
        {
            RowInterpolation.Apply(img, var, mask, w, h, MaskPlane.CosmicRay);
        }
        return count;
    }

    /// <summary>Is the centre (less its noise allowance), scaled by the PSF's fall-off to distance d, above the pair's mean plus noise?</summary>
    private static bool Sharper(float core, float psfRatio, float[] img, float[] var, int a, int b, float k)
    {
        float mean = 0.5f * (img[a] + img[b]);
        float noise = 0.5f * MathF.Sqrt(Math.Max(var[a] + var[b], 0f));
        return core * psfRatio > mean + k * noise;
    }
}
