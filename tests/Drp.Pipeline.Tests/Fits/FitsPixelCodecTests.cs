using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Tests.Fits;

public class FitsPixelCodecTests
{
    /// <summary>
    /// Every 16-bit value, in an order that puts each in every lane and a tail shorter than a vector: the vector path
    /// (BSCALE 1, integer BZERO, no BLANK) must give exactly the lookup table's value, and so must the table itself
    /// for a scaling the vector path does not take.
    /// </summary>
    [Theory]
    [InlineData(32768.0, 1.0, null)]   // unsigned 16-bit
    [InlineData(0.0, 1.0, null)]       // signed 16-bit
    [InlineData(-1000.0, 1.0, null)]
    [InlineData(32768.0, 1.0, 0L)]     // BLANK: the table
    [InlineData(1.5, 0.25, null)]      // scaled: the table
    public void Decode_SixteenBit_EveryStoredValueIsTheLookupTablesValue(double zero, double scale, long? blank)
    {
        var scaling = new FitsScaling(zero, scale, blank);
        var table = FitsPixelCodec.LookupTable(16, scaling)!;
        int count = 65536 + 13;
        var source = new byte[2 * count];
        var expected = new float[count];
        for (int k = 0; k < count; k++)
        {
            short stored = (short)(k * 40503); // a permutation of the 65536 values, then 13 more
            source[2 * k] = (byte)(stored >> 8);
            source[2 * k + 1] = (byte)stored;
            expected[k] = table[(ushort)stored ^ 0x8000];
        }
        var destination = new float[count + 3];

        FitsPixelCodec.Decode(source, destination, 3, count, 16, scaling, table);

        Assert.Equal(expected, destination[3..]);
        if (blank is { } b)
        {
            Assert.Contains(destination[3..], float.IsNaN);
            Assert.True(float.IsNaN(table[(int)b + 32768]));
        }
        else
        {
            Assert.Equal((float)(zero + scale * -32768), destination[3..].Min());
        }
    }
}
