using System.Numerics;

namespace Drp.Pipeline.SingleFrame;

/// <summary>Vectorised questions about a row of mask bits, so clean rows can take a fast path.</summary>
internal static class MaskRows
{
    /// <summary>True when any value of <paramref name="mask"/> has any bit of <paramref name="planes"/>.</summary>
    public static bool AnyIn(ReadOnlySpan<ushort> mask, MaskPlane planes)
    {
        ushort bits = (ushort)planes;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vectorBits = new Vector<ushort>(bits);
            for (; i <= mask.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                if (!Vector.EqualsAll(new Vector<ushort>(mask[i..]) & vectorBits, Vector<ushort>.Zero))
                {
                    return true;
                }
            }
        }
        for (; i < mask.Length; i++)
        {
            if ((mask[i] & bits) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
