using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class IdsTests
{
    [Fact]
    public void CcdVisitIdPack_VisitAndDetector_IsVisitTimesThousandPlusDetector()
    {
        Assert.Equal(943296168L, CcdVisitId.Pack(943296, 168));
        Assert.Equal((943296L, 168), CcdVisitId.Unpack(943296168L));
    }

    [Theory]
    [InlineData(-1L, 0)]
    [InlineData(1L, 1000)]
    [InlineData(1L, -1)]
    [InlineData(CcdVisitId.MaxVisit + 1, 0)]
    public void CcdVisitIdPack_OutOfRange_Throws(long visit, int detector)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CcdVisitId.Pack(visit, detector));
    }

    [Fact]
    public void SourceIdPack_RoundTripsAndStaysPositiveAtTheLimits()
    {
        long ccd = CcdVisitId.Pack(CcdVisitId.MaxVisit, CcdVisitId.MaxDetector);

        long id = SourceId.Pack(ccd, SourceId.MaxIndex);

        Assert.True(id > 0);
        Assert.Equal((ccd, SourceId.MaxIndex), SourceId.Unpack(id));
        Assert.Throws<ArgumentOutOfRangeException>(() => SourceId.Pack(ccd, SourceId.MaxIndex + 1));
    }

    [Fact]
    public void SourceIdPack_NeighbouringDetectorsAndIndices_NeverCollide()
    {
        var ids = new HashSet<long>();
        foreach (long visit in new[] { 0L, 1L, 999L, 1000L })
        {
            foreach (int det in new[] { 0, 1, 999 })
            {
                foreach (int index in new[] { 0, 1, 1000, SourceId.MaxIndex })
                {
                    Assert.True(ids.Add(SourceId.Pack(CcdVisitId.Pack(visit, det), index)));
                }
            }
        }
    }

    [Fact]
    public void ColumnNames_SourceRecord_AreTheDp02Names()
    {
        var names = SourceRecord.ColumnNames;

        Assert.Equal(typeof(SourceRecord).GetProperties().Length - 1, names.Count);
        Assert.Equal(["sourceId", "ccdVisitId", "visit", "detector", "band", "coord_ra", "coord_dec", "x", "y"], names.Take(9));
        foreach (string c in new[] { "ap03Flux", "ap03FluxErr", "ap03Flux_flag", "ap12Flux", "ap25FluxErr", "calibFlux", "calibFluxErr",
            "ixx", "iyy", "ixy", "pixelFlags_saturated", "pixelFlags_edge", "pixelFlags_interpolated", "pixelFlags_bad" })
        {
            Assert.Contains(c, names);
        }
        Assert.Equal(names.Count, names.Distinct().Count());
        // The measured radii and the apNN columns are the same list.
        foreach (double r in Apertures.Radii)
        {
            Assert.Contains($"ap{r:00}Flux", names);
        }
        Assert.Equal(Apertures.Radii.Count, names.Count(n => n.StartsWith("ap", StringComparison.Ordinal) && n.EndsWith("Flux", StringComparison.Ordinal)));
        Assert.Equal(Apertures.CalibRadius, Apertures.Radii[Apertures.CalibIndex]);
        Assert.Contains("zeroPoint", CcdVisitSummary.ColumnNames);
        Assert.Contains("llcra", CcdVisitSummary.ColumnNames);
    }
}
