namespace Drp.Pipeline.SingleFrame;

/// <summary>
/// The raw or calibration inputs to ISR are unusable (a missing keyword, a section outside the image, a geometry
/// mismatch). The message names the HDU, the keyword and the value; the properties carry them for callers.
/// </summary>
public sealed class IsrInputException(string hdu, string? keyword, string? value, string problem)
    : Exception(Format(hdu, keyword, value, problem))
{
    /// <summary>Which input: "raw HDU 2 (EXTNAME=C01)", "bias", "flat", "defects".</summary>
    public string Hdu { get; } = hdu;

    public string? Keyword { get; } = keyword;

    public string? Value { get; } = value;

    private static string Format(string hdu, string? keyword, string? value, string problem) =>
        keyword is null ? $"{hdu}: {problem}"
        : $"{hdu}: keyword {keyword} = {(value is null ? "<missing>" : $"'{value}'")}: {problem}";
}
