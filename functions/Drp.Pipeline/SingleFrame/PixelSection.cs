using System.Globalization;

namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// A FITS section string such as <c>[x1:x2,y1:y2]</c> (DATASEC, BIASSEC, DETSEC, TRIMSEC): 1-based, inclusive,
/// kept as written. <c>x2 &lt; x1</c> (or <c>y2 &lt; y1</c>) means the axis runs backwards (a flip).
/// </summary>
public readonly record struct PixelSection(int X1, int X2, int Y1, int Y2)
{
    /// <summary>Number of columns.</summary>
    public int Width => Math.Abs(X2 - X1) + 1;

    /// <summary>Number of rows.</summary>
    public int Height => Math.Abs(Y2 - Y1) + 1;

    public bool FlipX => X2 < X1;

    public bool FlipY => Y2 < Y1;

    /// <summary>Smallest zero-based column covered.</summary>
    public int XMin => Math.Min(X1, X2) - 1;

    /// <summary>Largest zero-based column covered.</summary>
    public int XMax => Math.Max(X1, X2) - 1;

    /// <summary>Smallest zero-based row covered.</summary>
    public int YMin => Math.Min(Y1, Y2) - 1;

    /// <summary>Largest zero-based row covered.</summary>
    public int YMax => Math.Max(Y1, Y2) - 1;

    /// <summary>Zero-based column of the k-th pixel when walking the section from X1 towards X2.</summary>
    public int XAt(int k) => FlipX ? X1 - 1 - k : X1 - 1 + k;

    /// <summary>Zero-based row of the k-th pixel when walking the section from Y1 towards Y2.</summary>
    public int YAt(int k) => FlipY ? Y1 - 1 - k : Y1 - 1 + k;

    /// <summary>True when every pixel of the section lies in a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    public bool FitsWithin(int width, int height) => XMin >= 0 && YMin >= 0 && XMax < width && YMax < height;

    /// <summary>True when the zero-based row <paramref name="y"/> is covered.</summary>
    public bool ContainsRow(int y) => y >= YMin && y <= YMax;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[{X1}:{X2},{Y1}:{Y2}]");

    /// <summary>Parses <c>[x1:x2,y1:y2]</c> (spaces allowed); throws <see cref="FormatException"/> otherwise.</summary>
    public static PixelSection Parse(string text) =>
        TryParse(text, out var section) ? section : throw new FormatException($"'{text}' is not a FITS section [x1:x2,y1:y2] with positive integers");

    public static bool TryParse(string? text, out PixelSection section)
    {
        section = default;
        if (text is null)
        {
            return false;
        }
        var s = text.AsSpan().Trim();
        if (s.Length < 2 || s[0] != '[' || s[^1] != ']')
        {
            return false;
        }
        s = s[1..^1];
        int comma = s.IndexOf(',');
        if (comma < 0
            || !TryParseRange(s[..comma], out int x1, out int x2)
            || !TryParseRange(s[(comma + 1)..], out int y1, out int y2))
        {
            return false;
        }
        section = new PixelSection(x1, x2, y1, y2);
        return true;
    }

    private static bool TryParseRange(ReadOnlySpan<char> s, out int a, out int b)
    {
        a = b = 0;
        int colon = s.IndexOf(':');
        return colon >= 0
            && int.TryParse(s[..colon].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out a)
            && int.TryParse(s[(colon + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out b)
            && a >= 1 && b >= 1;
    }
}
