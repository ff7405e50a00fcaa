using Drp.Pipeline.Coadd;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Tests.Coadd;

public sealed class RingsSkyMapTests
{
    private static readonly RingsSkyMap Map = RingsSkyMap.Dc2;

    [Fact]
    public void FindTract_Dp02TutorialPosition_IsTract4431Patch17()
    {
        // DP0.2's tutorials cut their deepCoadd of this position from tract 4431, patch 17.
        var tract = Map.FindTract(CoaddTestData.Ra, CoaddTestData.Dec);
        var patch = tract.FindPatch(CoaddTestData.Ra, CoaddTestData.Dec);

        Assert.Equal(4431, tract.Id);
        Assert.NotNull(patch);
        Assert.Equal(17, patch.Index);
        Assert.Equal((7, 7), (tract.PatchesX, tract.PatchesY));
    }

    [Fact]
    public void Dc2_HasRubinsTractCountAndGeometry()
    {
        var tract = Map.Tract(4431);

        // lsst.skymap's DC2 rings map (120 rings) numbers its tracts 0 .. 18937.
        Assert.Equal(18938, Map.TractCount);
        Assert.Equal(28000, tract.Box.Width);
        Assert.Equal(0.2, tract.Wcs.PixelScaleArcsec, 9);
        var patch = tract.Patch(3, 3);
        Assert.Equal(new PixelBox(12000, 12000, 4000, 4000), patch.Inner);
        Assert.Equal(new PixelBox(11900, 11900, 4200, 4200), patch.Outer);
        // An edge patch's outer box is clipped at the tract's edge.
        Assert.Equal(new PixelBox(0, 0, 4100, 4100), tract.Patch(0).Outer);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4431)]
    [InlineData(9000)]
    [InlineData(18936)]
    public void FindTract_TractCentre_ReturnsTheTract(int id)
    {
        var tract = Map.Tract(id);

        Assert.Equal(id, Map.FindTract(tract.CentreRa, tract.CentreDec).Id);
        var (x, y) = tract.Wcs.SkyToPixel(tract.CentreRa, tract.CentreDec);
        Assert.Equal(tract.Box.Width / 2.0 - 0.5, x, 0.51);
        Assert.Equal(tract.Box.Height / 2.0 - 0.5, y, 0.51);
    }

    [Fact]
    public void FindPatch_EveryPatchCentre_RoundTripsToItsIndex()
    {
        var tract = Map.Tract(4431);
        for (int index = 0; index < tract.PatchCount; index++)
        {
            var patch = tract.Patch(index);
            var (ra, dec) = tract.Wcs.PixelToSky(patch.Inner.X0 + 1999.5, patch.Inner.Y0 + 1999.5);

            Assert.Equal(index, tract.FindPatch(ra, dec)!.Index);
            // The patch WCS puts the same point at the same place in its own pixels.
            var (px, py) = patch.Wcs.SkyToPixel(ra, dec);
            Assert.Equal(patch.Inner.X0 - patch.Outer.X0 + 1999.5, px, 6);
            Assert.Equal(patch.Inner.Y0 - patch.Outer.Y0 + 1999.5, py, 6);
        }
    }

    [Fact]
    public void PatchesOverlapping_DetectorAcrossAPatchCorner_ReturnsTheFourPatches()
    {
        var tract = Map.Tract(4431);
        var corner = tract.Patch(3, 3).Inner;
        var (ra, dec) = tract.Wcs.PixelToSky(corner.X0 - 0.5, corner.Y0 - 0.5);
        var wcs = TanWcs.Create(ra, dec, 0.2, 17, 4072, 4000);
        (double, double)[] corners = [wcs.PixelToSky(-0.5, -0.5), wcs.PixelToSky(4071.5, -0.5), wcs.PixelToSky(4071.5, 3999.5), wcs.PixelToSky(-0.5, 3999.5)];

        var patches = Map.PatchesOverlapping(corners).Where(p => p.Tract.Id == 4431).Select(p => p.Index).Order().ToArray();

        Assert.Equal([16, 17, 23, 24], patches);
    }

    [Fact]
    public void PatchesOverlapping_NearATractEdge_IncludesTheNeighbouringTract()
    {
        var tract = Map.Tract(4431);
        var (ra, dec) = tract.Wcs.PixelToSky(100, 14000);
        var wcs = TanWcs.Create(ra, dec, 0.2, 0, 4072, 4000);
        (double, double)[] corners = [wcs.PixelToSky(-0.5, -0.5), wcs.PixelToSky(4071.5, -0.5), wcs.PixelToSky(4071.5, 3999.5), wcs.PixelToSky(-0.5, 3999.5)];

        var tracts = Map.PatchesOverlapping(corners).Select(p => p.Tract.Id).Distinct().ToArray();

        Assert.Contains(4431, tracts);
        Assert.True(tracts.Length >= 2, $"tracts {string.Join(", ", tracts)}");
    }

    [Fact]
    public void Tract_OutOfRange_ThrowsNamingTheRange()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Map.Tract(18938));

        Assert.Contains("0 to 18937", e.Message);
    }
}
