using System.Globalization;
using Drp.Pipeline.Fits;

namespace Drp.Pipeline.Wcs;

/// <summary>
/// A gnomonic (TAN) world coordinate system with a linear CD matrix and no distortion terms, in ICRS degrees.
/// </summary>
/// <remarks>
/// <para>
/// Pixel coordinates in this API are ZERO-based: pixel (0, 0) is the centre of the first pixel, which FITS calls
/// (1, 1); <c>FitsImage.Pixels[y * Width + x]</c> sits at (x, y). The reference pixel passed to the constructor and
/// exposed by <see cref="CrPix1"/>/<see cref="CrPix2"/> is the FITS CRPIX, i.e. ONE-based, so that header values go
/// in and out unchanged; <see cref="ReferencePixel"/> gives it zero-based.
/// </para>
/// <para>
/// Sky coordinates are (RA, Dec) in degrees; RA is returned in [0, 360). Intermediate world coordinates are
/// <c>CD · (p − (CRPIX − 1))</c> in degrees, projected following Calabretta &amp; Greisen (2002) with the native
/// longitude of the celestial pole LONPOLE (default 180°, as for every zenithal projection off the pole).
/// </para>
/// </remarks>
public sealed class TanWcs
{
    private const double DegToRad = Math.PI / 180.0;
    private const double RadToDeg = 180.0 / Math.PI;

    private readonly double _sinDec0;
    private readonly double _cosDec0;
    private readonly double _inv11;
    private readonly double _inv12;
    private readonly double _inv21;
    private readonly double _inv22;
    private readonly double _cosPole;
    private readonly double _sinPole;

    /// <summary>A TAN WCS from the FITS reference values.</summary>
    /// <param name="crval1">RA of the reference point, degrees.</param>
    /// <param name="crval2">Dec of the reference point, degrees, in [−90, 90].</param>
    /// <param name="crpix1">FITS CRPIX1 (one-based) of the reference point.</param>
    /// <param name="crpix2">FITS CRPIX2 (one-based) of the reference point.</param>
    /// <param name="cd11">CD1_1, degrees per pixel.</param>
    /// <param name="cd12">CD1_2, degrees per pixel.</param>
    /// <param name="cd21">CD2_1, degrees per pixel.</param>
    /// <param name="cd22">CD2_2, degrees per pixel.</param>
    /// <param name="lonPole">LONPOLE, the native longitude of the celestial pole, degrees (180 unless a header says otherwise).</param>
    public TanWcs(double crval1, double crval2, double crpix1, double crpix2,
        double cd11, double cd12, double cd21, double cd22, double lonPole = 180.0)
    {
        double[] all = [crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22, lonPole];
        if (Array.Exists(all, v => !double.IsFinite(v)))
        {
            throw new ArgumentException("TAN WCS parameters must be finite numbers");
        }
        if (crval2 is < -90.0 or > 90.0)
        {
            throw new ArgumentOutOfRangeException(nameof(crval2), crval2, "reference declination must be within [-90, 90] degrees");
        }
        double det = cd11 * cd22 - cd12 * cd21;
        if (det == 0.0 || !double.IsFinite(1.0 / det))
        {
            throw new ArgumentException("the CD matrix is singular");
        }

        CrVal1 = NormalizeRa(crval1);
        CrVal2 = crval2;
        CrPix1 = crpix1;
        CrPix2 = crpix2;
        Cd11 = cd11;
        Cd12 = cd12;
        Cd21 = cd21;
        Cd22 = cd22;
        LonPole = lonPole;

        _sinDec0 = Math.Sin(crval2 * DegToRad);
        _cosDec0 = Math.Cos(crval2 * DegToRad);
        _inv11 = cd22 / det;
        _inv12 = -cd12 / det;
        _inv21 = -cd21 / det;
        _inv22 = cd11 / det;
        // A LONPOLE other than 180 is a rotation of the projection plane by (LONPOLE - 180).
        double delta = (lonPole - 180.0) * DegToRad;
        _cosPole = Math.Cos(delta);
        _sinPole = Math.Sin(delta);
    }

    /// <summary>CRVAL1: RA of the reference point, degrees in [0, 360).</summary>
    public double CrVal1 { get; }

    /// <summary>CRVAL2: Dec of the reference point, degrees.</summary>
    public double CrVal2 { get; }

    /// <summary>CRPIX1, ONE-based as in FITS.</summary>
    public double CrPix1 { get; }

    /// <summary>CRPIX2, ONE-based as in FITS.</summary>
    public double CrPix2 { get; }

    public double Cd11 { get; }

    public double Cd12 { get; }

    public double Cd21 { get; }

    public double Cd22 { get; }

    /// <summary>LONPOLE, degrees.</summary>
    public double LonPole { get; }

    /// <summary>The reference pixel in this API's ZERO-based convention: (CRPIX1 − 1, CRPIX2 − 1).</summary>
    public (double X, double Y) ReferencePixel => (CrPix1 - 1.0, CrPix2 - 1.0);

    /// <summary>The mean pixel scale at the reference point, arcseconds per pixel (√|det CD|).</summary>
    public double PixelScaleArcsec => Math.Sqrt(Math.Abs(Cd11 * Cd22 - Cd12 * Cd21)) * 3600.0;

    /// <summary>
    /// A WCS with the sky centred on an image: north up and east left when <paramref name="rotationDegrees"/> is 0
    /// (RA grows towards −x), rotated counter-clockwise on the sky by <paramref name="rotationDegrees"/> as FITS CROTA2.
    /// </summary>
    /// <param name="centerRa">RA at the image centre, degrees.</param>
    /// <param name="centerDec">Dec at the image centre, degrees.</param>
    /// <param name="pixelScaleArcsec">Pixel scale, arcseconds per pixel (positive).</param>
    /// <param name="rotationDegrees">CROTA2-style rotation, degrees.</param>
    /// <param name="width">Image width, pixels: the centre is ZERO-based x = (width − 1) / 2.</param>
    /// <param name="height">Image height, pixels: the centre is ZERO-based y = (height − 1) / 2.</param>
    public static TanWcs Create(double centerRa, double centerDec, double pixelScaleArcsec, double rotationDegrees, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelScaleArcsec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        double s = pixelScaleArcsec / 3600.0;
        double c = Math.Cos(rotationDegrees * DegToRad);
        double n = Math.Sin(rotationDegrees * DegToRad);
        // CDELT1 = -s, CDELT2 = +s with a CROTA2 rotation (Calabretta & Greisen 2002, eq. 189).
        return new TanWcs(centerRa, centerDec, (width + 1) / 2.0, (height + 1) / 2.0,
            -s * c, -s * n, -s * n, s * c);
    }

    /// <summary>
    /// Reads a TAN WCS from a header: CTYPE1 'RA---TAN', CTYPE2 'DEC--TAN', CRVALi, CRPIXi, and either CDi_j, or
    /// CDELTi with PCi_j (identity by default) or CROTA2. CUNITi, if present, must be 'deg'; RADESYS, if present,
    /// ICRS or FK5 (the numbers are taken as ICRS).
    /// </summary>
    /// <exception cref="FitsFormatException">
    /// <see cref="FitsErrorKind.MissingKeyword"/> when a needed keyword is absent; <see cref="FitsErrorKind.InvalidValue"/>
    /// when the header describes something else (another projection, distortion terms, other units, a singular matrix).
    /// </exception>
    public static TanWcs FromHeader(FitsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        string ctype1 = RequireString(header, "CTYPE1");
        string ctype2 = RequireString(header, "CTYPE2");
        if (!string.Equals(ctype1.Trim(), "RA---TAN", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(ctype2.Trim(), "DEC--TAN", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"CTYPE1/CTYPE2 = '{ctype1}'/'{ctype2}': only 'RA---TAN'/'DEC--TAN' (no distortion) is supported");
        }
        foreach (string unitKey in new[] { "CUNIT1", "CUNIT2" })
        {
            string? unit = header.GetString(unitKey)?.Trim();
            if (!string.IsNullOrEmpty(unit) && !string.Equals(unit, "deg", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid($"{unitKey} = '{unit}': only 'deg' is supported");
            }
        }
        string? radesys = header.GetString("RADESYS")?.Trim();
        if (!string.IsNullOrEmpty(radesys) && radesys.ToUpperInvariant() is not ("ICRS" or "FK5"))
        {
            throw Invalid($"RADESYS = '{radesys}': only ICRS (or FK5) is supported");
        }

        double crval1 = RequireDouble(header, "CRVAL1");
        double crval2 = RequireDouble(header, "CRVAL2");
        double crpix1 = RequireDouble(header, "CRPIX1");
        double crpix2 = RequireDouble(header, "CRPIX2");
        double lonPole = OptionalDouble(header, "LONPOLE", crval2 == 90.0 ? 0.0 : 180.0);

        double cd11, cd12, cd21, cd22;
        if (header.Contains("CD1_1") || header.Contains("CD1_2") || header.Contains("CD2_1") || header.Contains("CD2_2"))
        {
            // FITS: once any CDi_j is present, the missing ones default to 0.
            cd11 = OptionalDouble(header, "CD1_1", 0.0);
            cd12 = OptionalDouble(header, "CD1_2", 0.0);
            cd21 = OptionalDouble(header, "CD2_1", 0.0);
            cd22 = OptionalDouble(header, "CD2_2", 0.0);
        }
        else
        {
            if (!header.Contains("CDELT1") || !header.Contains("CDELT2"))
            {
                throw new FitsFormatException(FitsErrorKind.MissingKeyword,
                    "no usable TAN WCS: neither CDi_j nor CDELT1/CDELT2 give the pixel scale");
            }
            double cdelt1 = RequireDouble(header, "CDELT1");
            double cdelt2 = RequireDouble(header, "CDELT2");
            double pc11, pc12, pc21, pc22;
            bool hasPc = header.Contains("PC1_1") || header.Contains("PC1_2") || header.Contains("PC2_1") || header.Contains("PC2_2");
            if (!hasPc && header.Contains("CROTA2"))
            {
                double rho = RequireDouble(header, "CROTA2") * DegToRad;
                // Calabretta & Greisen 2002, eq. 189 expressed as a PC matrix.
                pc11 = Math.Cos(rho);
                pc12 = -Math.Sin(rho) * cdelt2 / cdelt1;
                pc21 = Math.Sin(rho) * cdelt1 / cdelt2;
                pc22 = Math.Cos(rho);
            }
            else
            {
                pc11 = OptionalDouble(header, "PC1_1", 1.0);
                pc12 = OptionalDouble(header, "PC1_2", 0.0);
                pc21 = OptionalDouble(header, "PC2_1", 0.0);
                pc22 = OptionalDouble(header, "PC2_2", 1.0);
            }
            cd11 = cdelt1 * pc11;
            cd12 = cdelt1 * pc12;
            cd21 = cdelt2 * pc21;
            cd22 = cdelt2 * pc22;
        }

        try
        {
            return new TanWcs(crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22, lonPole);
        }
        catch (ArgumentException e)
        {
            throw new FitsFormatException(FitsErrorKind.InvalidValue, $"no usable TAN WCS: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes this WCS into <paramref name="header"/> in CD form (WCSAXES, CTYPEi, CUNITi, CRVALi, CRPIXi, CDi_j,
    /// LONPOLE, RADESYS 'ICRS', EQUINOX 2000), removing PCi_j, CDELTi and CROTAi cards that would conflict.
    /// </summary>
    public FitsHeader WriteTo(FitsHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        foreach (string key in new[] { "PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2", "CROTA1", "CROTA2" })
        {
            header.Remove(key);
        }
        header.Set("WCSAXES", 2L, "number of WCS axes");
        header.Set("CTYPE1", "RA---TAN", "gnomonic projection");
        header.Set("CTYPE2", "DEC--TAN", "gnomonic projection");
        header.Set("CUNIT1", "deg", "unit of CRVAL1 and CD1_j");
        header.Set("CUNIT2", "deg", "unit of CRVAL2 and CD2_j");
        header.Set("CRVAL1", CrVal1, "RA at the reference pixel [deg]");
        header.Set("CRVAL2", CrVal2, "Dec at the reference pixel [deg]");
        header.Set("CRPIX1", CrPix1, "reference pixel, 1-based");
        header.Set("CRPIX2", CrPix2, "reference pixel, 1-based");
        header.Set("CD1_1", Cd11, "[deg/pixel]");
        header.Set("CD1_2", Cd12, "[deg/pixel]");
        header.Set("CD2_1", Cd21, "[deg/pixel]");
        header.Set("CD2_2", Cd22, "[deg/pixel]");
        header.Set("LONPOLE", LonPole, "native longitude of the celestial pole [deg]");
        header.Set("RADESYS", "ICRS", "celestial reference system");
        header.Set("EQUINOX", 2000.0, "equinox of the celestial frame");
        return header;
    }

    /// <summary>Sky position (RA in [0, 360), Dec, degrees) of the ZERO-based pixel (x, y).</summary>
    public (double Ra, double Dec) PixelToSky(double x, double y)
    {
        double dx = x - (CrPix1 - 1.0);
        double dy = y - (CrPix2 - 1.0);
        double u = (Cd11 * dx + Cd12 * dy) * DegToRad;
        double v = (Cd21 * dx + Cd22 * dy) * DegToRad;
        // Rotate into the LONPOLE = 180 frame, where the standard gnomonic formulas hold.
        double xi = u * _cosPole + v * _sinPole;
        double eta = v * _cosPole - u * _sinPole;

        double den = _cosDec0 - eta * _sinDec0;
        double ra = CrVal1 + Math.Atan2(xi, den) * RadToDeg;
        double dec = Math.Atan2(_sinDec0 + eta * _cosDec0, Math.Sqrt(xi * xi + den * den)) * RadToDeg;
        return (NormalizeRa(ra), dec);
    }

    /// <summary>
    /// ZERO-based pixel of the sky position (RA, Dec in degrees; any RA, wrapped at 0/360). Positions 90° or more from
    /// the reference point have no gnomonic image: the result is (NaN, NaN).
    /// </summary>
    public (double X, double Y) SkyToPixel(double ra, double dec)
    {
        double dRa = (ra - CrVal1) * DegToRad;
        double sinDec = Math.Sin(dec * DegToRad);
        double cosDec = Math.Cos(dec * DegToRad);
        double cosDRa = Math.Cos(dRa);
        double cosC = _sinDec0 * sinDec + _cosDec0 * cosDec * cosDRa;
        if (cosC <= 0.0)
        {
            return (double.NaN, double.NaN);
        }
        double xi = cosDec * Math.Sin(dRa) / cosC;
        double eta = (_cosDec0 * sinDec - _sinDec0 * cosDec * cosDRa) / cosC;
        double u = (xi * _cosPole - eta * _sinPole) * RadToDeg;
        double v = (eta * _cosPole + xi * _sinPole) * RadToDeg;
        double x = _inv11 * u + _inv12 * v + (CrPix1 - 1.0);
        double y = _inv21 * u + _inv22 * v + (CrPix2 - 1.0);
        return (x, y);
    }

    /// <summary>The WCS of a sub-image whose ZERO-based pixel (0, 0) is pixel (<paramref name="x0"/>, <paramref name="y0"/>) of this one.</summary>
    public TanWcs ForSubimage(double x0, double y0) =>
        new(CrVal1, CrVal2, CrPix1 - x0, CrPix2 - y0, Cd11, Cd12, Cd21, Cd22, LonPole);

    /// <summary>Great-circle distance between two sky positions, degrees (haversine: accurate at small separations).</summary>
    public static double AngularSeparationDegrees(double ra1, double dec1, double ra2, double dec2)
    {
        double d1 = dec1 * DegToRad;
        double d2 = dec2 * DegToRad;
        double sdd = Math.Sin((d2 - d1) / 2.0);
        double sda = Math.Sin((ra2 - ra1) * DegToRad / 2.0);
        double h = sdd * sdd + Math.Cos(d1) * Math.Cos(d2) * sda * sda;
        return 2.0 * Math.Asin(Math.Min(1.0, Math.Sqrt(h))) * RadToDeg;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"TAN CRVAL=({CrVal1:F8}, {CrVal2:F8}) CRPIX=({CrPix1:F3}, {CrPix2:F3}) CD=[[{Cd11:E6}, {Cd12:E6}], [{Cd21:E6}, {Cd22:E6}]]");

    private static double NormalizeRa(double ra)
    {
        double r = ra % 360.0;
        if (r < 0.0)
        {
            r += 360.0;
        }
        return r >= 360.0 ? 0.0 : r;
    }

    private static FitsFormatException Invalid(string message) =>
        new(FitsErrorKind.InvalidValue, $"no usable TAN WCS: {message}");

    private static string RequireString(FitsHeader header, string key) =>
        header.GetString(key) ?? throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"no usable TAN WCS: keyword {key} is missing");

    private static double RequireDouble(FitsHeader header, string key)
    {
        if (!header.Contains(key))
        {
            throw new FitsFormatException(FitsErrorKind.MissingKeyword, $"no usable TAN WCS: keyword {key} is missing");
        }
        if (!header.TryGetDouble(key, out double v) || !double.IsFinite(v))
        {
            throw Invalid($"keyword {key} = '{header.GetString(key)}' is not a finite number");
        }
        return v;
    }

    private static double OptionalDouble(FitsHeader header, string key, double fallback) =>
        header.Contains(key) ? RequireDouble(header, key) : fallback;
}
