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

    /// <summary>
    /// Exact overlaps of a row of pixels with a circle: the area of the circle of radius <c>r</c> about the origin
    /// within [t0, t1] x [yl, yh] is <see cref="Cumulative"/>(t1) − Cumulative(t0), so a run of pixels needs one
    /// evaluation per pixel edge (at most one arcsine each) instead of the several of <see cref="CircleRectangle"/> per
    /// pixel. For yh &gt; 0 (a row at or above the centre's; mirror a row below it).
    /// </summary>
    public readonly struct RowBand
    {
        private readonly double _r, _yl, _yh, _ch, _cl, _gch, _gcl, _gr;

        public RowBand(double r, double yl, double yh)
        {
            _r = r;
            _yl = yl;
            _yh = yh;
            _gr = 0.25 * Math.PI * r * r;
            // Where the circle's upper arc crosses the band's edges (0 when it passes over an edge entirely).
            _ch = yh < r ? Math.Sqrt(r * r - yh * yh) : 0;
            _cl = Math.Abs(yl) < r ? Math.Sqrt(r * r - yl * yl) : 0;
            _gch = Primitive(r, _ch);
            _gcl = Primitive(r, _cl);
        }

        /// <summary>F(t) = the area of the circle within [0, t] x [yl, yh] (negative for t &lt; 0: F is odd).</summary>
        public double Cumulative(double t)
        {
            double a = Math.Abs(t);
            double f;
            if (_yl >= 0)
            {
                // Between the arc and yl: M_yh(t) − yl t up to where the arc falls below yl, constant beyond.
                if (_yl >= _r)
                {
                    return 0;
                }
                a = Math.Min(a, _cl);
                f = Capped(a, _yh, _ch, _gch) - _yl * a;
            }
            else
            {
                // The band holds the centre's height: the upper part to yh plus the lower part to −yl.
                f = Capped(a, _yh, _ch, _gch) + Capped(a, -_yl, _cl, _gcl);
            }
            return t < 0 ? -f : f;
        }

        /// <summary>M_Y(a) = ∫₀^a min(sqrt(r² − u²), Y) du for a ≥ 0 and Y ≥ 0, with c = sqrt(r² − Y²) (0 when Y ≥ r) and G(c).</summary>
        private double Capped(double a, double y, double c, double gc)
        {
            if (y >= _r)
            {
                return a >= _r ? _gr : Primitive(_r, a);
            }
            if (a <= c)
            {
                return y * a;
            }
            return y * c + (a >= _r ? _gr : Primitive(_r, a)) - gc;
        }
    }

    /// <summary>Integral of sqrt(r² - x²) from p to q.</summary>
    private static double Chord(double r, double p, double q) => Primitive(r, q) - Primitive(r, p);

    private static double Primitive(double r, double x)
    {
        double t = Math.Clamp(x / r, -1.0, 1.0);
        return 0.5 * (x * Math.Sqrt(Math.Max(0, r * r - x * x)) + r * r * Math.Asin(t));
    }
}
