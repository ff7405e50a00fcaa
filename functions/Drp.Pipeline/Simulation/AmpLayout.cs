using System.Globalization;

namespace Drp.Pipeline.Simulation;

/// <summary>
/// Where one amplifier's pixels are: its raw HDU size, data area (after the prescan columns, from raw row 0), serial
/// overscan, and the place of its data in the assembled detector, possibly flipped. Data column u (0 = first read,
/// next to the prescan) and row v go to detector pixel (DetX(u), DetY(v)).
/// </summary>
internal sealed record AmpLayout(
    int Index,
    string Name,
    int RawWidth,
    int RawHeight,
    int Prescan,
    int DataWidth,
    int DataHeight,
    int Overscan,
    int DetX0,
    int DetY0,
    bool FlipX,
    bool FlipY)
{
    public int DetX(int u) => FlipX ? DetX0 + DataWidth - 1 - u : DetX0 + u;

    public int DetY(int v) => FlipY ? DetY0 + DataHeight - 1 - v : DetY0 + v;

    public string DataSec => Section(Prescan + 1, Prescan + DataWidth, 1, DataHeight);

    public string BiasSec => Section(Prescan + DataWidth + 1, Prescan + DataWidth + Overscan, 1, DataHeight);

    public string DetSec => Section(
        FlipX ? DetX0 + DataWidth : DetX0 + 1, FlipX ? DetX0 + 1 : DetX0 + DataWidth,
        FlipY ? DetY0 + DataHeight : DetY0 + 1, FlipY ? DetY0 + 1 : DetY0 + DataHeight);

    /// <summary>
    /// The amplifiers of a detector. Multi-extension: the bottom row is Segment10, Segment11, ... left to right; the
    /// top row, read out from the top edge through a serial register running the other way, is ..., Segment01,
    /// Segment00 left to right (DETSEC reversed in x and y), as the ITL CCD's Segment17..10 / Segment07..00.
    /// Single HDU: one amplifier covering the whole detector, no prescan and no parallel overscan.
    /// </summary>
    public static IReadOnlyList<AmpLayout> For(DetectorGeometry g, RawFormat format)
    {
        if (format == RawFormat.SingleHdu)
        {
            return [new AmpLayout(0, "PRIMARY", g.Width + g.SerialOverscanColumns, g.Height, 0, g.Width, g.Height,
                g.SerialOverscanColumns, 0, 0, false, false)];
        }
        var amps = new List<AmpLayout>(g.AmpColumns * g.AmpRows);
        for (int c = 0; c < g.AmpColumns; c++)
        {
            amps.Add(Make(amps.Count, $"Segment1{c}", c, 0, flip: false));
        }
        if (g.AmpRows == 2)
        {
            for (int c = 0; c < g.AmpColumns; c++)
            {
                amps.Add(Make(amps.Count, $"Segment0{g.AmpColumns - 1 - c}", c, 1, flip: true));
            }
        }
        return amps;

        AmpLayout Make(int index, string name, int col, int row, bool flip) =>
            new(index, name, g.RawAmpWidth, g.RawAmpHeight, g.PrescanColumns, g.AmpDataWidth, g.AmpDataHeight,
                g.SerialOverscanColumns, col * g.AmpDataWidth, row * g.AmpDataHeight, flip, flip);
    }

    private static string Section(int x1, int x2, int y1, int y2) =>
        string.Create(CultureInfo.InvariantCulture, $"[{x1}:{x2},{y1}:{y2}]");
}
