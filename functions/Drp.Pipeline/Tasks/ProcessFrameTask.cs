using System.Text.Json.Serialization.Metadata;
using Drp.Core.Datasets;
using Drp.Core.Tasks;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Pipeline.Tasks;

/// <summary>Inputs of one step-1 quantum, in memory.</summary>
public sealed record ProcessFrameInputs(
    RawFrame Raw,
    FitsImage Bias,
    FitsImage Flat,
    DefectMap? Defects,
    IReadOnlyList<ReferenceObject> ReferenceObjects,
    long Visit,
    int Detector,
    string Band)
{
    /// <summary>The bias and flat serve this frame only, so ISR may reuse their pixel arrays (<see cref="SingleFrameInputs.ConsumeCalibrations"/>).</summary>
    public bool ConsumeCalibrations { get; init; }
}

/// <summary>Outputs of one step-1 quantum: the products, or why the exposure is unprocessable.</summary>
public sealed record ProcessFrameOutputs(
    IReadOnlyList<FitsImage>? Calexp,
    CatalogTable? Sources,
    CcdVisitSummary? Summary,
    string? Unprocessable);

/// <summary>
/// Step 1's fused group <c>processFrame</c> (isr, characterizeImage, calibrate, writeSourceTable) as a pure function,
/// the same code in the quantum runner and <c>drp process-frame</c>: WCS from the raw's header,
/// <see cref="SingleFrameProcessor"/>, then the calexp as FITS HDUs (image, mask, variance; WCS and zero point in the
/// headers), the Source table and the CcdVisit summary.
/// </summary>
public sealed class ProcessFrameTask : PipelineTask<ProcessFrameConfig>
{
    /// <summary>The fused group's name in <c>pipelines/drp.yaml</c>.</summary>
    public const string TaskName = "processFrame";

    public override string Name => TaskName;

    public override IReadOnlyList<TaskConnection> Inputs { get; } =
    [
        new("ccdExposure", DatasetType.Raw), new("bias", DatasetType.Bias), new("flat", DatasetType.Flat),
        new("defects", DatasetType.Defects, Optional: true), new("refCat", DatasetType.RefCat),
    ];

    public override IReadOnlyList<TaskConnection> Outputs { get; } =
        [new("calexp", DatasetType.Calexp), new("sourceTable", DatasetType.SourceTable), new("summary", DatasetType.CcdVisitSummary)];

    public override JsonTypeInfo<ProcessFrameConfig> Config => TaskConfigJson.Default.ProcessFrameConfig;

    /// <summary>One (visit, detector): the raw, its calibrations (defects optional) and the reference catalog in the visit's band.</summary>
    public override TaskResult Run(DataId dataId, TaskInputs inputs, ProcessFrameConfig config)
    {
        string band = dataId.Band ?? throw new ArgumentException($"{dataId}: a step-1 quantum carries its visit's band", nameof(dataId));
        var result = Run(new ProcessFrameInputs(
            inputs.Single<RawFrame>("ccdExposure"),
            SingleImage(inputs.Single<IReadOnlyList<FitsImage>>("bias"), "bias"),
            SingleImage(inputs.Single<IReadOnlyList<FitsImage>>("flat"), "flat"),
            inputs.Optional<DefectMap>("defects"),
            ReferenceCatalog.ParseCsv(inputs.Single<string>("refCat"), band),
            dataId.Visit!.Value, dataId.Detector!.Value, band) { ConsumeCalibrations = true }, config.ToSingleFrame());
        return result.Unprocessable is { } reason
            ? new TaskResult.Unprocessable(reason)
            : Produced(("calexp", dataId, result.Calexp!), ("sourceTable", dataId, result.Sources!), ("summary", dataId, result.Summary!));
    }

    public static ProcessFrameOutputs Run(ProcessFrameInputs inputs, SingleFrameConfig? config = null, StageTimings? timings = null)
    {
        var (result, wcs) = RunProcessed(inputs, config, timings);
        var primary = inputs.Raw.PrimaryHeader;
        switch (result)
        {
            case SingleFrameResult.Unprocessable u:
                return new ProcessFrameOutputs(null, null, null, $"{u.Reason}: {u.Message}");
            case SingleFrameResult.Processed p:
                var hdus = CalexpHdus(p, wcs, primary);
                var table = SourceSchema.ToTable(p.Sources);
                timings?.Lap("calexp hdus and source table");
                return new ProcessFrameOutputs(hdus, table, p.Summary, null);
            default:
                throw new InvalidOperationException($"unknown single-frame result {result.GetType().Name}");
        }
    }

    /// <summary>The in-memory result (for benchmarks and tests against truth) and the WCS the calexp carries: the fitted one, else the raw's.</summary>
    public static (SingleFrameResult Result, TanWcs Wcs) RunProcessed(ProcessFrameInputs inputs, SingleFrameConfig? config = null, StageTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        CheckCalibrationBand(inputs.Flat, "flat", inputs.Band);
        var wcs = TanWcs.FromHeader(inputs.Raw.PrimaryHeader);
        var result = SingleFrameProcessor.Run(new SingleFrameInputs(
            inputs.Raw, inputs.Bias, inputs.Flat, inputs.Defects, wcs.PixelToSky, inputs.ReferenceObjects,
            inputs.Visit, inputs.Detector, inputs.Band) { Wcs = wcs, ConsumeCalibrations = inputs.ConsumeCalibrations }, config ?? SingleFrameConfig.Default, timings);
        // The calexp carries the fitted WCS when the astrometric fit succeeded.
        return (result, result is SingleFrameResult.Processed { Astrometry.Fitted: true } p ? p.Astrometry!.Wcs : wcs);
    }

    /// <summary>
    /// A flat is per band: one that declares another band (BAND keyword) than the raw's is refused with an
    /// <see cref="IsrInputException"/>. A flat without BAND is accepted (raws from elsewhere need not carry it).
    /// </summary>
    public static void CheckCalibrationBand(FitsImage calibration, string name, string band)
    {
        if (calibration.Header["BAND"] is string b && !string.Equals(b.Trim(), band, StringComparison.Ordinal))
        {
            throw new IsrInputException(name, "BAND", b, $"the raw is band '{band}'");
        }
    }

    /// <summary>A calibration is one image: the primary HDU, or the first extension holding an image.</summary>
    public static FitsImage SingleImage(IReadOnlyList<FitsImage> hdus, string name) =>
        hdus[SingleImageIndex(hdus.Select(h => (h.Width, h.Height)).ToList(), name)];

    /// <summary>
    /// Which HDU of a calibration file holds its image: the first with pixels (a multi-extension file's primary HDU
    /// has none). Throws <see cref="IsrInputException"/> when none has.
    /// </summary>
    internal static int SingleImageIndex(IReadOnlyList<(int Width, int Height)> sizes, string name)
    {
        for (int i = 0; i < sizes.Count; i++)
        {
            if (sizes[i].Width > 0 && sizes[i].Height > 0)
            {
                return i;
            }
        }
        throw new IsrInputException(name, "NAXIS", "0", "the file holds no image");
    }

    /// <summary>Primary HDU (metadata, WCS, zero point) + IMAGE, MASK, VARIANCE extensions, as afw writes a calexp.</summary>
    public static IReadOnlyList<FitsImage> CalexpHdus(SingleFrameResult.Processed p, TanWcs wcs, FitsHeader rawPrimary)
    {
        var e = p.Calexp;
        var h = new FitsHeader();
        foreach (var key in new[] { "INSTRUME", "VISIT", "DETECTOR", "BAND", "FILTER", "EXPTIME", "MJD-OBS" })
        {
            if (rawPrimary.TryGetCard(key, out var card))
            {
                h.Set(card.Key, card.Value, card.Comment);
            }
        }
        h.Set("BUNIT", "electron", "pixel unit of the IMAGE extension");
        h.Set("MAGZERO", p.Summary.ZeroPoint, "AB magnitude of 1 electron in this exposure");
        h.Set("MAGZERR", p.Summary.ZeroPointErr, "uncertainty of MAGZERO");
        h.Set("NJYPERE", p.Summary.NanojanskyPerElectron, "nJy per electron");
        h.Set("SKYBG", p.Summary.SkyBg, "[electron] subtracted sky level");
        h.Set("NSOURCES", p.Summary.SourceCount, "sources in the Source table");
        if (p.Psf is { } psf)
        {
            // The Moffat PSF, (1 + r^T Q^-1 r)^-beta in pixels, which makeWarp carries onto the patch grid.
            h.Set("PSFQXX", psf.Qxx, "[pixel^2] PSF Moffat Q matrix xx");
            h.Set("PSFQYY", psf.Qyy, "[pixel^2] PSF Moffat Q matrix yy");
            h.Set("PSFQXY", psf.Qxy, "[pixel^2] PSF Moffat Q matrix xy");
            h.Set("PSFBETA", psf.Beta, "PSF Moffat beta");
        }
        if (p.Astrometry is { } a)
        {
            h.Set("ASTFIT", a.Fitted, "WCS refined by the astrometric fit (TAN + linear)");
            h.Set("ASTNMAT", a.MatchCount, "reference matches used by the astrometric fit");
            if (a.Fitted)
            {
                h.Set("ASTRMS", a.RmsArcsec, "[arcsec] rms of the astrometric fit residuals");
            }
        }
        var primary = FitsImage.HeaderOnly(h);

        FitsHeader PlaneHeader(string name)
        {
            var hh = new FitsHeader().Set("EXTNAME", name);
            wcs.WriteTo(hh);
            return hh;
        }
        FitsImage Plane(string name, float[] pixels) => new(e.Width, e.Height, FitsBitpix.Float32, PlaneHeader(name), pixels);

        // The mask HDU holds the exposure's mask itself: the writer encodes its values as 32-bit integers (afw's MaskX).
        var mask = FitsImage.FromUInt16(e.Width, e.Height, FitsBitpix.Int32, PlaneHeader("MASK"), e.Mask);
        MaskPlanes.DescribeIn(mask.Header);
        return [primary, Plane("IMAGE", e.Image), mask, Plane("VARIANCE", e.Variance)];
    }
}
