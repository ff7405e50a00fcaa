using System.Globalization;
using System.Net;
using System.Text;

namespace Drp.Cli.Report;

/// <summary>A linear map from data values to SVG coordinates (reversed when <c>ToMin &gt; ToMax</c>).</summary>
internal readonly record struct LinearScale(double Min, double Max, double ToMin, double ToMax)
{
    public double Map(double v) => Max == Min ? 0.5 * (ToMin + ToMax) : ToMin + (v - Min) / (Max - Min) * (ToMax - ToMin);

    /// <summary>About <paramref name="count"/> round tick values (1, 2 or 5 times a power of ten) inside [Min, Max].</summary>
    public IReadOnlyList<double> Ticks(int count = 6)
    {
        double lo = Math.Min(Min, Max), hi = Math.Max(Min, Max);
        if (!(hi > lo) || !double.IsFinite(hi - lo))
        {
            return [lo];
        }
        double raw = (hi - lo) / Math.Max(1, count);
        double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double m = raw / power;
        double step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
        var ticks = new List<double>();
        double first = Math.Ceiling(lo / step - 1e-9);
        for (int k = 0; k < 100; k++)
        {
            double t = (first + k) * step;
            if (t > hi + step * 1e-9)
            {
                break;
            }
            ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : Math.Round(t, 12));
        }
        return ticks;
    }
}

/// <summary>
/// A small SVG chart: a fixed canvas with a plot area, axes with round ticks, and marks (rect, circle, polygon, line)
/// each with an optional tooltip (<c>&lt;title&gt;</c>). The output is inline SVG: no scripts, no external resources.
/// </summary>
internal sealed class SvgChart
{
    private readonly StringBuilder _marks = new();
    private readonly StringBuilder _axes = new();

    public SvgChart(string id, string title, double width = 640, double height = 420, double left = 70, double right = 20, double top = 36, double bottom = 56)
    {
        Id = id;
        Title = title;
        Width = width;
        Height = height;
        Left = left;
        Right = width - right;
        Top = top;
        Bottom = height - bottom;
    }

    public string Id { get; }

    public string Title { get; }

    public double Width { get; }

    public double Height { get; }

    /// <summary>The plot area's edges in SVG coordinates.</summary>
    public double Left { get; }

    public double Right { get; }

    public double Top { get; }

    public double Bottom { get; }

    public LinearScale XScale(double min, double max, bool reversed = false) =>
        reversed ? new LinearScale(min, max, Right, Left) : new LinearScale(min, max, Left, Right);

    public LinearScale YScale(double min, double max) => new(min, max, Bottom, Top);

    /// <summary>Axis frame, tick marks and labels, and the axis titles; <paramref name="xTicks"/> or <paramref name="yTicks"/> false leave those ticks to the caller (categories).</summary>
    public void Axes(LinearScale x, LinearScale y, string xLabel, string yLabel, Func<double, string>? xFormat = null, Func<double, string>? yFormat = null, bool xTicks = true, bool yTicks = true)
    {
        _axes.Append(CultureInfo.InvariantCulture, $"<g class=\"axes\" stroke=\"#444\" fill=\"none\"><rect x=\"{F(Left)}\" y=\"{F(Top)}\" width=\"{F(Right - Left)}\" height=\"{F(Bottom - Top)}\"/></g>");
        if (xTicks)
        {
            foreach (double t in x.Ticks())
            {
                double px = x.Map(t);
                _axes.Append(CultureInfo.InvariantCulture, $"<line class=\"tick\" x1=\"{F(px)}\" y1=\"{F(Bottom)}\" x2=\"{F(px)}\" y2=\"{F(Bottom + 5)}\" stroke=\"#444\"/>");
                _axes.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(px)}\" y=\"{F(Bottom + 18)}\" text-anchor=\"middle\" font-size=\"11\">{Esc((xFormat ?? Number)(t))}</text>");
            }
        }
        foreach (double t in yTicks ? y.Ticks() : [])
        {
            double py = y.Map(t);
            _axes.Append(CultureInfo.InvariantCulture, $"<line class=\"tick\" x1=\"{F(Left - 5)}\" y1=\"{F(py)}\" x2=\"{F(Left)}\" y2=\"{F(py)}\" stroke=\"#444\"/>");
            _axes.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left - 8)}\" y=\"{F(py + 4)}\" text-anchor=\"end\" font-size=\"11\">{Esc((yFormat ?? Number)(t))}</text>");
        }
        _axes.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(0.5 * (Left + Right))}\" y=\"{F(Height - 12)}\" text-anchor=\"middle\" font-size=\"12\">{Esc(xLabel)}</text>");
        _axes.Append(CultureInfo.InvariantCulture, $"<text x=\"14\" y=\"{F(0.5 * (Top + Bottom))}\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 {F(0.5 * (Top + Bottom))})\">{Esc(yLabel)}</text>");
    }

    public void Rect(double x, double y, double width, double height, string fill, string? tooltip = null, string? attributes = null) =>
        Mark($"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(Math.Max(0, width))}\" height=\"{F(Math.Max(0, height))}\" fill=\"{fill}\"{Attr(attributes)}", tooltip, "rect");

    public void Circle(double cx, double cy, double r, string fill, string? tooltip = null, string? attributes = null) =>
        Mark($"<circle cx=\"{F(cx)}\" cy=\"{F(cy)}\" r=\"{F(r)}\" fill=\"{fill}\"{Attr(attributes)}", tooltip, "circle");

    public void Polygon(IEnumerable<(double X, double Y)> points, string fill, string stroke, string? tooltip = null) =>
        Mark($"<polygon points=\"{string.Join(' ', points.Select(p => F(p.X) + "," + F(p.Y)))}\" fill=\"{fill}\" stroke=\"{stroke}\"", tooltip, "polygon");

    public void Line(double x1, double y1, double x2, double y2, string stroke, string? dash = null) =>
        _marks.Append(CultureInfo.InvariantCulture,
            $"<line x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\" stroke=\"{stroke}\"{(dash is null ? "" : $" stroke-dasharray=\"{dash}\"")}/>");

    public void Text(double x, double y, string text, string anchor = "start", int size = 11) =>
        _marks.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{F(y)}\" text-anchor=\"{anchor}\" font-size=\"{size}\">{Esc(text)}</text>");

    public override string ToString() =>
        $"<svg id=\"{Esc(Id)}\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Width)}\" height=\"{F(Height)}\" viewBox=\"0 0 {F(Width)} {F(Height)}\" role=\"img\" aria-labelledby=\"{Esc(Id)}-title\">"
        + $"<title id=\"{Esc(Id)}-title\">{Esc(Title)}</title>"
        + $"<text x=\"{F(0.5 * Width)}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Esc(Title)}</text>"
        + $"<g class=\"marks\">{_marks}</g>{_axes}</svg>";

    /// <summary>Coordinates with two decimals, invariant culture.</summary>
    public static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Number(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    public static string Esc(string s) => WebUtility.HtmlEncode(s);

    private void Mark(string open, string? tooltip, string element)
    {
        _marks.Append(open);
        _marks.Append(tooltip is null ? "/>" : $"><title>{Esc(tooltip)}</title></{element}>");
    }

    private static string Attr(string? attributes) => attributes is null ? "" : " " + attributes;
}

/// <summary>Viridis-like colours for a value in [0, 1] (perceptually ordered, readable in grey).</summary>
internal static class ColorMap
{
    private static readonly (double R, double G, double B)[] s_stops =
    [
        (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
    ];

    public static string Viridis(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        double p = t * (s_stops.Length - 1);
        int i = Math.Min((int)p, s_stops.Length - 2);
        double f = p - i;
        var (a, b) = (s_stops[i], s_stops[i + 1]);
        return string.Create(CultureInfo.InvariantCulture,
            $"#{(int)Math.Round(a.R + f * (b.R - a.R)):x2}{(int)Math.Round(a.G + f * (b.G - a.G)):x2}{(int)Math.Round(a.B + f * (b.B - a.B)):x2}");
    }

    /// <summary>A fixed colour per band (u..y), grey for anything else.</summary>
    public static string Band(string band) => band switch
    {
        "u" => "#56b4e9",
        "g" => "#009e73",
        "r" => "#d55e00",
        "i" => "#cc79a7",
        "z" => "#0072b2",
        "y" => "#e69f00",
        _ => "#777777",
    };
}
