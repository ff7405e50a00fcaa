namespace Drp.Pipeline.SingleFrame;

/// <summary>Exact area of the intersection of a circle with an axis-aligned rectangle (a pixel).</summary>
public static class ApertureOverlap
{
    /// <summary>
    /// Area of the circle of radius <paramref name="r"/> centred on the origin within [x0, x1] x [y0, y1].
    /// </summary>
    public static double CircleRectangle(double r, double x0, double x1, double y0, double y1)
    {
        double a = Math.Max(x0, -r), b = Math.Min(x1, r);
        if (a >= b || y0 >= r || y1 <= -r || y0 >= y1)
        {
            return 0.0;
        }
        // Break [a, b] where the circle crosses y0 or y1; on each piece the bounds are the circle or a constant.
        Span<double> cuts = stackalloc double[6];
        int n = 0;
        cuts[n++] = a;
        AddCuts(cuts, ref n, r, y0, a, b);
        AddCuts(cuts, ref n, r, y1, a, b);
        cuts[n++] = b;
        // At most six cuts: an insertion sort, without the general sort's set-up.
        for (int i = 1; i < n; i++)
        {
            double c = cuts[i];
            int j = i - 1;
            for (; j >= 0 && cuts[j] > c; j--)
            {
                cuts[j + 1] = cuts[j];
            }
            cuts[j + 1] = c;
        }
        double area = 0;
        for (int i = 0; i + 1 < n; i++)
        {
            double p = cuts[i], q = cuts[i + 1];
            if (q <= p)
            {
                continue;
            }
            double mid = 0.5 * (p + q);
            double hMid = Math.Sqrt(Math.Max(0, r * r - mid * mid));
            bool upperIsCircle = hMid < y1;
            bool lowerIsCircle = -hMid > y0;
            double chord = upperIsCircle || lowerIsCircle ? Chord(r, p, q) : 0;
            double upper = upperIsCircle ? chord : y1 * (q - p);
            double lower = lowerIsCircle ? -chord : y0 * (q - p);
            double upperMid = upperIsCircle ? hMid : y1, lowerMid = lowerIsCircle ? -hMid : y0;
            if (upperMid > lowerMid)
            {
                area += upper - lower;
            }
        }
        return area;
    }

    private static void AddCuts(Span<double> cuts, ref int n, double r, double y, double a, double b)
    {
        if (Math.Abs(y) <= r)
        {
            double c = Math.Sqrt(r * r - y * y);
            if (c > a && c < b) { cuts[n++] = c; }
            if (-c > a && -c < b) { cuts[n++] = -c; }
        }
    }

    /// <summary>The fraction of the unit pixel centred at (dx, dy) from the circle's centre that lies inside radius r.</summary>
    public static double PixelFraction(double r, double dx, double dy)
    {
        double ax = Math.Abs(dx), ay = Math.Abs(dy);
        double nearX = Math.Max(0, ax - 0.5), nearY = Math.Max(0, ay - 0.5);
        if (nearX * nearX + nearY * nearY >= r * r)
        {
            return 0.0;
        }
        double farX = ax + 0.5, farY = ay + 0.5;
        if (farX * farX + farY * farY <= r * r)
        {
            return 1.0;
        }
        return CircleRectangle(r, ax - 0.5, ax + 0.5, ay - 0.5, ay + 0.5);
    }

    /// <summary>Integral of sqrt(r² - x²) from p to q.</summary>
    private static double Chord(double r, double p, double q) => Primitive(r, q) - Primitive(r, p);

    private static double Primitive(double r, double x)
    {
        double t = Math.Clamp(x / r, -1.0, 1.0);
        return 0.5 * (x * Math.Sqrt(Math.Max(0, r * r - x * x)) + r * r * Math.Asin(t));
    }
}
