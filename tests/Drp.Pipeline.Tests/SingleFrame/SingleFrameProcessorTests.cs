using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.SingleFrame;

public class SingleFrameProcessorTests
{
    private const int N = SyntheticCamera.Size;
    private const double NanojanskyPerElectron = 0.5;
    private const long Visit = 1172;
    private const int Detector = 94;

    private static double Sky(int x, int y) => 800 + 0.6 * x - 0.4 * y;

    private static (SingleFrameInputs Inputs, List<Star> Stars) Frame(int seed, bool withReferences = true)
    {
        var rng = new Random(seed);
        var camera = new SyntheticCamera();
        // Fluxes 3e4..3e5 e-: calibFlux S/N ~ 45..300, all well below saturation (peak < 9000 e- / 1.4 gain).
        var stars = SyntheticData.StarGrid(N, N, 52, 30000, rng, margin: 26);
        var truth = SyntheticData.Render(N, N, Sky, stars);
        var pixelToSky = SyntheticData.PixelToSky(61.9, -35.8, N, N);
        var references = withReferences
            ? stars.Select(s => pixelToSky(s.X, s.Y)).Zip(stars, (p, s) => new ReferenceObject(p.Ra, p.Dec, s.Flux * NanojanskyPerElectron)).ToList()
            : [];
        var inputs = new SingleFrameInputs(RawFrame.FromImages(camera.Raw(truth, rng)), camera.Bias(), camera.Flat(), null, pixelToSky,
            references, Visit, Detector, "r");
        return (inputs, stars);
    }

    [Fact]
    public void Run_SyntheticFrame_ProducesCalibratedSourcesMatchingTheTruth()
    {
        var (inputs, stars) = Frame(70);

        var result = SingleFrameProcessor.Run(inputs, SingleFrameConfig.Default);

        var processed = Assert.IsType<SingleFrameResult.Processed>(result);
        Assert.Equal(stars.Count, processed.Sources.Count);
        long ccdVisitId = CcdVisitId.Pack(Visit, Detector);
        int bright = 0;
        foreach (var star in stars)
        {
            var s = Assert.Single(processed.Sources, r => Math.Abs(r.X - star.X) < 0.1 && Math.Abs(r.Y - star.Y) < 0.1);
            double trueNJy = star.Flux * NanojanskyPerElectron;
            // Within 3 sigma (the error includes the zero point's; 0.5% more for its bias); within 2% where the measurement
            // S/N > 150 (2% > 3 sigma).
            Assert.InRange(Math.Abs(s.CalibFlux - trueNJy), 0, 3 * s.CalibFluxErr + 0.005 * trueNJy);
            if (s.CalibInstFlux > 150 * s.CalibInstFluxErr)
            {
                Assert.InRange(s.CalibFlux / trueNJy, 0.98, 1.02);
                bright++;
            }
            Assert.Equal(s.CalibFlux, s.Ap12Flux);
            Assert.Equal(s.CalibInstFlux * processed.Summary.NanojanskyPerElectron, s.CalibFlux, 1e-6 * s.CalibFlux);
            var (ra, dec) = inputs.PixelToSky(s.X, s.Y);
            Assert.Equal((ra, dec), (s.CoordRa, s.CoordDec));
            Assert.Equal((ccdVisitId, Visit, Detector, "r"), (s.CcdVisitId, s.Visit, s.Detector, s.Band));
            Assert.Equal(ccdVisitId, SourceId.Unpack(s.SourceId).CcdVisitId);
            Assert.InRange(s.Ixx, 3.8, 4.4);
            Assert.False(s.PixelFlagsEdge || s.PixelFlagsSaturated || s.PixelFlagsBad || s.PixelFlagsInterpolated || s.ShapeFlag);
        }
        Assert.True(bright >= 5, $"only {bright} stars had S/N > 150");
        Assert.Equal(processed.Sources.Count, processed.Sources.Select(s => s.SourceId).Distinct().Count());

        var summary = processed.Summary;
        Assert.Equal(31.4 - 2.5 * Math.Log10(NanojanskyPerElectron), summary.ZeroPoint, 0.01);
        Assert.Equal(stars.Count, summary.SourceCount);
        Assert.Equal(stars.Count, summary.ReferenceMatchCount);
        // Mesh median of the sky, 800 + 0.6 x - 0.4 y over the frame: ~ 825 e-; noise sqrt(825 + 25) = 29.2 e-
        // less 1.3% for the 3-sigma clipping, plus the flat's 5% ripple.
        Assert.InRange(summary.SkyBg, 815, 835);
        Assert.InRange(summary.SkyNoise, 28.0, 30.5);
        // Pixelised sigma = 2 Gaussian: sqrt(4 + 1/12) = 2.02 px; FWHM = 2.355 x 2.02 x 0.2" = 0.951".
        Assert.Equal(2.02, summary.PsfSigma!.Value, 0.03);
        Assert.Equal(0.951, summary.Seeing!.Value, 0.015);
        Assert.Equal(0.2, summary.PixelScaleArcsec, 1e-6);
        Assert.True(summary.Urcdec > summary.Llcdec);

        // The calexp is background-subtracted electrons with DETECTED marked at the stars.
        var calexp = processed.Calexp;
        Assert.InRange(calexp.Image.Where((_, i) => calexp.Mask[i] == 0).Average(v => (double)v), -0.5, 0.5);
        Assert.All(stars, s => Assert.True(calexp.HasMask((int)Math.Round(s.X), (int)Math.Round(s.Y), MaskPlane.Detected)));
        Assert.All(calexp.Image, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Run_NoReferenceObjects_ReturnsUnprocessableWithReason()
    {
        var (inputs, _) = Frame(71, withReferences: false);

        var result = SingleFrameProcessor.Run(inputs, SingleFrameConfig.Default);

        var unprocessable = Assert.IsType<SingleFrameResult.Unprocessable>(result);
        Assert.Equal(UnprocessableReason.NoReferenceObjects, unprocessable.Reason);
        Assert.StartsWith("unprocessable: no reference objects", unprocessable.Message);
    }

    [Fact]
    public void Run_SameInputsTwice_GivesIdenticalSources()
    {
        var (inputs, _) = Frame(72);

        var a = Assert.IsType<SingleFrameResult.Processed>(SingleFrameProcessor.Run(inputs, SingleFrameConfig.Default));
        var b = Assert.IsType<SingleFrameResult.Processed>(SingleFrameProcessor.Run(inputs, SingleFrameConfig.Default));

        Assert.Equal(a.Sources, b.Sources);
        Assert.Equal(a.Summary, b.Summary);
    }

    [Fact]
    public void Run_RawWithNaNPixelsAndADefectColumn_GivesFiniteProductsAndFlags()
    {
        var (inputs, stars) = Frame(73);
        var rng = new Random(74);
        for (int k = 0; k < 200; k++)
        {
            int hdu = 1 + rng.Next(4);
            var amp = inputs.Raw.Pixels(hdu, null); // an in-memory raw's own pixels
            int x = SyntheticCamera.Prescan + rng.Next(SyntheticCamera.AmpSize), y = rng.Next(SyntheticCamera.AmpSize);
            amp[y * inputs.Raw.Hdus[hdu].Width + x] = float.NaN;
        }
        var defects = new Drp.Pipeline.Fits.FitsImage(N, N);
        int column = (int)Math.Round(stars[0].X) + 2;
        for (int y = 0; y < N; y++)
        {
            defects[column, y] = 1;
        }

        var result = SingleFrameProcessor.Run(inputs with { Defects = DefectMap.FromImage(defects) }, SingleFrameConfig.Default);

        var processed = Assert.IsType<SingleFrameResult.Processed>(result);
        Assert.All(processed.Calexp.Image, v => Assert.True(float.IsFinite(v)));
        Assert.All(processed.Calexp.Variance, v => Assert.True(float.IsFinite(v)));
        Assert.All(processed.Sources, s => Assert.True(double.IsFinite(s.CalibFlux) && double.IsFinite(s.CalibFluxErr)));
        Assert.InRange(processed.Calexp.Mask.Count(m => (m & (ushort)MaskPlane.Bad) != 0), 200 + N - 10, 200 + N);
        var first = processed.Sources.MinBy(s => Math.Abs(s.X - stars[0].X) + Math.Abs(s.Y - stars[0].Y))!;
        Assert.True(first.PixelFlagsBad && first.PixelFlagsInterpolated);
        Assert.InRange(processed.Sources.Count, stars.Count - 1, stars.Count);
    }
}
