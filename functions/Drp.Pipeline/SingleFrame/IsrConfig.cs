namespace Drp.Pipeline.SingleFrame;

/// <summary>How the per-row overscan level is taken from the BIASSEC columns of that row.</summary>
public enum OverscanStatistic
{
    /// <summary>Median of the row's overscan pixels (LSST's MEDIAN_PER_ROW).</summary>
    Median,
    /// <summary>Mean after 3-sigma clipping about the median.</summary>
    ClippedMean,
}

/// <summary>Configuration of <see cref="IsrTask"/>.</summary>
public sealed record IsrConfig
{
    public OverscanStatistic OverscanStatistic { get; init; } = OverscanStatistic.Median;

    /// <summary>Clipping threshold, in standard deviations, for <see cref="OverscanStatistic.ClippedMean"/>.</summary>
    public double OverscanClipSigma { get; init; } = 3.0;

    /// <summary>Half-width, in rows, of a running mean over the per-row overscan levels; 0 keeps them per row.</summary>
    public int OverscanSmoothingRows { get; init; }

    /// <summary>Flat values below this fraction of the flat's mean are unusable: the pixel is masked BAD.</summary>
    public double MinimumFlat { get; init; } = 0.05;

    /// <summary>Interpolate over saturated pixels as well as BAD ones (they keep SAT and gain INTRP).</summary>
    public bool InterpolateSaturated { get; init; } = true;
}
