using System.Runtime.Intrinsics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Sums of neighbouring pixels, for the binned first passes of background and detection.</summary>
internal static class PixelBinning
{
    private static readonly Vector256<int> Evens = Vector256.Create(0, 2, 4, 6, 0, 0, 0, 0);
    private static readonly Vector256<int> Odds = Vector256.Create(1, 3, 5, 7, 0, 0, 0, 0);

    /// <summary>The sums of the eight neighbouring pairs of the sixteen values <paramref name="lo"/>, <paramref name="hi"/>, in order.</summary>
    public static Vector256<float> SumPairs(Vector256<float> lo, Vector256<float> hi)
    {
        var even = Vector256.Create(Vector256.Shuffle(lo, Evens).GetLower(), Vector256.Shuffle(hi, Evens).GetLower());
        var odd = Vector256.Create(Vector256.Shuffle(lo, Odds).GetLower(), Vector256.Shuffle(hi, Odds).GetLower());
        return even + odd;
    }
}
