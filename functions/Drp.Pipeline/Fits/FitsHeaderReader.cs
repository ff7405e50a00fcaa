using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Drp.Pipeline.Fits;

/// <summary>
/// Parses one HDU header from its bytes alone, so a range read of the first few 2880-byte blocks of a blob is
/// enough to learn an HDU's metadata; <see cref="FitsHduInfo.FromHeader"/> then gives where its data lies.
/// </summary>
public static class FitsHeaderReader
{
    /// <summary>
    /// Parses the header that starts at <paramref name="bytes"/>[0]. Returns false when the bytes end before the
    /// END card (read more blocks and call again); throws <see cref="FitsFormatException"/> when the bytes are not
    /// a valid header or hold <see cref="FitsReadOptions.MaxHeaderBlocks"/> blocks without an END card.
    /// </summary>
    /// <param name="bytes">A prefix of the file, from the first byte of the header; need not be whole blocks.</param>
    /// <param name="header">Every card in file order (structural keywords included), CONTINUE cards merged.</param>
    /// <param name="headerBytes">Size of the header on disk, padding included: the data starts at this offset.</param>
    /// <param name="options">Limits; <see cref="FitsReadOptions.Default"/> when null.</param>
    public static bool TryParse(
        ReadOnlySpan<byte> bytes,
        [NotNullWhen(true)] out FitsHeader? header,
        out int headerBytes,
        FitsReadOptions? options = null) =>
        TryParse(bytes, hduIndex: 0, fileOffset: 0, options ?? FitsReadOptions.Default, out header, out headerBytes);

    internal static bool TryParse(
        ReadOnlySpan<byte> bytes,
        int hduIndex,
        long fileOffset,
        FitsReadOptions options,
        [NotNullWhen(true)] out FitsHeader? header,
        out int headerBytes)
    {
        var parser = new FitsHeaderParser(hduIndex, fileOffset, options);
        if (parser.Feed(bytes))
        {
            header = parser.Header;
            headerBytes = parser.HeaderBytes;
            return true;
        }
        header = null;
        headerBytes = 0;
        return false;
    }
}

/// <summary>Incremental header parser: feed it blocks until it reports the END card.</summary>
internal sealed class FitsHeaderParser(int hduIndex, long fileOffset, FitsReadOptions options)
{
    private readonly int _hduIndex = hduIndex;
    private readonly long _fileOffset = fileOffset;
    private readonly int _maxBlocks = Math.Max(1, options.MaxHeaderBlocks);
    private readonly StringBuilder _pendingValue = new();
    private readonly List<string> _pendingComments = [];
    private int _cards;
    private string? _pendingKey;

    /// <summary>The cards parsed so far; complete once <see cref="IsComplete"/>.</summary>
    public FitsHeader Header { get; } = new();

    public bool IsComplete { get; private set; }

    /// <summary>Cards consumed, END included.</summary>
    public int CardCount => _cards;

    /// <summary>Header size rounded up to whole blocks.</summary>
    public int HeaderBytes =>
        (_cards + FitsKeywords.CardsPerBlock - 1) / FitsKeywords.CardsPerBlock * FitsKeywords.BlockBytes;

    /// <summary>Parses the whole cards in <paramref name="bytes"/>; true once the END card has been seen.</summary>
    public bool Feed(ReadOnlySpan<byte> bytes)
    {
        for (int at = 0; !IsComplete && at + FitsKeywords.CardBytes <= bytes.Length; at += FitsKeywords.CardBytes)
        {
            ParseCard(bytes.Slice(at, FitsKeywords.CardBytes));
            _cards++;
            if (!IsComplete && _cards >= (long)_maxBlocks * FitsKeywords.CardsPerBlock)
            {
                throw new FitsFormatException(FitsErrorKind.MissingEnd,
                    $"HDU {_hduIndex}: no END card in the first {_maxBlocks} header blocks " +
                    $"(header starts at byte {_fileOffset}; limit is FitsReadOptions.MaxHeaderBlocks)");
            }
        }
        return IsComplete;
    }

    private void ParseCard(ReadOnlySpan<byte> raw)
    {
        int number = _cards + 1;
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] is < 0x20 or > 0x7E)
            {
                if (_cards % FitsKeywords.CardsPerBlock == 0 && _cards > 0)
                {
                    // A block that opens with binary bytes is a data unit: the header before it never ended.
                    throw new FitsFormatException(FitsErrorKind.MissingEnd,
                        $"HDU {_hduIndex}: no END card in the {_cards / FitsKeywords.CardsPerBlock} header block(s) " +
                        $"at byte {_fileOffset}; the block at byte {CardOffset(number)} holds binary data " +
                        $"(byte 0x{raw[i]:X2} at column {i + 1})");
                }
                throw Malformed(number, null, $"non-ASCII byte 0x{raw[i]:X2} at column {i + 1}");
            }
        }
        string card = Encoding.Latin1.GetString(raw);
        string key = card[..8].TrimEnd();
        foreach (char c in key)
        {
            if (!FitsKeywords.IsKeywordChar(c))
            {
                throw Malformed(number, null, $"keyword field '{card[..8]}' has the character '{c}' " +
                    "(allowed: A-Z, 0-9, '-', '_', left-justified)");
            }
        }

        if (key == "END")
        {
            FlushPending();
            IsComplete = true;
            return;
        }
        if (key == "CONTINUE")
        {
            ParseContinue(card, number);
            return;
        }
        FlushPending();
        if (FitsHeader.IsCommentary(key) || card[8] != '=' || card[9] != ' ')
        {
            // COMMENT, HISTORY, blank and keywords without a value indicator carry free text from column 9.
            Header.Add(new FitsCard(key, null, card[8..].TrimEnd()));
            return;
        }
        if (!TryParseValue(card.AsSpan(10), out object? value, out string? comment, out string? error))
        {
            throw Malformed(number, key, error);
        }
        if (value is string s && s.EndsWith('&'))
        {
            // OGIP long-string convention: the value continues on CONTINUE cards if the next card is one.
            _pendingKey = key;
            _pendingValue.Clear().Append(s);
            _pendingComments.Clear();
            if (comment is { Length: > 0 })
            {
                _pendingComments.Add(comment);
            }
            return;
        }
        Header.Add(new FitsCard(key, value, comment));
    }

    private void ParseContinue(string card, int number)
    {
        if (_pendingKey is null)
        {
            // A CONTINUE card that continues nothing is kept as commentary text.
            Header.Add(new FitsCard("CONTINUE", null, card[8..].TrimEnd()));
            return;
        }
        if (!TryParseValue(card.AsSpan(8), out object? value, out string? comment, out string? error))
        {
            throw Malformed(number, "CONTINUE", error);
        }
        if (value is not string s)
        {
            throw Malformed(number, "CONTINUE", $"continues the string of '{_pendingKey}' but holds no quoted string");
        }
        _pendingValue.Length--; // drop the '&' that announced this card
        _pendingValue.Append(s);
        if (comment is { Length: > 0 })
        {
            _pendingComments.Add(comment);
        }
        if (!s.EndsWith('&'))
        {
            FlushPending();
        }
    }

    private void FlushPending()
    {
        if (_pendingKey is null)
        {
            return;
        }
        string? comment = _pendingComments.Count > 0 ? string.Join(' ', _pendingComments) : null;
        Header.Add(new FitsCard(_pendingKey, _pendingValue.ToString(), comment));
        _pendingKey = null;
    }

    private long CardOffset(int number) => _fileOffset + (long)(number - 1) * FitsKeywords.CardBytes;

    private FitsFormatException Malformed(int number, string? key, string what) =>
        new(FitsErrorKind.MalformedCard,
            $"HDU {_hduIndex}, card {number} (byte {CardOffset(number)})" +
            (key is null ? "" : $", keyword '{key}'") + $": {what}");

    /// <summary>Parses a value field (from column 11) and its optional "/ comment".</summary>
    internal static bool TryParseValue(ReadOnlySpan<char> field, out object? value, out string? comment,
        [NotNullWhen(false)] out string? error)
    {
        value = null;
        comment = null;
        error = null;
        int i = SkipSpaces(field, 0);
        if (i == field.Length)
        {
            return true;
        }
        int end;
        char c = field[i];
        if (c == '/')
        {
            comment = field[(i + 1)..].Trim().ToString();
            return true;
        }
        if (c == '\'')
        {
            var sb = new StringBuilder();
            int j = i + 1;
            while (true)
            {
                if (j >= field.Length)
                {
                    error = "string value has no closing quote";
                    return false;
                }
                if (field[j] == '\'')
                {
                    if (j + 1 < field.Length && field[j + 1] == '\'')
                    {
                        sb.Append('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                sb.Append(field[j++]);
            }
            // Trailing spaces in a FITS string are not significant; leading ones are.
            value = sb.ToString().TrimEnd(' ');
            end = j + 1;
        }
        else if (c == '(')
        {
            // Complex values are rare in image headers: kept as their text.
            int close = field[i..].IndexOf(')');
            if (close < 0)
            {
                error = $"complex value '{field[i..].Trim()}' has no closing parenthesis";
                return false;
            }
            value = field.Slice(i, close + 1).ToString();
            end = i + close + 1;
        }
        else
        {
            end = i;
            while (end < field.Length && field[end] != ' ' && field[end] != '/')
            {
                end++;
            }
            var token = field[i..end];
            if (token is "T")
            {
                value = true;
            }
            else if (token is "F")
            {
                value = false;
            }
            else if (!TryParseNumber(token, out value))
            {
                error = $"cannot parse value '{token}' (not a string, logical, integer or real)";
                return false;
            }
        }

        int k = SkipSpaces(field, end);
        if (k < field.Length)
        {
            if (field[k] != '/')
            {
                error = $"unexpected text '{field[k..].TrimEnd()}' after the value (a comment starts with '/')";
                return false;
            }
            string text = field[(k + 1)..].Trim().ToString();
            comment = text.Length > 0 ? text : null;
        }
        return true;
    }

    private static int SkipSpaces(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && s[i] == ' ')
        {
            i++;
        }
        return i;
    }

    /// <summary>FITS integer ([+-]digits) or real ([+-]digits[.digits][E|D[+-]digits]).</summary>
    private static bool TryParseNumber(ReadOnlySpan<char> token, out object? value)
    {
        value = null;
        int i = 0;
        if (i < token.Length && token[i] is '+' or '-')
        {
            i++;
        }
        int digits = 0;
        while (i < token.Length && char.IsAsciiDigit(token[i]))
        {
            i++;
            digits++;
        }
        bool isReal = false;
        if (i < token.Length && token[i] == '.')
        {
            isReal = true;
            i++;
            while (i < token.Length && char.IsAsciiDigit(token[i]))
            {
                i++;
                digits++;
            }
        }
        if (digits == 0)
        {
            return false;
        }
        int exponentAt = -1;
        if (i < token.Length && token[i] is 'E' or 'e' or 'D' or 'd')
        {
            isReal = true;
            exponentAt = i;
            i++;
            if (i < token.Length && token[i] is '+' or '-')
            {
                i++;
            }
            int expDigits = 0;
            while (i < token.Length && char.IsAsciiDigit(token[i]))
            {
                i++;
                expDigits++;
            }
            if (expDigits == 0)
            {
                return false;
            }
        }
        if (i != token.Length)
        {
            return false;
        }
        if (!isReal && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
        {
            value = l;
            return true;
        }
        Span<char> text = stackalloc char[token.Length];
        token.CopyTo(text);
        if (exponentAt >= 0)
        {
            text[exponentAt] = 'E';
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
        {
            return false;
        }
        value = d;
        return true;
    }
}
