using Drp.Core.Datasets;

namespace Drp.Storage.Tests;

public sealed class DatasetPathsTests
{
    [Fact]
    public void For_CalexpDataId_PathCarriesCollectionTypeAndDimensionsInFixedOrder()
    {
        var path = DatasetPaths.For(DatasetType.Calexp, new DataId("LSSTCam", Visit: 1234, Detector: 7), "run1");
        Assert.Equal("run1/calexp/instrument=LSSTCam/visit=1234/detector=007/calexp_LSSTCam_1234_007.fits", path);
    }

    [Fact]
    public void For_DifferentRuns_GiveDifferentPaths()
    {
        var id = new DataId("LSSTCam", 1, 2);
        Assert.NotEqual(DatasetPaths.For(DatasetType.SourceTable, id, "a"), DatasetPaths.For(DatasetType.SourceTable, id, "b"));
    }

    [Fact]
    public void For_MissingDimension_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetPaths.For(DatasetType.Calexp, new DataId("LSSTCam", Visit: 1), "run"));
        Assert.Contains("detector", e.Message);
    }

    [Fact]
    public void For_ExtraDimension_Throws() =>
        Assert.Throws<ArgumentException>(() => DatasetPaths.For(DatasetType.Bias, new DataId("LSSTCam", Visit: 1, Detector: 2), "calib"));

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("/abs")]
    public void For_BadCollection_Throws(string collection) =>
        Assert.ThrowsAny<ArgumentException>(() => DatasetPaths.For(DatasetType.RefCat, new DataId("LSSTCam"), collection));
}
