namespace Drp.Pipeline.Catalogs.Partitioning;

/// <summary>
/// Parameters of Qserv's spherical partitioning: the sky is cut into <see cref="NumStripes"/> declination stripes of
/// equal height, each stripe into <see cref="NumSubStripesPerStripe"/> sub-stripes; <see cref="OverlapDeg"/> is the
/// radius of the margin copied into neighbouring chunks. The defaults are 85 stripes, 12 sub-stripes (the layout of
/// lsst.sphgeom's Chunker examples, chunks of about 2.1 deg) and 1 arcmin (Qserv's partitioner tool itself defaults
/// to 18, 100 and 0.01 deg).
/// </summary>
public sealed record SkyPartitioningConfig(int NumStripes = 85, int NumSubStripesPerStripe = 12, double OverlapDeg = 0.01667);

/// <summary>Where a position belongs: its chunk and, within the chunk, its sub-chunk.</summary>
public readonly record struct ChunkLocation(int ChunkId, int SubChunkId);

/// <summary>
/// A longitude/latitude box in degrees: RA in [<see cref="RaMin"/>, <see cref="RaMax"/>), Dec in
/// [<see cref="DecMin"/>, <see cref="DecMax"/>) (the northernmost box also holds Dec = 90).
/// </summary>
public readonly record struct SkyBox(double RaMin, double RaMax, double DecMin, double DecMax)
{
    /// <summary>Solid angle in steradians.</summary>
    public double AreaSr => (RaMax - RaMin) * Math.PI / 180
        * (Math.Sin(DecMax * Math.PI / 180) - Math.Sin(DecMin * Math.PI / 180));
}

/// <summary>
/// Qserv's two-level spherical partitioning (the scheme of <c>lsst::partition::Chunker</c> and
/// <c>lsst.sphgeom.Chunker</c>, re-derived here from its documentation): stripes of equal Dec height H; each stripe is
/// cut into the largest number of equal-RA chunks such that two points of the stripe a chunk width apart in RA are at
/// least H apart on the sky (so chunks are roughly square); sub-stripes and sub-chunks likewise, each chunk holding a
/// whole number of sub-chunks per sub-stripe.
/// <para>Ids: chunkId = stripe * 2 * numStripes + chunkInStripe (stripe 0 is the southernmost, chunk 0 starts at
/// RA 0); subChunkId = subStripeInStripe * maxSubChunksPerChunk + subChunkInChunk.</para>
/// <para>Overlap: a position is an overlap copy for every chunk other than its own whose box, widened by the overlap
/// radius R in Dec and by alpha = asin(sin R / cos |Dec|max) in RA, contains it; |Dec|max is the largest |Dec| of the
/// chunk's points within R of the position in Dec, so alpha is the widest RA half-extent of a circle of radius R
/// around any of them (Qserv takes it over the whole sub-stripe). Like Qserv's, the widened box is a conservative
/// approximation: every point within R of a chunk is in its overlap, and a point in the overlap is at most about
/// sqrt(2) R away (near the box's corners).
/// Qserv also copies overlap between the sub-chunks of one chunk (for its sub-chunk near-neighbour joins); here the
/// overlap is per chunk.</para>
/// </summary>
public sealed class SkyPartitioner
{
    private readonly int[] _chunksPerStripe;
    private readonly int[] _subChunksPerChunk; // per sub-stripe (global index)
    private readonly double[] _subChunkWidth; // per sub-stripe, degrees of RA
    private readonly double[] _stripeAlpha; // per stripe: the widest RA widening of a chunk's overlap box

    public SkyPartitioner(SkyPartitioningConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.NumStripes < 1 || config.NumSubStripesPerStripe < 1)
        {
            throw new ArgumentException($"stripes ({config.NumStripes}) and sub-stripes per stripe ({config.NumSubStripesPerStripe}) must be positive", nameof(config));
        }
        if (!(config.OverlapDeg >= 0 && config.OverlapDeg <= 10))
        {
            throw new ArgumentException($"the overlap radius must be in [0, 10] deg, got {config.OverlapDeg}", nameof(config));
        }
        Config = config;
        int numSubStripes = checked(config.NumStripes * config.NumSubStripesPerStripe);
        StripeHeight = 180.0 / config.NumStripes;
        SubStripeHeight = 180.0 / numSubStripes;
        if (SubStripeHeight < config.OverlapDeg)
        {
            throw new ArgumentException($"the overlap radius {config.OverlapDeg} deg exceeds the sub-stripe height {SubStripeHeight} deg", nameof(config));
        }
        _chunksPerStripe = new int[config.NumStripes];
        _subChunksPerChunk = new int[numSubStripes];
        _subChunkWidth = new double[numSubStripes];
        _stripeAlpha = new double[config.NumStripes];
        for (int s = 0; s < config.NumStripes; s++)
        {
            double decMin = s * StripeHeight - 90, decMax = (s + 1) * StripeHeight - 90;
            int nc = Segments(decMin, decMax, StripeHeight);
            _chunksPerStripe[s] = nc;
            _stripeAlpha[s] = MaxAlpha(config.OverlapDeg, Math.Max(Math.Abs(decMin), Math.Abs(decMax)));
            for (int j = 0; j < config.NumSubStripesPerStripe; j++)
            {
                int ss = s * config.NumSubStripesPerStripe + j;
                double ssMin = ss * SubStripeHeight - 90, ssMax = (ss + 1) * SubStripeHeight - 90;
                int nsc = Math.Max(1, Segments(ssMin, ssMax, SubStripeHeight) / nc);
                _subChunksPerChunk[ss] = nsc;
                _subChunkWidth[ss] = 360.0 / ((double)nsc * nc);
                if (MaxAlpha(config.OverlapDeg, Math.Max(Math.Abs(ssMin), Math.Abs(ssMax))) > _subChunkWidth[ss])
                {
                    throw new ArgumentException($"the overlap radius {config.OverlapDeg} deg is wider than a sub-chunk of sub-stripe {ss}", nameof(config));
                }
                MaxSubChunksPerChunk = Math.Max(MaxSubChunksPerChunk, nsc);
            }
        }
    }

    public SkyPartitioningConfig Config { get; }

    public double StripeHeight { get; }

    public double SubStripeHeight { get; }

    /// <summary>The most sub-chunks a chunk has in one sub-stripe: the multiplier of the sub-stripe in a sub-chunk id.</summary>
    public int MaxSubChunksPerChunk { get; }

    public int NumStripes => Config.NumStripes;

    public int ChunksInStripe(int stripe) => _chunksPerStripe[stripe];

    public int ChunkId(int stripe, int chunkInStripe) => stripe * 2 * NumStripes + chunkInStripe;

    /// <summary>Every chunk id, stripe by stripe, south to north.</summary>
    public IEnumerable<int> AllChunkIds()
    {
        for (int s = 0; s < NumStripes; s++)
        {
            for (int c = 0; c < _chunksPerStripe[s]; c++)
            {
                yield return ChunkId(s, c);
            }
        }
    }

    /// <summary>True when <paramref name="chunkId"/> names a chunk of this partitioning.</summary>
    public bool IsValidChunkId(int chunkId)
    {
        if (chunkId < 0)
        {
            return false;
        }
        int stripe = chunkId / (2 * NumStripes);
        return stripe < NumStripes && chunkId - stripe * 2 * NumStripes < _chunksPerStripe[stripe];
    }

    /// <summary>The chunk and sub-chunk of a position (degrees; RA taken modulo 360).</summary>
    public ChunkLocation Locate(double ra, double dec)
    {
        var (stripe, subStripe, chunk, subChunkInStripe) = Cells(ra, dec);
        int nscpc = _subChunksPerChunk[subStripe];
        return new ChunkLocation(ChunkId(stripe, chunk),
            SubChunkId(stripe, subStripe, subChunkInStripe - chunk * nscpc));
    }

    /// <summary>The chunk's box (RA, Dec in degrees).</summary>
    public SkyBox ChunkBounds(int chunkId)
    {
        var (stripe, chunk) = Split(chunkId);
        int nc = _chunksPerStripe[stripe];
        double width = 360.0 / nc;
        return new SkyBox(chunk * width, chunk == nc - 1 ? 360 : (chunk + 1) * width, StripeDecMin(stripe), StripeDecMax(stripe));
    }

    /// <summary>The sub-chunk's box (RA, Dec in degrees).</summary>
    public SkyBox SubChunkBounds(int chunkId, int subChunkId)
    {
        var (stripe, chunk) = Split(chunkId);
        int subStripeInStripe = subChunkId / MaxSubChunksPerChunk;
        int subChunkInChunk = subChunkId % MaxSubChunksPerChunk;
        int ss = stripe * Config.NumSubStripesPerStripe + subStripeInStripe;
        if (subChunkId < 0 || subStripeInStripe >= Config.NumSubStripesPerStripe || subChunkInChunk >= _subChunksPerChunk[ss])
        {
            throw new ArgumentOutOfRangeException(nameof(subChunkId), subChunkId, $"no such sub-chunk in chunk {chunkId}");
        }
        double w = _subChunkWidth[ss];
        int sc = chunk * _subChunksPerChunk[ss] + subChunkInChunk;
        bool last = sc == _chunksPerStripe[stripe] * _subChunksPerChunk[ss] - 1;
        return new SkyBox(sc * w, last ? 360 : (sc + 1) * w,
            Math.Max(-90, ss * SubStripeHeight - 90), Math.Min(90, (ss + 1) * SubStripeHeight - 90));
    }

    /// <summary>
    /// The definition of overlap membership: the position is not in the chunk, and the chunk's box widened by the
    /// overlap radius in Dec and by the stripe's alpha in RA (wrapping at 0/360) contains it.
    /// </summary>
    public bool IsInOverlapOf(int chunkId, double ra, double dec)
    {
        if (Config.OverlapDeg == 0 || Locate(ra, dec).ChunkId == chunkId)
        {
            return false;
        }
        var box = ChunkBounds(chunkId);
        double r = Config.OverlapDeg;
        if (dec < box.DecMin - r || dec > box.DecMax + r)
        {
            return false;
        }
        // Points of the chunk within r of the position have Dec in [lo, hi]: the widest RA reach is at its largest |Dec|.
        double lo = Math.Max(box.DecMin, dec - r), hi = Math.Min(box.DecMax, dec + r);
        double alpha = MaxAlpha(r, Math.Max(Math.Abs(lo), Math.Abs(hi)));
        if (alpha >= 180)
        {
            return true;
        }
        double a = NormalizeRa(ra);
        if (a >= box.RaMin && a < box.RaMax)
        {
            return true;
        }
        double west = NormalizeRa(box.RaMin - a); // RA still to go eastwards to reach the box
        double east = NormalizeRa(a - box.RaMax); // RA past the box's eastern edge
        return Math.Min(west, east) <= alpha;
    }

    /// <summary>
    /// The overlap locations of a position: one per chunk other than its own whose overlap holds it (see
    /// <see cref="IsInOverlapOf"/>), ordered by chunk id; the sub-chunk is the one of that chunk nearest the position.
    /// </summary>
    public IReadOnlyList<ChunkLocation> OverlapLocations(double ra, double dec)
    {
        var result = new List<ChunkLocation>();
        if (Config.OverlapDeg == 0)
        {
            return result;
        }
        var (stripe, _, _, _) = Cells(ra, dec);
        // The overlap radius is at most a sub-stripe high, so only this stripe and its two neighbours can qualify.
        for (int s = Math.Max(0, stripe - 1); s <= Math.Min(NumStripes - 1, stripe + 1); s++)
        {
            int nc = _chunksPerStripe[s];
            double width = 360.0 / nc;
            double alpha = _stripeAlpha[s];
            IEnumerable<int> candidates;
            if (alpha >= 180 || 2 * (alpha + width) >= 360)
            {
                candidates = Enumerable.Range(0, nc);
            }
            else
            {
                // One chunk more on each side than the RA interval needs; the exact test below decides.
                int lo = (int)Math.Floor((NormalizeRa(ra) - alpha) / width) - 1;
                int hi = (int)Math.Floor((NormalizeRa(ra) + alpha) / width) + 1;
                candidates = Enumerable.Range(lo, hi - lo + 1).Select(c => ((c % nc) + nc) % nc).Distinct();
            }
            foreach (int c in candidates)
            {
                int id = ChunkId(s, c);
                if (IsInOverlapOf(id, ra, dec))
                {
                    result.Add(new ChunkLocation(id, NearestSubChunk(s, c, ra, dec)));
                }
            }
        }
        result.Sort((x, y) => x.ChunkId.CompareTo(y.ChunkId));
        return result;
    }

    private int NearestSubChunk(int stripe, int chunk, double ra, double dec)
    {
        var box = ChunkBounds(ChunkId(stripe, chunk));
        int nss = Config.NumSubStripesPerStripe;
        int ss = Math.Clamp((int)Math.Floor((dec + 90) / SubStripeHeight), stripe * nss, stripe * nss + nss - 1);
        double a = NormalizeRa(ra);
        double offset; // RA of the nearest point of the chunk, from its western edge
        if (a >= box.RaMin && a < box.RaMax)
        {
            offset = a - box.RaMin;
        }
        else
        {
            offset = NormalizeRa(box.RaMin - a) <= NormalizeRa(a - box.RaMax) ? 0 : box.RaMax - box.RaMin;
        }
        int nscpc = _subChunksPerChunk[ss];
        int sc = Math.Clamp((int)Math.Floor(offset / _subChunkWidth[ss]), 0, nscpc - 1);
        return SubChunkId(stripe, ss, sc);
    }

    private (int Stripe, int SubStripe, int Chunk, int SubChunkInStripe) Cells(double ra, double dec)
    {
        if (!double.IsFinite(ra) || !(dec >= -90 && dec <= 90))
        {
            throw new ArgumentOutOfRangeException(nameof(dec), $"not a sky position: ra {ra}, dec {dec} (deg)");
        }
        double a = NormalizeRa(ra);
        int numSubStripes = _subChunksPerChunk.Length;
        int ss = Math.Min((int)Math.Floor((dec + 90) / SubStripeHeight), numSubStripes - 1);
        int stripe = ss / Config.NumSubStripesPerStripe;
        int nc = _chunksPerStripe[stripe];
        int nscpc = _subChunksPerChunk[ss];
        // The chunk follows from the sub-chunk, as in Qserv, so a sub-chunk never straddles two chunks.
        int sc = Math.Min((int)Math.Floor(a / _subChunkWidth[ss]), nc * nscpc - 1);
        return (stripe, ss, sc / nscpc, sc);
    }

    private int SubChunkId(int stripe, int subStripe, int subChunkInChunk) =>
        (subStripe - stripe * Config.NumSubStripesPerStripe) * MaxSubChunksPerChunk + subChunkInChunk;

    private (int Stripe, int Chunk) Split(int chunkId)
    {
        if (!IsValidChunkId(chunkId))
        {
            throw new ArgumentOutOfRangeException(nameof(chunkId), chunkId, "no such chunk in this partitioning");
        }
        int stripe = chunkId / (2 * NumStripes);
        return (stripe, chunkId - stripe * 2 * NumStripes);
    }

    private double StripeDecMin(int stripe) => Math.Max(-90, stripe * StripeHeight - 90);

    private double StripeDecMax(int stripe) => Math.Min(90, (stripe + 1) * StripeHeight - 90);

    /// <summary>RA in [0, 360).</summary>
    public static double NormalizeRa(double ra)
    {
        double a = ra % 360;
        if (a < 0)
        {
            a += 360;
        }
        return a >= 360 ? 0 : a;
    }

    /// <summary>
    /// How many equal RA segments a Dec band [decMin, decMax] is cut into so that two points of the band one segment
    /// apart in RA are at least <paramref name="width"/> apart on the sky: at the band's widest |Dec| φ, the RA step Δ
    /// with cos(width) = sin²φ + cos²φ cos Δ, then floor(360 / Δ).
    /// </summary>
    internal static int Segments(double decMin, double decMax, double width)
    {
        double phi = Math.Max(Math.Abs(decMin), Math.Abs(decMax));
        if (phi > 90 - 1 / 3600.0 || width >= 180)
        {
            return 1;
        }
        double sinPhi = Math.Sin(phi * Math.PI / 180), cos2Phi = 1 - sinPhi * sinPhi;
        double x = Math.Cos(width * Math.PI / 180) - sinPhi * sinPhi; // cos²φ cos Δ
        double y = Math.Sqrt(Math.Abs(cos2Phi * cos2Phi - x * x)); // cos²φ sin Δ
        double delta = Math.Atan2(y, x) * 180 / Math.PI;
        return (int)Math.Floor(360 / delta);
    }

    /// <summary>
    /// The widest RA half-extent (deg) of a circle of radius <paramref name="radius"/> whose centre has
    /// |Dec| at most <paramref name="absDec"/>: asin(sin r / cos |Dec|), or 180 when the circle reaches a pole.
    /// </summary>
    internal static double MaxAlpha(double radius, double absDec)
    {
        if (radius <= 0)
        {
            return 0;
        }
        if (absDec + radius >= 90 - 1e-9)
        {
            return 180;
        }
        double s = Math.Sin(radius * Math.PI / 180) / Math.Cos(absDec * Math.PI / 180);
        return s >= 1 ? 180 : Math.Asin(s) * 180 / Math.PI;
    }
}
