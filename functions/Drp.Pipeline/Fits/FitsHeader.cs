using System.Collections;
using System.Globalization;

namespace Drp.Pipeline.Fits;

/// <summary>One header card: a keyword, its value (string, bool, long, double or null) and a comment.</summary>
/// <remarks>COMMENT, HISTORY and blank keywords carry their text in <see cref="Comment"/> and a null value.</remarks>
public sealed record FitsCard(string Key, object? Value, string? Comment = null);

/// <summary>An ordered FITS header: cards in file order, keyword look-up by the last occurrence.</summary>
public sealed class FitsHeader : IEnumerable<FitsCard>
{
    private readonly List<FitsCard> _cards = [];

    /// <summary>Number of cards (COMMENT and HISTORY included, END excluded).</summary>
    public int Count => _cards.Count;

    /// <summary>Replaces the value of <paramref name="key"/> in place, or appends it.</summary>
    public FitsHeader Set(string key, object? value, string? comment = null)
    {
        key = NormalizeKey(key);
        value = NormalizeValue(value);
        int i = _cards.FindLastIndex(c => c.Key == key);
        if (i >= 0 && !IsCommentary(key))
        {
            _cards[i] = new FitsCard(key, value, comment ?? _cards[i].Comment);
        }
        else
        {
            _cards.Add(new FitsCard(key, value, comment));
        }
        return this;
    }

    /// <summary>Appends a card without replacing an earlier one (COMMENT, HISTORY, or when order matters).</summary>
    public FitsHeader Add(FitsCard card)
    {
        _cards.Add(card with { Key = NormalizeKey(card.Key), Value = NormalizeValue(card.Value) });
        return this;
    }

    public FitsHeader AddComment(string text) => Add(new FitsCard("COMMENT", null, text));

    public FitsHeader AddHistory(string text) => Add(new FitsCard("HISTORY", null, text));

    public bool Remove(string key) => _cards.RemoveAll(c => c.Key == NormalizeKey(key)) > 0;

    public bool Contains(string key) => _cards.Exists(c => c.Key == NormalizeKey(key));

    public object? this[string key] => TryGetCard(key, out var card) ? card.Value : null;

    public bool TryGetCard(string key, out FitsCard card)
    {
        key = NormalizeKey(key);
        int i = _cards.FindLastIndex(c => c.Key == key);
        card = i >= 0 ? _cards[i] : null!;
        return i >= 0;
    }

    public string? GetString(string key) => this[key] switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var o => o.ToString(),
    };

    public bool TryGetDouble(string key, out double value)
    {
        switch (this[key])
        {
            case long l: value = l; return true;
            case double d: value = d; return true;
            case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p): value = p; return true;
            default: value = double.NaN; return false;
        }
    }

    public bool TryGetLong(string key, out long value)
    {
        switch (this[key])
        {
            case long l: value = l; return true;
            case double d when d == Math.Floor(d) && Math.Abs(d) < 9e15: value = (long)d; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>The value as a double, or a <see cref="FitsFormatException"/> naming the missing or bad keyword.</summary>
    public double GetDouble(string key) =>
        TryGetDouble(key, out var v) ? v : throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"keyword {key} is missing or not numeric");

    public long GetLong(string key) =>
        TryGetLong(key, out var v) ? v : throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"keyword {key} is missing or not an integer");

    public int GetInt(string key)
    {
        long v = GetLong(key);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v
            : throw new FitsFormatException(FitsErrorKind.InvalidValue, $"keyword {key} = {v} does not fit a 32-bit integer");
    }

    public double GetDouble(string key, double fallback) => TryGetDouble(key, out var v) ? v : fallback;

    public IEnumerator<FitsCard> GetEnumerator() => _cards.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A deep copy (cards are immutable records).</summary>
    public FitsHeader Clone()
    {
        var h = new FitsHeader();
        h._cards.AddRange(_cards);
        return h;
    }

    internal static bool IsCommentary(string key) => key is "COMMENT" or "HISTORY" or "";

    private static string NormalizeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string k = key.Trim().ToUpperInvariant();
        if (k.Length > 8)
        {
            throw new ArgumentException($"FITS keyword '{key}' is longer than 8 characters", nameof(key));
        }
        return k;
    }

    private static object? NormalizeValue(object? value) => value switch
    {
        null or string or bool or long or double => value,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        float f => (double)f,
        decimal m => (double)m,
        _ => throw new ArgumentException($"unsupported FITS value type {value.GetType().Name}", nameof(value)),
    };
}
