using Drp.Core.Datasets;
using Drp.Core.Planning;

namespace Drp.Core.Tests;

/// <summary>A quantum's ledger key is (task, data id in the fixed dimension order) and reads back to the same quantum.</summary>
public sealed class QuantumKeyTests
{
    public static TheoryData<PlannedQuantum, string> Quanta => new()
    {
        { new("processFrame", new DataId("LSSTCam", 1000, 7, Band: "r")), "processFrame|instrument=LSSTCam/visit=1000/detector=7/band=r" },
        { new("consolidateSourceTable", new DataId("LSSTCam-sim", 12, Band: "g")), "consolidateSourceTable|instrument=LSSTCam-sim/visit=12/band=g" },
        { new("makeVisitTable", new DataId("LSSTCam")), "makeVisitTable|instrument=LSSTCam" },
        { new("assembleCoadd", new DataId("LSSTCam", Tract: 4431, Patch: 17, Band: "i")), "assembleCoadd|instrument=LSSTCam/tract=4431/patch=17/band=i" },
    };

    [Theory]
    [MemberData(nameof(Quanta))]
    public void Key_RoundTrips(PlannedQuantum quantum, string key)
    {
        Assert.Equal(key, quantum.Key);
        Assert.True(PlannedQuantum.TryParseKey(key, out var parsed));
        Assert.Equal(quantum, parsed);
    }

    [Theory]
    [InlineData("step1|visit=1|detector=2")]                          // the old step-1-shaped key
    [InlineData("processFrame|instrument=X/detector=2/visit=1")]       // out of the fixed order
    [InlineData("processFrame|instrument=X/visit=one")]
    [InlineData("processFrame|instrument=X/exposure=1")]
    [InlineData("processFrame|")]
    [InlineData("|instrument=X")]
    public void TryParseKey_NotAQuantumKey_IsFalse(string key) => Assert.False(PlannedQuantum.TryParseKey(key, out _));
}
