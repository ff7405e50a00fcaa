using Drp.Pipeline.Coadd;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.Coadd;

public sealed class CoaddAssemblerTests
{
    private const double Noise = 10.0;

    private static (PatchInfo Patch, List<CalexpImage> Calexps, CoaddTestData.Star[] Stars) Survey(Action<CalexpImage>? transient = null) =>
        CoaddTestData.Survey(Noise, transient);

    private static Drp.Pipeline.Coadd.Coadd Assemble(PatchInfo patch, List<CalexpImage> calexps, IEnumerable<Warp>? warps = null) =>
        CoaddAssembler.Assemble(patch, "r", calexps.Select(c => c.Geometry).ToList(),
            (warps ?? calexps.Select(c => Warper.Warp(c, patch)!)).ToList());

    private static (int X, int Y) Centre(PatchInfo patch, CalexpImage c, double u, double v)
    {
        var (ra, dec) = c.Wcs.PixelToSky(u, v);
        var (x, y) = patch.Wcs.SkyToPixel(ra, dec);
        return ((int)Math.Round(x), (int)Math.Round(y));
    }

    [Fact]
    public void Assemble_CosmicRayInOneVisit_IsClippedAndTheCoaddStaysAtTheSky()
    {
        var (patch, calexps, _) = Survey(c =>
        {
            // A 3-pixel cosmic ray of 5000 e- per pixel in empty sky, not flagged CR by step 1.
            for (int d = 0; d < 3; d++)
            {
                c.Image[(40 + d) * c.Width + 200 + d] += 5000;
            }
        });
        var (cx, cy) = Centre(patch, calexps[3], 201, 41);

        var coadd = Assemble(patch, calexps);

        int o = cy * coadd.Width + cx;
        Assert.True((coadd.Mask[o] & (ushort)MaskPlane.Clipped) != 0, $"mask {coadd.Mask[o]:X}");
        Assert.Equal(5, coadd.NImage[o]);
        // The sky is 0; with five inputs the coadd's σ is ~ Noise × NJYPERE / √5 at most.
        Assert.True(Math.Abs(coadd.Image[o]) < 5 * Math.Sqrt(coadd.Variance[o]), $"coadd {coadd.Image[o]} ± {Math.Sqrt(coadd.Variance[o])}");
        var input = coadd.Inputs.Single(i => i.Visit == 1003);
        Assert.Equal(1, input.ClippedFootprints);
        Assert.All(coadd.Inputs.Where(i => i.Visit != 1003), i => Assert.Equal(0, i.ClippedFootprints));
    }

    [Fact]
    public void Assemble_SatelliteTrailInOneVisit_IsClippedAlongItsLength()
    {
        var (patch, calexps, _) = Survey(c =>
        {
            // A 2-pixel-wide trail across the whole detector, 300 e- per pixel (30σ per pixel).
            for (int u = 0; u < c.Width; u++)
            {
                int v = 20 + u / 4;
                c.Image[v * c.Width + u] += 300;
                c.Image[(v + 1) * c.Width + u] += 300;
            }
        });

        var coadd = Assemble(patch, calexps);

        int clippedOnTrail = 0, onTrail = 0;
        for (int u = 20; u < 280; u += 10)
        {
            var (x, y) = Centre(patch, calexps[3], u, 20 + u / 4 + 0.5);
            onTrail++;
            clippedOnTrail += (coadd.Mask[y * coadd.Width + x] & (ushort)MaskPlane.Clipped) != 0 ? 1 : 0;
        }
        Assert.True(clippedOnTrail >= onTrail - 2, $"{clippedOnTrail} of {onTrail} trail samples clipped");
    }

    [Fact]
    public void Assemble_StarsInEveryVisit_AreNotClippedAndKeepTheirFlux()
    {
        var (patch, calexps, stars) = Survey();

        var coadd = Assemble(patch, calexps);

        Assert.All(coadd.Inputs, i => Assert.Equal(0, i.ClippedPixels));
        foreach (var s in stars)
        {
            var (x, y) = patch.Wcs.SkyToPixel(s.Ra, s.Dec);
            double sum = 0;
            for (int py = (int)y - 12; py <= (int)y + 12; py++)
            {
                for (int px = (int)x - 12; px <= (int)x + 12; px++)
                {
                    sum += coadd.Image[py * coadd.Width + px];
                }
            }
            // 25 × 25 px of noise at σ ≈ 2.2 nJy per pixel adds ≈ 55 nJy of scatter to ≥ 1e4 nJy.
            Assert.Equal(1.0, sum / (s.FluxElectrons * 0.5), 0.02);
        }
        // The per-pixel variance is the inverse-variance mean's: about Noise² f² / 6 in the middle.
        int c = 2100 * coadd.Width + 2100;
        Assert.Equal(6, coadd.NImage[c]);
        Assert.InRange(coadd.Variance[c], 0.3 * 25.0 / 6, 1.05 * 25.0 / 6);
    }

    [Fact]
    public void Assemble_InputWithNoWarp_FailsNamingIt()
    {
        var (patch, calexps, _) = Survey();
        var warps = calexps.Where(c => c.Visit != 1004).Select(c => Warper.Warp(c, patch)!);

        var e = Assert.Throws<CoverageHoleException>(() => Assemble(patch, calexps, warps));

        Assert.Equal(["visit 1004 detector 7"], e.Inputs);
    }

    [Fact]
    public void Assemble_WarpWithUnreadPixels_FailsWithTheCountAndTheInput()
    {
        var (patch, calexps, _) = Survey();
        var warps = calexps.Select(c => Warper.Warp(c, patch)!).ToList();
        // A skipped read: a 20 × 10 block of one warp is NaN and only NO_DATA, though the calexp covered it.
        var w = warps[2];
        int x0 = w.Box.Width / 2, y0 = w.Box.Height / 2;
        for (int y = y0; y < y0 + 10; y++)
        {
            for (int x = x0; x < x0 + 20; x++)
            {
                w.Image[y * w.Box.Width + x] = float.NaN;
                w.Mask[y * w.Box.Width + x] = (ushort)MaskPlane.NoData;
            }
        }

        var e = Assert.Throws<CoverageHoleException>(() => Assemble(patch, calexps, warps));

        Assert.Equal(200, e.Pixels);
        Assert.Equal(["visit 1002 detector 7 (200 px)"], e.Inputs);
    }

    [Fact]
    public void Assemble_SaturatedPixelsInOneVisit_AreExplainedNotHoles()
    {
        var (patch, calexps, _) = Survey(c =>
        {
            for (int u = 100; u < 110; u++)
            {
                c.Image[150 * c.Width + u] = float.NaN;
                c.Mask[150 * c.Width + u] = (ushort)MaskPlane.Saturated;
            }
        });

        var coadd = Assemble(patch, calexps);

        var (x, y) = Centre(patch, calexps[3], 105, 150);
        int o = y * coadd.Width + x;
        Assert.Equal(5, coadd.NImage[o]);
        Assert.True(float.IsFinite(coadd.Image[o]));
    }

    [Fact]
    public void Assemble_EdgeOfOneInput_IsSensorEdgeAndOutsideEveryInputIsNoData()
    {
        var (patch, calexps, _) = Survey();

        var coadd = Assemble(patch, calexps);

        Assert.Equal((ushort)MaskPlane.NoData, coadd.Mask[0]);
        Assert.True(float.IsNaN(coadd.Image[0]));
        Assert.Contains(coadd.Mask, m => (m & (ushort)MaskPlane.SensorEdge) != 0 && (m & (ushort)MaskPlane.NoData) == 0);
        Assert.Equal(6, coadd.Inputs.Count);
        var psf = coadd.Psf.At(2100, 2100);
        Assert.InRange(psf.Sigma, 1.8 * 1.0, 2.3 * 1.2);
    }

    [Theory]
    [InlineData(6, 2.18)]
    [InlineData(10, 2.3)]
    [InlineData(4, 1.6)]
    public void MaxTransientEpochs_IsDmtn080sRule(int n, double expected) =>
        Assert.Equal(expected, CoaddConfig.MaxTransientEpochs(n), 9);
}
