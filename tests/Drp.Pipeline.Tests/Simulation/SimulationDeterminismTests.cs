using Drp.Pipeline.Simulation;
using Drp.Pipeline.Wcs;
using static Drp.Pipeline.Tests.Simulation.SimulationTestSupport;

namespace Drp.Pipeline.Tests.Simulation;

public sealed class SimulationDeterminismTests
{
    [Fact]
    public void SimulateFrame_SameSeed_IdenticalPixelsAndHeaders()
    {
        var a = new SurveySimulator(Tiny(seed: 11));
        var b = new SurveySimulator(Tiny(seed: 11));
        int visit = a.Visits[1].Visit;

        var fa = a.SimulateFrame(visit, 1);
        var fb = b.SimulateFrame(visit, 1);

        AssertSamePixels(fa.Hdus, fb.Hdus);
        Assert.Equal(fa.Sources, fb.Sources);
        Assert.Equal(fa.CosmicRays, fb.CosmicRays);
    }

    [Fact]
    public void SimulateFrame_DifferentSeed_DifferentPixelsAndSky()
    {
        var a = new SurveySimulator(Tiny(seed: 11));
        var b = new SurveySimulator(Tiny(seed: 12));

        var fa = a.SimulateFrame(a.Visits[0].Visit, 0);
        var fb = b.SimulateFrame(b.Visits[0].Visit, 0);

        int differing = 0;
        for (int i = 1; i < fa.Hdus.Count; i++)
        {
            var pa = fa.Hdus[i].Pixels;
            var pb = fb.Hdus[i].Pixels;
            differing += Enumerable.Range(0, pa.Length).Count(k => pa[k] != pb[k]);
        }
        Assert.True(differing > fa.Hdus.Skip(1).Sum(h => h.Pixels.Length) / 2, $"only {differing} pixels differ");
        Assert.NotEqual(a.Catalog[0].Ra, b.Catalog[0].Ra);
    }

    [Fact]
    public void SimulateFrame_ReverseGenerationOrder_IdenticalFrames()
    {
        var forward = new SurveySimulator(Tiny());
        var backward = new SurveySimulator(Tiny());
        var frames = forward.Visits.SelectMany(v => forward.Detectors.Select(d => (v.Visit, d))).ToList();

        var first = frames.Select(f => forward.SimulateFrame(f.Visit, f.d)).ToList();
        var second = Enumerable.Reverse(frames).Select(f => backward.SimulateFrame(f.Visit, f.d)).Reverse().ToList();

        for (int i = 0; i < first.Count; i++)
        {
            AssertSamePixels(first[i].Hdus, second[i].Hdus);
        }
    }

    [Fact]
    public void SimulateFrame_OneThreadOrAllCores_IdenticalPixels()
    {
        var serial = new SurveySimulator(Tiny() with { MaxDegreeOfParallelism = 1 });
        var parallel = new SurveySimulator(Tiny() with { MaxDegreeOfParallelism = null });
        int visit = serial.Visits[0].Visit;

        var fs = serial.SimulateFrame(visit, 1);
        var fp = parallel.SimulateFrame(visit, 1);

        AssertSamePixels(fs.Hdus, fp.Hdus);
        Assert.True(serial.CreateMasterFlat(1, "r").Pixels.AsSpan().SequenceEqual(parallel.CreateMasterFlat(1, "r").Pixels));
    }

    [Fact]
    public void SimulateFrame_FramesGeneratedConcurrently_SameAsOneByOne()
    {
        var sim = new SurveySimulator(Tiny());
        var reference = new SurveySimulator(Tiny());
        var frames = sim.Visits.SelectMany(v => sim.Detectors.Select(d => (v.Visit, d))).ToArray();

        var concurrent = new SimulatedFrame[frames.Length];
        Parallel.For(0, frames.Length, i => concurrent[i] = sim.SimulateFrame(frames[i].Visit, frames[i].d));

        for (int i = 0; i < frames.Length; i++)
        {
            AssertSamePixels(reference.SimulateFrame(frames[i].Visit, frames[i].d).Hdus, concurrent[i].Hdus);
        }
    }

    [Fact]
    public void Visits_CampaignPlan_DithersBandsAndSeeingWithinOptions()
    {
        var options = Tiny() with { VisitCount = 6, Bands = ["g", "r", "i"] };

        var visits = new SurveySimulator(options).Visits;

        Assert.Equal(["g", "r", "i", "g", "r", "i"], visits.Select(v => v.Band));
        Assert.Equal(6, visits.Select(v => (v.BoresightRa, v.BoresightDec)).Distinct().Count());
        foreach (var v in visits)
        {
            Assert.InRange(v.SeeingFwhmArcsec, options.SeeingMinArcsec, options.SeeingMaxArcsec);
            double offset = TanWcs.AngularSeparationDegrees(v.BoresightRa, v.BoresightDec, options.CenterRa, options.CenterDec) * 3600;
            Assert.InRange(offset, 0.0, options.DitherRadiusArcsec + 1e-6);
            Assert.InRange(Math.Abs(v.RotationDegrees), 0.0, options.RotationDitherDegrees);
            Assert.InRange(v.ZeroPointMag, 30.0, 34.0);
        }
    }
}
