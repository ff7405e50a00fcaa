using Drp.Pipeline.Coadd;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.Coadd;

public sealed class WarperTests
{
    private static (CalexpImage Calexp, PatchInfo Patch, CoaddTestData.Star[] Stars) RotatedScene(double scale, double rotation)
    {
        var patch = CoaddTestData.Patch;
        var (ra, dec) = patch.Wcs.PixelToSky(2100.3, 2099.8);
        // A grid of separate stars at random sub-pixel positions, well inside the calexp.
        var stars = new List<CoaddTestData.Star>();
        var rng = new Random(7);
        for (int i = 0; i < 12; i++)
        {
            double dra = ((i % 4) - 1.5) * 9 + rng.NextDouble(), ddec = ((i / 4) - 1) * 8 + rng.NextDouble();
            stars.Add(new CoaddTestData.Star(ra + dra / 3600.0 / Math.Cos(dec * Math.PI / 180), dec + ddec / 3600.0, 1e4 * (1 + i)));
        }
        var calexp = CoaddTestData.Calexp(ra, dec, stars, scale: scale, rotation: rotation, width: 400, height: 300, sigma: 2.2);
        return (calexp, patch, stars.ToArray());
    }

    [Theory]
    [InlineData(0.2, 0.0)]
    [InlineData(0.2, 33.0)]
    [InlineData(0.26, -71.0)]
    public void Warp_GaussianStars_ConservesFluxAndPlacesThemWithin0_01Pixel(double scale, double rotation)
    {
        var (calexp, patch, stars) = RotatedScene(scale, rotation);

        var warp = Warper.Warp(calexp, patch)!;

        foreach (var s in stars)
        {
            var (x, y) = patch.Wcs.SkyToPixel(s.Ra, s.Dec);
            double radius = 8 * 2.2 * scale / 0.2;
            var m = CoaddTestData.Moments(warp, x, y, radius);
            // Truth in nJy: electrons × NJYPERE; the aperture of 8σ holds all but e^-32 of a Gaussian.
            Assert.Equal(1.0, m.Flux / (s.FluxElectrons * calexp.NanojanskyPerElectron), 0.002);
            Assert.True(Math.Abs(m.X - x) < 0.01 && Math.Abs(m.Y - y) < 0.01, $"star at ({x:F3}, {y:F3}) found at ({m.X:F4}, {m.Y:F4})");
        }
    }

    [Fact]
    public void Warp_RotatedScaledCalexp_CarriesThePsfShapeOntoThePatchGrid()
    {
        var (calexp, patch, stars) = RotatedScene(0.26, 33.0);

        var warp = Warper.Warp(calexp, patch)!;

        var brightest = stars[^1];
        var (x, y) = patch.Wcs.SkyToPixel(brightest.Ra, brightest.Dec);
        var m = CoaddTestData.Moments(warp, x, y, 25);
        // A Gaussian of covariance C maps to A C Aᵀ, as the Moffat's Q does; Lanczos adds a little blur.
        double c = 2 * (warp.Psf.Beta - 2);
        Assert.Equal(m.Ixx, warp.Psf.Qxx / c, 0.02 * m.Ixx);
        Assert.Equal(m.Iyy, warp.Psf.Qyy / c, 0.02 * m.Iyy);
        Assert.Equal(m.Ixy, warp.Psf.Qxy / c, 0.02 * m.Ixx);
        Assert.Equal(2.2 * 1.3, Math.Sqrt(Math.Sqrt(warp.Psf.Qxx * warp.Psf.Qyy - warp.Psf.Qxy * warp.Psf.Qxy) / c), 0.01);
    }

    [Fact]
    public void Warp_ConstantVarianceAndABadPixel_PropagateThroughTheKernel()
    {
        var patch = CoaddTestData.Patch;
        var (ra, dec) = patch.Wcs.PixelToSky(2100, 2100);
        var calexp = CoaddTestData.Calexp(ra, dec, [], width: 200, height: 200, noise: 10);
        calexp.Mask[100 * 200 + 100] = (ushort)(MaskPlane.Bad | MaskPlane.Detected);

        var warp = Warper.Warp(calexp, patch)!;

        var b = warp.Box;
        // Same scale, no rotation: a pixel-shifted grid, so Σw² ≤ 1 and the variance is at most the input's.
        double f = calexp.NanojanskyPerElectron;
        var centre = (2100 - b.Y0) * b.Width + (2100 - b.X0);
        Assert.InRange(warp.Variance[centre], 0.2 * 100 * f * f, 1.0001 * 100 * f * f);
        int badPixels = warp.Mask.Count(m => (m & (ushort)MaskPlane.Bad) != 0);
        Assert.InRange(badPixels, 25, 36);
        Assert.DoesNotContain(warp.Mask, m => (m & (ushort)MaskPlane.Detected) != 0);
    }

    [Fact]
    public void Warp_PixelsWhoseTapsLeaveTheCalexp_AreNaNAndNoData()
    {
        var patch = CoaddTestData.Patch;
        var (ra, dec) = patch.Wcs.PixelToSky(2100, 2100);
        var calexp = CoaddTestData.Calexp(ra, dec, [], width: 200, height: 200, rotation: 20, noise: 10);

        var warp = Warper.Warp(calexp, patch)!;

        var map = new PixelMapping(patch.Wcs, calexp.Wcs, warp.Box, 1);
        int valid = 0;
        for (int y = 0; y < warp.Box.Height; y++)
        {
            for (int x = 0; x < warp.Box.Width; x++)
            {
                int o = y * warp.Box.Width + x;
                var (u, v, _) = map.At(warp.Box.X0 + x, warp.Box.Y0 + y);
                bool inside = Warper.TapsInside(u, v, 200, 200);
                Assert.Equal(inside, float.IsFinite(warp.Image[o]));
                Assert.Equal(!inside, (warp.Mask[o] & (ushort)MaskPlane.NoData) != 0);
                valid += inside ? 1 : 0;
            }
        }
        // The valid region is the calexp shrunk by the kernel's reach: (200 − 5)² of its pixels.
        Assert.Equal(195.0 * 195.0, valid, 0.02 * 195 * 195);
    }

    [Fact]
    public void Warp_CalexpOffThePatch_ReturnsNull()
    {
        var patch = CoaddTestData.Patch;
        var (ra, dec) = patch.Wcs.PixelToSky(-3000, 2100);

        Assert.Null(Warper.Warp(CoaddTestData.Calexp(ra, dec, []), patch));
    }

    [Fact]
    public void Weights_AnyFraction_ReproduceConstantsAndRampsAndInterpolateExactlyAtZero()
    {
        Span<float> w = stackalloc float[6];
        for (double f = 0; f <= 1.0; f += 0.0625)
        {
            Warper.Weights(f, w);
            double sum = 0, ramp = 0;
            for (int i = 0; i < 6; i++)
            {
                sum += w[i];
                ramp += w[i] * (i - 2);
            }
            Assert.Equal(1.0, sum, 1e-6);
            // A linear ramp is interpolated exactly, so centroids do not move.
            Assert.Equal(f, ramp, 1e-5);
        }
        Warper.Weights(0, w);
        Assert.Equal([0f, 0f, 1f, 0f, 0f, 0f], w.ToArray());
    }
}
