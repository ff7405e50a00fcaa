namespace Drp.Pipeline.Fits;

/// <summary>FITS constants and the keywords whose value the structure of an HDU decides, not the user.</summary>
internal static class FitsKeywords
{
    /// <summary>Size of a header or data block.</summary>
    public const int BlockBytes = 2880;

    /// <summary>Size of a header card.</summary>
    public const int CardBytes = 80;

    /// <summary>Cards in a header block.</summary>
    public const int CardsPerBlock = BlockBytes / CardBytes;

    /// <summary>Longest escaped string that fits one card after "KEYWORD = '" and before the closing quote.</summary>
    public const int MaxStringInCard = CardBytes - 12;

    /// <summary>
    /// True for the keywords the writer generates itself (SIMPLE, XTENSION, BITPIX, NAXIS, NAXISn, EXTEND, PCOUNT,
    /// GCOUNT, GROUPS, LONGSTRN, CONTINUE, END) and for CHECKSUM/DATASUM, which would be stale after any change.
    /// The reader leaves them out of <see cref="FitsImage.Header"/>, and the writer skips user copies of them.
    /// </summary>
    public static bool IsStructural(string key) => key switch
    {
        "SIMPLE" or "XTENSION" or "BITPIX" or "NAXIS" or "EXTEND" or "PCOUNT" or "GCOUNT" or "GROUPS"
            or "LONGSTRN" or "CONTINUE" or "END" or "CHECKSUM" or "DATASUM" => true,
        _ => IsNaxisN(key),
    };

    /// <summary>NAXIS1 ... NAXIS999.</summary>
    public static bool IsNaxisN(string key)
    {
        if (key.Length is < 6 or > 8 || !key.StartsWith("NAXIS", StringComparison.Ordinal) || key[5] == '0')
        {
            return false;
        }
        for (int i = 5; i < key.Length; i++)
        {
            if (key[i] is < '0' or > '9')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>A keyword may hold upper-case letters, digits, hyphen and underscore (FITS 4.0, 4.1.2.1).</summary>
    public static bool IsKeywordChar(char c) => c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_';

    /// <summary>Header text is restricted to printable ASCII, 0x20 to 0x7E.</summary>
    public static bool IsPrintable(char c) => c is >= ' ' and <= '~';
}
