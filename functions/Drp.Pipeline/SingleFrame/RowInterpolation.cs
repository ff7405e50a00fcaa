namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// Replaces masked pixels by linear interpolation along their row between the nearest usable pixels on either side
/// (the single usable side is copied at a row end). Interpolated pixels gain INTRP; a row with no usable pixel
/// leaves them at zero with NO_DATA.
/// </summary>
public static class RowInterpolation
{
    public static void Apply(float[] image, float[] variance, ushort[] mask, int width, int height, MaskPlane planes)
    {
        ushort bits = (ushort)planes;
        ushort unusable = (ushort)(bits | (ushort)MaskPlane.NoData);
        for (int y = 0; y < height; y++)
        {
            int row = y * width;
            int x = 0;
            while (x < width)
            {
                ushort m = mask[row + x];
                if ((m & bits) == 0 || (m & (ushort)MaskPlane.NoData) != 0)
                {
                    x++;
                    continue;
                }
                int end = x;
                while (end < width && (mask[row + end] & bits) != 0 && (mask[row + end] & (ushort)MaskPlane.NoData) == 0)
                {
                    end++;
                }
                int left = x - 1, right = end;
                bool hasLeft = left >= 0 && (mask[row + left] & unusable) == 0;
                bool hasRight = right < width && (mask[row + right] & unusable) == 0;
                for (int k = x; k < end; k++)
                {
                    int i = row + k;
                    if (hasLeft && hasRight)
                    {
                        float t = (float)(k - left) / (right - left);
                        image[i] = image[row + left] + t * (image[row + right] - image[row + left]);
                        variance[i] = variance[row + left] + t * (variance[row + right] - variance[row + left]);
                        mask[i] |= (ushort)MaskPlane.Interpolated;
                    }
                    else if (hasLeft || hasRight)
                    {
                        int src = row + (hasLeft ? left : right);
                        image[i] = image[src];
                        variance[i] = variance[src];
                        mask[i] |= (ushort)MaskPlane.Interpolated;
                    }
                    else
                    {
                        image[i] = 0f;
                        variance[i] = 0f;
                        mask[i] |= (ushort)MaskPlane.NoData;
                    }
                }
                x = end;
            }
        }
    }
}
