using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class PixelSectionTests
{
    [Fact]
    public void Parse_ForwardSection_GivesOneBasedBoundsAndSize()
    {
        var s = PixelSection.Parse("[5:132,1:128]");

        Assert.Equal(new PixelSection(5, 132, 1, 128), s);
        Assert.Equal((128, 128), (s.Width, s.Height));
        Assert.Equal((4, 131, 0, 127), (s.XMin, s.XMax, s.YMin, s.YMax));
        Assert.False(s.FlipX);
        Assert.False(s.FlipY);
        Assert.Equal(4, s.XAt(0));
    }

    [Fact]
    public void Parse_BackwardsSection_IsFlippedAndWalksDown()
    {
        var s = PixelSection.Parse(" [ 256:129 , 128:1 ] ");

        Assert.True(s.FlipX);
        Assert.True(s.FlipY);
        Assert.Equal((128, 128), (s.Width, s.Height));
        Assert.Equal((255, 254), (s.XAt(0), s.XAt(1)));
        Assert.Equal(128, s.XAt(127));
        Assert.Equal((127, 0), (s.YAt(0), s.YAt(127)));
        Assert.Equal("[256:129,128:1]", s.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("5:132,1:128")]
    [InlineData("[5:132]")]
    [InlineData("[0:10,1:10]")]
    [InlineData("[1:10,1:-3]")]
    [InlineData("[a:10,1:10]")]
    [InlineData("[1:10;1:10]")]
    public void TryParse_Malformed_ReturnsFalse(string text)
    {
        Assert.False(PixelSection.TryParse(text, out _));
        Assert.Throws<FormatException>(() => PixelSection.Parse(text));
    }

    [Fact]
    public void FitsWithin_SectionPastTheEdge_IsFalse()
    {
        Assert.True(PixelSection.Parse("[1:164,1:128]").FitsWithin(164, 128));
        Assert.False(PixelSection.Parse("[1:165,1:128]").FitsWithin(164, 128));
        Assert.False(PixelSection.Parse("[1:164,129:1]").FitsWithin(164, 128));
    }
}
