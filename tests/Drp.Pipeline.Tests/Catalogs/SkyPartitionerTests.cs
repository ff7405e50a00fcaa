using Drp.Pipeline.Catalogs.Partitioning;

namespace Drp.Pipeline.Tests.Catalogs;

public sealed class SkyPartitionerTests
{
    private const double Deg = Math.PI / 180;

    [Fact]
    public void Locate_InsideSphgeomsReferenceBox_GivesExactlyItsChunksAndSubChunks()
    {
        // lsst/sphgeom tests/test_Chunker.py: Chunker(85, 12) and this box intersect chunks 9630, 9631, 9797 in
        // sub-chunks 770, 759 and 11 respectively.
        var p = new SkyPartitioner(new SkyPartitioningConfig(85, 12));
        const double raMin = 273.6, raMax = 273.7180105379097, decMin = 30.7, decMax = 30.722546655347717;
        var found = new HashSet<ChunkLocation>();
        for (int i = 1; i < 100; i++)
        {
            for (int j = 1; j < 100; j++)
            {
                found.Add(p.Locate(raMin + (raMax - raMin) * i / 100, decMin + (decMax - decMin) * j / 100));
            }
        }
        Assert.Equal(
            new[] { new ChunkLocation(9630, 770), new ChunkLocation(9631, 759), new ChunkLocation(9797, 11) },
            found.OrderBy(l => l.ChunkId).ToArray());
    }

    [Fact]
    public void ChunkBounds_SphgeomsReferenceChunk_MatchesItsBox()
    {
        // lsst/sphgeom tests/test_Chunker.py: Chunker(200, 5), chunk 3645 is stripe 9, chunk 45, with this box (radians);
        // sub-chunk 0 of chunk 0 is the polar cap up to -89.82 deg. sphgeom widens its boxes by a few 1e-11 rad (to be
        // conservative), hence 1e-9 rad rather than exact equality.
        var p = new SkyPartitioner(new SkyPartitioningConfig(200, 5));
        var b = p.ChunkBounds(3645);
        Assert.Equal(3645, p.ChunkId(9, 45));
        Assert.Equal(5.048988193233824, b.RaMin * Deg, 9);
        Assert.Equal(5.1611879309330035, b.RaMax * Deg, 9);
        Assert.Equal(-1.4294246573883558, b.DecMin * Deg, 9);
        Assert.Equal(-1.413716694110407, b.DecMax * Deg, 9);
        var sb = p.SubChunkBounds(0, 0);
        Assert.Equal(0, sb.RaMin);
        Assert.Equal(2 * Math.PI, sb.RaMax * Deg, 9);
        Assert.Equal(-Math.PI / 2, sb.DecMin * Deg, 9);
        Assert.Equal(-1.5676547341363067, sb.DecMax * Deg, 9);
    }

    [Theory]
    [InlineData(85, 12)]
    [InlineData(18, 4)]
    [InlineData(7, 3)]
    public void ChunkBounds_AllChunks_HaveUniqueIdsAndTileTheSphere(int stripes, int subStripes)
    {
        var p = new SkyPartitioner(new SkyPartitioningConfig(stripes, subStripes, 0));
        var ids = p.AllChunkIds().ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(p.IsValidChunkId(id)));
        double area = 0;
        for (int s = 0; s < stripes; s++)
        {
            int nc = p.ChunksInStripe(s);
            Assert.InRange(nc, 1, 2 * stripes); // what makes stripe * 2 * numStripes + chunk unique
            double ra = 0;
            for (int c = 0; c < nc; c++)
            {
                var b = p.ChunkBounds(p.ChunkId(s, c));
                Assert.Equal(ra, b.RaMin, 9); // contiguous in RA, no gap and no overlap
                Assert.Equal(-90 + s * 180.0 / stripes, b.DecMin, 9);
                Assert.Equal(-90 + (s + 1) * 180.0 / stripes, b.DecMax, 9);
                ra = b.RaMax;
                area += b.AreaSr;
            }
            Assert.Equal(360, ra, 9);
        }
        Assert.Equal(4 * Math.PI, area, 9);
    }

    [Theory]
    [InlineData(85, 12)]
    [InlineData(18, 4)]
    public void ChunksInStripe_IsTheMostChunksWhoseWidthAtTheWidestDecSpansAStripeHeight(int stripes, int subStripes)
    {
        var p = new SkyPartitioner(new SkyPartitioningConfig(stripes, subStripes, 0));
        double h = 180.0 / stripes;
        for (int s = 1; s < stripes - 1; s++) // the polar stripes are one chunk each
        {
            double widest = Math.Max(Math.Abs(-90 + s * h), Math.Abs(-90 + (s + 1) * h));
            int nc = p.ChunksInStripe(s);
            Assert.True(AngularDistance(0, widest, 360.0 / nc, widest) >= h - 1e-9, $"stripe {s}: {nc} chunks are narrower than the stripe");
            Assert.True(AngularDistance(0, widest, 360.0 / (nc + 1), widest) < h, $"stripe {s}: {nc + 1} chunks would still be wide enough");
        }
        Assert.Equal(1, p.ChunksInStripe(0));
        Assert.Equal(1, p.ChunksInStripe(stripes - 1));
    }

    [Fact]
    public void Locate_RandomPoints_EachIsInExactlyOneChunkAndInItsSubChunk()
    {
        var p = new SkyPartitioner(new SkyPartitioningConfig(85, 12, 0.01667));
        var chunks = p.AllChunkIds().Select(id => (Id: id, Box: p.ChunkBounds(id))).ToArray();
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            var (ra, dec) = RandomPoint(rng);
            var loc = p.Locate(ra, dec);
            var holders = chunks.Where(c => Contains(c.Box, ra, dec)).Select(c => c.Id).ToArray();
            Assert.Equal([loc.ChunkId], holders);
            Assert.True(Contains(p.SubChunkBounds(loc.ChunkId, loc.SubChunkId), ra, dec), $"({ra}, {dec}) is outside its sub-chunk {loc}");
            Assert.DoesNotContain(p.OverlapLocations(ra, dec), o => o.ChunkId == loc.ChunkId);
        }
    }

    [Fact]
    public void Locate_RaOutside0To360_WrapsAndDecAtThePolesIsInThePolarChunks()
    {
        var p = new SkyPartitioner(new SkyPartitioningConfig(85, 12));
        Assert.Equal(p.Locate(10, 5), p.Locate(370, 5));
        Assert.Equal(p.Locate(350, 5), p.Locate(-10, 5));
        Assert.Equal(p.ChunkId(0, 0), p.Locate(123, -90).ChunkId);
        Assert.Equal(p.ChunkId(84, 0), p.Locate(123, 90).ChunkId);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Locate(0, 90.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Locate(double.NaN, 0));
    }

    [Theory]
    [InlineData(0, 12, 0.01667)]
    [InlineData(85, 0, 0.01667)]
    [InlineData(85, 12, -1)]
    [InlineData(85, 12, 0.2)] // higher than a sub-stripe (180 / 1020 deg)
    public void Constructor_BadParameters_Throw(int stripes, int subStripes, double overlap) =>
        Assert.Throws<ArgumentException>(() => new SkyPartitioner(new SkyPartitioningConfig(stripes, subStripes, overlap)));

    /// <summary>
    /// The overlap of each chunk against the angular distance from the point to the chunk, found by brute force on
    /// the chunk's boundary sampled every R/100: a point nearer than R is always in the overlap, a point in the overlap
    /// is never farther than 1.6 R (the widened box's corners reach about sqrt(2) R; 1/cos(Dec) changes a little over
    /// R, which is 1 deg here). The fast neighbour search must also equal a scan of every chunk.
    /// </summary>
    [Fact]
    public void OverlapLocations_RandomPoints_AgreeWithBruteForceAngularDistance()
    {
        const double r = 1.0;
        var p = new SkyPartitioner(new SkyPartitioningConfig(18, 4, r));
        var chunks = p.AllChunkIds().Select(id => (Id: id, Box: p.ChunkBounds(id), Samples: BoundarySamples(p.ChunkBounds(id), r / 100))).ToArray();
        var rng = new Random(11);
        int near = 0, flagged = 0;
        for (int i = 0; i < 1000; i++)
        {
            var (ra, dec) = i < 40 ? (rng.NextDouble() * 360, (i < 20 ? -1 : 1) * (89 - rng.NextDouble() * 12)) : RandomPoint(rng);
            int own = p.Locate(ra, dec).ChunkId;
            var overlap = p.OverlapLocations(ra, dec);
            var overlapIds = overlap.Select(o => o.ChunkId).ToHashSet();
            Assert.Equal(overlap.Count, overlapIds.Count);
            var scanned = chunks.Where(c => p.IsInOverlapOf(c.Id, ra, dec)).Select(c => c.Id).Order().ToArray();
            Assert.Equal(scanned, overlap.Select(o => o.ChunkId).ToArray());
            foreach (var (id, box, samples) in chunks)
            {
                // Angular distance is at least the Dec difference: far stripes need no sampling.
                if (id == own || dec < box.DecMin - 2 * r || dec > box.DecMax + 2 * r || !MaybeWithin(samples, ra, dec, 2 * r))
                {
                    continue;
                }
                double d = samples.Min(s => AngularDistance(ra, dec, s.Ra, s.Dec));
                if (d < r - r / 100)
                {
                    near++;
                    Assert.True(overlapIds.Contains(id), $"({ra}, {dec}) is {d} deg from chunk {id} but not in its overlap");
                }
                if (overlapIds.Contains(id))
                {
                    flagged++;
                    Assert.True(d <= 1.6 * r, $"({ra}, {dec}) is in the overlap of chunk {id} but {d} deg away");
                }
            }
            foreach (var o in overlap)
            {
                var sub = p.SubChunkBounds(o.ChunkId, o.SubChunkId); // a sub-chunk of that chunk
                var chunk = p.ChunkBounds(o.ChunkId);
                Assert.True(sub.DecMin >= chunk.DecMin - 1e-9 && sub.DecMax <= chunk.DecMax + 1e-9);
            }
        }
        Assert.InRange(near, 200, int.MaxValue); // the sample did exercise the overlap
        Assert.InRange(flagged, near, int.MaxValue);
    }

    [Fact]
    public void OverlapLocations_AcrossRa0_FindsTheChunkOnTheOtherSide()
    {
        var p = new SkyPartitioner(new SkyPartitioningConfig(85, 12, 0.01667));
        var west = p.Locate(0.005, 0.3);
        var east = p.Locate(359.995, 0.3);
        Assert.NotEqual(west.ChunkId, east.ChunkId);
        Assert.Equal([east.ChunkId], p.OverlapLocations(0.005, 0.3).Select(o => o.ChunkId));
        Assert.Equal([west.ChunkId], p.OverlapLocations(359.995, 0.3).Select(o => o.ChunkId));
        Assert.Empty(p.OverlapLocations(0.5, 0.3));
        Assert.Empty(new SkyPartitioner(new SkyPartitioningConfig(85, 12, 0)).OverlapLocations(0.005, 0.3));
    }

    private static (double Ra, double Dec) RandomPoint(Random rng) =>
        (rng.NextDouble() * 360, Math.Asin(2 * rng.NextDouble() - 1) / Deg);

    private static bool Contains(SkyBox b, double ra, double dec) =>
        ra >= b.RaMin && ra < b.RaMax && dec >= b.DecMin && (dec < b.DecMax || (b.DecMax == 90 && dec == 90));

    private static (double Ra, double Dec)[] BoundarySamples(SkyBox b, double step)
    {
        var list = new List<(double, double)>();
        int nDec = (int)Math.Ceiling((b.DecMax - b.DecMin) / step);
        for (int k = 0; k <= nDec; k++)
        {
            double dec = b.DecMin + (b.DecMax - b.DecMin) * k / nDec;
            list.Add((b.RaMin, dec));
            list.Add((b.RaMax, dec));
        }
        foreach (double dec in new[] { b.DecMin, b.DecMax })
        {
            // RA steps no longer than `step` on the sky at this Dec.
            int nRa = (int)Math.Ceiling((b.RaMax - b.RaMin) * Math.Max(Math.Cos(dec * Deg), 1e-6) / step);
            for (int k = 0; k <= nRa; k++)
            {
                list.Add((b.RaMin + (b.RaMax - b.RaMin) * k / nRa, dec));
            }
        }
        return [.. list];
    }

    /// <summary>A cheap pre-filter: some 50th sample is within limit + 1 deg (they are at most 0.5 deg apart here).</summary>
    private static bool MaybeWithin((double Ra, double Dec)[] samples, double ra, double dec, double limit)
    {
        for (int k = 0; k < samples.Length; k += 50)
        {
            if (AngularDistance(ra, dec, samples[k].Ra, samples[k].Dec) < limit + 1)
            {
                return true;
            }
        }
        return false;
    }

    private static double AngularDistance(double ra1, double dec1, double ra2, double dec2)
    {
        double sd = Math.Sin((dec2 - dec1) * Deg / 2), sr = Math.Sin((ra2 - ra1) * Deg / 2);
        double h = sd * sd + Math.Cos(dec1 * Deg) * Math.Cos(dec2 * Deg) * sr * sr;
        return 2 * Math.Asin(Math.Min(1, Math.Sqrt(h))) / Deg;
    }
}
