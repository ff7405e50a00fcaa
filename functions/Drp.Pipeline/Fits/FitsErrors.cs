namespace Drp.Pipeline.Fits;

/// <summary>What is wrong with a FITS file; lets callers classify bad input without parsing messages.</summary>
public enum FitsErrorKind
{
    /// <summary>The stream ended before the header or the data it declares.</summary>
    Truncated,
    /// <summary>No END card was found within the header limit.</summary>
    MissingEnd,
    /// <summary>A header card does not follow the FITS card syntax.</summary>
    MalformedCard,
    /// <summary>A mandatory keyword (SIMPLE, BITPIX, NAXIS, NAXISn, XTENSION, ...) is missing.</summary>
    MissingKeyword,
    /// <summary>A keyword has a value the standard does not allow (BITPIX 7, NAXIS -1, ...).</summary>
    InvalidValue,
    /// <summary>The declared data would exceed the configured size limit.</summary>
    TooLarge,
    /// <summary>A valid FITS construct this reader does not support (tables, random groups, NAXIS &gt; 3).</summary>
    Unsupported,
}

/// <summary>A FITS file could not be read: the <see cref="Kind"/> says why, the message explains where.</summary>
public sealed class FitsFormatException(FitsErrorKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public FitsErrorKind Kind { get; } = kind;
}
