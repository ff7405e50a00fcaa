namespace Drp.Pipeline.Simulation;

/// <summary>
/// Nominal LSST band properties used by the simulator: the AB magnitude that gives 1 electron per second (throughput
/// zero point, SMTN-002), the dark-sky brightness in AB mag per square arcsecond (SMTN-002), the vignetting depth
/// at the focal-plane corner, and the FILTER name written to raws.
/// </summary>
public sealed record BandInfo(string Band, string Filter, double ZeroPointMag, double SkyMagPerArcsec2, double VignettingDepth)
{
    /// <summary>AB magnitude of a flux of 1 nJy (DP0.2: m = −2.5 log10(f / nJy) + 31.4).</summary>
    public const double NanojanskyZeroPointMag = 31.4;

    /// <summary>The six LSST bands, u to y.</summary>
    public static IReadOnlyList<BandInfo> All { get; } =
    [
        new("u", "u_sim_1.4", 26.52, 23.05, 0.20),
        new("g", "g_sim_1.4", 28.51, 22.25, 0.17),
        new("r", "r_sim_1.4", 28.36, 21.20, 0.15),
        new("i", "i_sim_1.4", 28.17, 20.46, 0.13),
        new("z", "z_sim_1.4", 27.78, 19.61, 0.12),
        new("y", "y_sim_1.4", 26.82, 18.60, 0.11),
    ];

    /// <summary>The band called <paramref name="band"/> (u, g, r, i, z or y).</summary>
    public static BandInfo Get(string band) =>
        All.FirstOrDefault(b => b.Band == band) ?? throw new ArgumentException($"unknown band '{band}': expected one of u, g, r, i, z, y", nameof(band));

    /// <summary>Flux in nJy of an AB magnitude.</summary>
    public static double MagToNanojansky(double mag) => Math.Pow(10.0, -0.4 * (mag - NanojanskyZeroPointMag));

    /// <summary>AB magnitude of a flux in nJy.</summary>
    public static double NanojanskyToMag(double flux) => -2.5 * Math.Log10(flux) + NanojanskyZeroPointMag;
}
