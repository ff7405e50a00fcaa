using System.Text.Json;

namespace Drp.Cli.Tests;

/// <summary><c>drp skymap</c> names DP0.2's tract and patch for a position and prints their geometry.</summary>
public sealed class SkymapCommandTests
{
    [Fact]
    public async Task Skymap_Dp02TutorialPosition_IsTract4431Patch17()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("skymap", "--ra", "55.745834", "--dec", "-32.269167");

        Assert.True(exit == 0, stderr);
        Assert.Contains("tract     4431:", stdout);
        Assert.Contains("patch     17 (3,2)", stdout);
        Assert.Contains("inner   x [12000, 16000)  y [8000, 12000)", stdout);
        Assert.Contains("outer   x [11900, 16100)  y [7900, 12100)", stdout);
    }

    [Fact]
    public async Task Skymap_Json_PositionLiesInTheInnerCornersAndPixel()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("skymap", "--ra", "150.1", "--dec", "2.2", "--json");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var inner = root.GetProperty("Inner");
        double x = root.GetProperty("TractPixelX").GetDouble(), y = root.GetProperty("TractPixelY").GetDouble();
        int x0 = inner.GetProperty("X0").GetInt32(), y0 = inner.GetProperty("Y0").GetInt32();
        Assert.InRange(x, x0 - 0.5, x0 + 4000 - 0.5);
        Assert.InRange(y, y0 - 0.5, y0 + 4000 - 0.5);
        var ras = root.GetProperty("InnerCornersRaDec").EnumerateArray().Select(c => c[0].GetDouble()).ToList();
        var decs = root.GetProperty("InnerCornersRaDec").EnumerateArray().Select(c => c[1].GetDouble()).ToList();
        Assert.InRange(150.1, ras.Min(), ras.Max());
        Assert.InRange(2.2, decs.Min(), decs.Max());
    }

    [Fact]
    public async Task Skymap_DeclinationOutOfRange_ExitsTwo()
    {
        var (exit, stdout, stderr) = await DrpProcess.RunDrpAsync("skymap", "--ra", "10", "--dec", "-91");

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("--dec must be in [-90, 90]", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
