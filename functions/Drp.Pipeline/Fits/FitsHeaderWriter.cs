using System.Globalization;
using System.Text;

namespace Drp.Pipeline.Fits;

/// <summary>Formats header cards in the FITS fixed format and lays out one HDU header in whole blocks.</summary>
internal static class FitsHeaderWriter
{
    private const int ValueWidth = 20; // columns 11-30: fixed-format values end in column 30

    /// <summary>The header of one HDU: mandatory keywords in the standard's order, then the user's cards.</summary>
    public static byte[] Build(FitsImage image, int hduIndex, bool hasExtensions)
    {
        var cards = new List<string>();
        int naxis = image.Width == 0 && image.Height == 0 ? 0 : 2;
        if (hduIndex == 0)
        {
            cards.Add(Card("SIMPLE", true, "conforms to FITS standard"));
        }
        else
        {
            cards.Add(Card("XTENSION", "IMAGE", "Image extension"));
        }
        cards.Add(Card("BITPIX", (long)(int)image.Bitpix, "array data type"));
        cards.Add(Card("NAXIS", (long)naxis, "number of array dimensions"));
        if (naxis == 2)
        {
            cards.Add(Card("NAXIS1", (long)image.Width, "length of dimension 1"));
            cards.Add(Card("NAXIS2", (long)image.Height, "length of dimension 2"));
        }
        if (hduIndex == 0)
        {
            if (hasExtensions)
            {
                cards.Add(Card("EXTEND", true, "FITS dataset may contain extensions"));
            }
        }
        else
        {
            cards.Add(Card("PCOUNT", 0L, "number of parameters"));
            cards.Add(Card("GCOUNT", 1L, "number of groups"));
        }

        bool floating = image.Bitpix is FitsBitpix.Float32 or FitsBitpix.Float64;
        bool hasLongString = image.Header.Any(c => c.Value is string s && Escape(s).Length > FitsKeywords.MaxStringInCard);
        if (hasLongString)
        {
            cards.Add(Card("LONGSTRN", "OGIP 1.0", "The OGIP Long String Convention may be used"));
        }
        foreach (var card in image.Header)
        {
            // BLANK marks null integers; in a floating-point HDU it is meaningless and fitsverify rejects it.
            if (FitsKeywords.IsStructural(card.Key) || (floating && card.Key == "BLANK"))
            {
                continue;
            }
            try
            {
                AppendCard(cards, card);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"HDU {hduIndex}, keyword '{card.Key}': {e.Message}", nameof(image), e);
            }
        }
        cards.Add("END");

        int blocks = (cards.Count + FitsKeywords.CardsPerBlock - 1) / FitsKeywords.CardsPerBlock;
        var bytes = new byte[blocks * FitsKeywords.BlockBytes];
        bytes.AsSpan().Fill((byte)' ');
        for (int i = 0; i < cards.Count; i++)
        {
            Encoding.ASCII.GetBytes(cards[i], bytes.AsSpan(i * FitsKeywords.CardBytes, FitsKeywords.CardBytes));
        }
        return bytes;
    }

    /// <summary>Appends the card(s) for one user card: long strings become CONTINUE cards, long text several cards.</summary>
    internal static void AppendCard(List<string> cards, FitsCard card)
    {
        string key = card.Key;
        foreach (char c in key)
        {
            if (!FitsKeywords.IsKeywordChar(c))
            {
                throw new ArgumentException($"the keyword has the character '{c}' (allowed: A-Z, 0-9, '-', '_')");
            }
        }
        CheckText(card.Comment, "comment");
        if (FitsHeader.IsCommentary(key))
        {
            string text = card.Comment ?? (card.Value is null ? "" : FormatScalar(card.Value).Trim());
            for (int at = 0; at == 0 || at < text.Length; at += 72)
            {
                cards.Add(Pad8(key) + text.Substring(at, Math.Min(72, text.Length - at)));
            }
            return;
        }
        if (card.Value is string s && Escape(s).Length > FitsKeywords.MaxStringInCard)
        {
            AppendLongString(cards, key, s, card.Comment);
            return;
        }
        cards.Add(Card(key, card.Value, card.Comment));
    }

    /// <summary>One fixed-format card, the comment cut at column 80 if it does not fit.</summary>
    internal static string Card(string key, object? value, string? comment)
    {
        string line = Pad8(key) + "= " + FormatScalar(value);
        if (!string.IsNullOrEmpty(comment))
        {
            line = line.PadRight(30) + " / " + comment;
        }
        return line.Length > FitsKeywords.CardBytes ? line[..FitsKeywords.CardBytes] : line;
    }

    /// <summary>The value field from column 11: strings quoted, everything else right-justified to column 30.</summary>
    internal static string FormatScalar(object? value) => value switch
    {
        null => "",
        string s => QuoteString(s),
        bool b => (b ? "T" : "F").PadLeft(ValueWidth),
        long l => l.ToString(CultureInfo.InvariantCulture).PadLeft(ValueWidth),
        double d => FormatDouble(d).PadLeft(ValueWidth),
        _ => throw new ArgumentException($"unsupported value type {value.GetType().Name}"),
    };

    /// <summary>
    /// Shortest text that parses back to the same double ("R"), always with a decimal point so it reads back as a
    /// real: 0.1, 3.0, 1.0E+20, -2.5E-07. Never locale-dependent.
    /// </summary>
    internal static string FormatDouble(double d)
    {
        if (!double.IsFinite(d))
        {
            throw new ArgumentException($"{d} cannot be written: FITS has no text for NaN or infinity");
        }
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E');
        if (e < 0)
        {
            return r.Contains('.') ? r : r + ".0";
        }
        string mantissa = r[..e];
        return (mantissa.Contains('.') ? mantissa : mantissa + ".0") + r[e..];
    }

    private static string QuoteString(string s)
    {
        CheckText(s, "string value");
        // Fixed format: the closing quote is at column 20 or later.
        string quoted = "'" + Escape(s).PadRight(8) + "'";
        return quoted.PadRight(ValueWidth);
    }

    private static void AppendLongString(List<string> cards, string key, string value, string? comment)
    {
        CheckText(value, "string value");
        // Split the raw text so that no '' escape is cut and each piece plus its '&' fits between the quotes.
        var pieces = new List<string>();
        var piece = new StringBuilder();
        int escapedLength = 0;
        foreach (char c in value)
        {
            int width = c == '\'' ? 2 : 1;
            if (escapedLength + width > FitsKeywords.MaxStringInCard - 1)
            {
                pieces.Add(piece.ToString());
                piece.Clear();
                escapedLength = 0;
            }
            piece.Append(c);
            escapedLength += width;
        }
        pieces.Add(piece.ToString());

        string last = "'" + Escape(pieces[^1]) + "'";
        bool commentFits = string.IsNullOrEmpty(comment) || 10 + last.Length + 3 + comment.Length <= FitsKeywords.CardBytes;
        if (!commentFits)
        {
            // The comment goes on a final CONTINUE card holding an empty piece.
            pieces.Add("");
        }
        for (int i = 0; i < pieces.Count; i++)
        {
            bool isLast = i == pieces.Count - 1;
            string prefix = i == 0 ? Pad8(key) + "= " : "CONTINUE  ";
            string line = prefix + "'" + Escape(pieces[i]) + (isLast ? "'" : "&'");
            if (isLast && !string.IsNullOrEmpty(comment))
            {
                line += " / " + comment;
            }
            cards.Add(line.Length > FitsKeywords.CardBytes ? line[..FitsKeywords.CardBytes] : line);
        }
    }

    private static string Escape(string s) => s.Replace("'", "''", StringComparison.Ordinal);

    private static string Pad8(string key) => key.PadRight(8);

    private static void CheckText(string? text, string what)
    {
        if (text is null)
        {
            return;
        }
        for (int i = 0; i < text.Length; i++)
        {
            if (!FitsKeywords.IsPrintable(text[i]))
            {
                throw new ArgumentException(
                    $"the {what} has the character U+{(int)text[i]:X4} at position {i}: FITS headers are printable ASCII only");
            }
        }
    }
}
