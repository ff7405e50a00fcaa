using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Drp.Pipeline.Fits;
using Drp.Pipeline.Simulation;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Wcs;

namespace Drp.Cli;

/// <summary>
/// <c>drp bench sextractor</c>: simulates LSSTCam-size frames, runs <c>drp process-frame</c> (ISR through catalog, one
/// core: <c>DOTNET_PROCESSOR_COUNT=1</c>) and Debian's <c>source-extractor</c> (one thread, on our post-ISR image in
/// electrons, with the same Gaussian filter) side by side, and prints one table against the simulator's truth:
/// completeness per ideal point-source S/N bin (flat and read noise included: <see cref="FrameNoise"/>), purity, photometric bias and scatter, astrometric rms, wall time and
/// peak resident memory. SExtractor runs twice: at DETECT_THRESH 5 as asked (5 times the unfiltered pixel rms) and at
/// the threshold that is 5 sigma of the filtered image, as ours is.
/// </summary>
internal static class SextractorBenchCommand
{
    private const double MatchRadiusPixels = 5.0; // 1 arcsec at 0.2 arcsec/pixel

    private const double FilterSigma = 2.0; // DetectionConfig.PsfSigma, the filter ours detects with

    public static Command Create()
    {
        var frames = new Option<int>("--frames") { Description = "Frames (visits) to simulate and process.", DefaultValueFactory = _ => 1 };
        var size = new Option<string>("--detector") { Description = "'lsstcam' (4072 x 4000, 16 amplifiers) or a size in pixels.", DefaultValueFactory = _ => "lsstcam" };
        var work = new Option<string?>("--work") { Description = "Working folder (default: a new temporary folder, deleted afterwards)." };
        var native = new Option<FileInfo?>("--native")
        {
            Description = "The native build of process-frame (drp-frame from `dotnet publish tools/Drp.Frame -c Release -o DIR`): run it too, as a column of its own.",
        };
        var readyToRun = new Option<FileInfo?>("--ready-to-run")
        {
            Description = "drp precompiled whole (the composite ReadyToRun publish in docs/benchmarks.md): run its process-frame too, as a column of its own.",
        };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 1, Description = "Simulation seed." };
        var cmd = new Command("sextractor", "Our step 1 vs source-extractor vs truth on simulated frames: completeness, purity, photometry, astrometry, time, memory.")
        {
            frames, size, work, seed, native, readyToRun,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            string sizeText = parse.GetValue(size)!;
            var geometry = sizeText == "lsstcam" ? DetectorGeometry.LsstCamItl
                : int.TryParse(sizeText, out int px) && px >= 256 ? DetectorGeometry.Create(px, px) : null;
            if (geometry is null)
            {
                Console.Error.WriteLine($"drp bench sextractor: --detector must be 'lsstcam' or a size >= 256, not '{sizeText}'");
                return 2;
            }
            string dir = parse.GetValue(work) ?? Path.Combine(Path.GetTempPath(), "drp-bench-sex-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var builds = new List<Build> { new("drp process-frame (ISR→catalog, 1 core)", "dotnet", [Path.Combine(AppContext.BaseDirectory, "drp.dll")], "") };
                foreach (var (option, name, suffix) in new[]
                {
                    (readyToRun, "drp process-frame (ReadyToRun publish, 1 core)", "_r2r"),
                    (native, "drp-frame process-frame (native build, 1 core)", "_native"),
                })
                {
                    if (parse.GetValue(option) is not { } file)
                    {
                        continue;
                    }
                    if (!file.Exists)
                    {
                        Console.Error.WriteLine($"drp bench sextractor: {option.Name}: no such file '{file.FullName}'");
                        return 2;
                    }
                    builds.Add(new Build(name, file.FullName, [], suffix));
                }
                await RunAsync(dir, geometry, Math.Max(1, parse.GetValue(frames)), parse.GetValue(seed), builds, ct);
                return 0;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Console.Error.WriteLine($"drp bench sextractor: {e.Message} (apt-get install -y source-extractor)");
                return 2;
            }
            finally
            {
                if (parse.GetValue(work) is null && Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        });
        return cmd;
    }

    /// <summary>One catalog entry as the comparison sees it: zero-based pixel position and a calibrated flux (nJy).</summary>
    internal readonly record struct Detection(double X, double Y, double Ra, double Dec, double Flux);

    internal readonly record struct Truth(string Type, double X, double Y, double Ra, double Dec, double FluxNJy, double Electrons);

    internal sealed record Run(string Name, List<Detection> Detections, double Seconds, double PeakMegabytes)
    {
        /// <summary>Seconds per frame in a long-lived process (ours only): the last run of <c>process-frame --repeat</c>.</summary>
        public double? LongLivedSeconds { get; init; }
    }

    /// <summary>A build of our process-frame: its column's name, how to start it, and its output folders' suffix.</summary>
    internal sealed record Build(string Name, string File, string[] Prefix, string OutSuffix);

    /// <summary>Runs of <c>process-frame --repeat</c> for the long-lived figure: the last one is measured.</summary>
    private const int LongLivedRuns = 3;

    private static async Task RunAsync(string dir, DetectorGeometry geometry, int frames, long seed, IReadOnlyList<Build> builds, CancellationToken ct)
    {
        var options = new SimulationOptions
        {
            Seed = seed,
            VisitCount = frames,
            DetectorColumns = 1,
            DetectorRows = 1,
            Detector = geometry,
            StarDensityPerArcmin2 = 6.0,
            RefcatMagLimit = 22.0,
        };
        var sim = new SurveySimulator(options);
        sim.WriteTo(dir, null, ct);
        Console.WriteLine($"{frames} frame(s) of {geometry.Width} x {geometry.Height} in {dir}; source-extractor {await SextractorVersionAsync()}; "
            + (PinnedCore is null ? "taskset not found: the programs are NOT pinned to one core" : $"both programs pinned to core {PinnedCore} (taskset)"));
        var results = new Dictionary<string, List<Metrics>>();
        foreach (var v in sim.Visits)
        {
            string raw = Path.Combine(dir, "raw", $"visit_{v.Visit}_det_0.fits");
            string bias = Path.Combine(dir, "calib", "bias_det_0.fits"), flat = Path.Combine(dir, "calib", $"flat_{v.Band}_det_0.fits");
            string defects = Path.Combine(dir, "calib", "defects_det_0.fits"), refcat = Path.Combine(dir, "refcat.csv");
            var truth = ReadTruth(Path.Combine(dir, "truth", $"visit_{v.Visit}_det_0.csv"));
            string outDir = Path.Combine(dir, $"out_{v.Visit}");

            var ours = new List<Run>();
            foreach (var build in builds)
            {
                ours.Add(await RunOursAsync(build, raw, bias, flat, defects, refcat, outDir + build.OutSuffix, ct));
            }
            string postIsr = Path.Combine(dir, $"postisr_{v.Visit}.fits");
            WritePostIsr(raw, bias, flat, defects, postIsr, options);
            var refs = ReadRefcat(refcat, v.Band);
            double filteredNoiseRatio = 1.0 / (Math.Sqrt(4 * Math.PI) * FilterSigma);
            var sex5 = await RunSextractorAsync(dir, postIsr, 5.0, refs, "SExtractor DETECT_THRESH 5", ct);
            var sexMatched = await RunSextractorAsync(dir, postIsr, 5.0 * filteredNoiseRatio, refs,
                string.Create(CultureInfo.InvariantCulture, $"SExtractor DETECT_THRESH {5.0 * filteredNoiseRatio:F3} (5σ filtered)"), ct);
            var noise = new FrameNoise(sim.CreateMasterFlat(0, v.Band), sim.GetAmplifiers(0), v.SkyElectronsPerPixel,
                MoffatEffectiveArea(v.SeeingFwhmArcsec / options.PixelScaleArcsec, options.MoffatBeta));
            var shrink = truth.Where(t => t.Type == "star" && t.X >= 0 && t.Y >= 0 && t.X < options.DetectorWidth - 0.5 && t.Y < options.DetectorHeight - 0.5)
                .Select(t => noise.SignalToNoise(t.Electrons, t.X, t.Y) / noise.SkyOnlySignalToNoise(t.Electrons)).Order().ToList();
            if (shrink.Count > 0)
            {
                Console.WriteLine(F($"  visit {v.Visit} ({v.Band}, sky {v.SkyElectronsPerPixel:F0} e⁻/px): ideal S/N with flat and read noise / sky-only S/N over {shrink.Count} stars: median {shrink[shrink.Count / 2]:F3}, 5–95 % {shrink[shrink.Count / 20]:F3}–{shrink[shrink.Count * 19 / 20]:F3}"));
            }
            foreach (var run in ours.Append(sex5).Append(sexMatched))
            {
                var m = Evaluate(run, truth, v, options, noise);
                (results.TryGetValue(run.Name, out var list) ? list : results[run.Name] = []).Add(m);
                Console.WriteLine($"  visit {v.Visit} {run.Name}: {run.Detections.Count} detections, {run.Seconds:F2} s, {run.PeakMegabytes:F0} MB");
            }
        }
        Console.WriteLine();
        Console.WriteLine(Table(results));
    }

    private static async Task<string> SextractorVersionAsync()
    {
        var (_, stdout, stderr, _, _) = await RunProcessAsync("source-extractor", ["--version"], null, CancellationToken.None);
        return (stdout + stderr).Trim().Split('\n')[0];
    }

    /// <summary>
    /// Ours: one build of process-frame (the JIT-compiled <c>drp</c> as a user runs it, the ReadyToRun publish or the
    /// native build), cold in a process of its own, then in a long-lived one.
    /// </summary>
    private static async Task<Run> RunOursAsync(Build build, string raw, string bias, string flat, string defects, string refcat, string outDir, CancellationToken ct)
    {
        string file = build.File;
        string[] prefix = build.Prefix;
        string name = build.Name;
        // Untimed: no run pays for freeing the outputs an earlier bench left in the work folder (a pipeline worker
        // writes each quantum's outputs to new files); --repeat clears its own between runs.
        foreach (string d in new[] { outDir, outDir + "_long_lived" }.Where(Directory.Exists))
        {
            Directory.Delete(d, recursive: true);
        }
        var (exit, stdout, stderr, seconds, peak) = await RunProcessAsync(file,
            [.. prefix, "process-frame", "--raw", raw, "--bias", bias, "--flat", flat, "--defects", defects, "--refcat", refcat, "--out", outDir, "--timings"],
            new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "1", ["DOTNET_gcServer"] = "0" }, ct);
        if (exit != 0)
        {
            throw new InvalidOperationException($"drp process-frame exited {exit}: {stderr}{stdout}");
        }
        // Where our time goes: the per-stage wall times process-frame --timings printed.
        foreach (var line in stderr.Split('\n').Where(l => l.StartsWith("timing ", StringComparison.Ordinal)))
        {
            Console.WriteLine("    " + line);
        }
        var lines = File.ReadAllLines(Path.Combine(outDir, ProcessFrameCommand.OutputFile.Csv));
        var names = lines[0].Split(',');
        int ix = Array.IndexOf(names, "x"), iy = Array.IndexOf(names, "y"), ira = Array.IndexOf(names, "coord_ra"), idec = Array.IndexOf(names, "coord_dec");
        int iflux = Array.IndexOf(names, "psfFlux");
        var detections = lines.Skip(1).Select(l => l.Split(','))
            .Select(f => new Detection(D(f[ix]), D(f[iy]), D(f[ira]), D(f[idec]), D(f[iflux]))).ToList();

        // The same frame in a long-lived process (a pipeline worker's steady state): compiled code, memory reused.
        var (warmExit, warmOut, warmErr, _, _) = await RunProcessAsync(file,
            [.. prefix, "process-frame", "--raw", raw, "--bias", bias, "--flat", flat, "--defects", defects, "--refcat", refcat,
             "--out", outDir + "_long_lived", "--timings", "--repeat", LongLivedRuns.ToString(CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["DOTNET_PROCESSOR_COUNT"] = "1", ["DOTNET_gcServer"] = "0" }, ct);
        if (warmExit != 0)
        {
            throw new InvalidOperationException($"drp process-frame --repeat exited {warmExit}: {warmErr}{warmOut}");
        }
        double longLived = LastRunTotalSeconds(warmErr);
        Console.WriteLine(F($"    long-lived: run {LongLivedRuns} of {LongLivedRuns} in one process took {longLived:F3} s (total of the stages)"));
        return new Run(name, detections, seconds, peak) { LongLivedSeconds = longLived };
    }

    /// <summary>The "total of the stages" wall seconds of the last run that <c>process-frame --timings --repeat</c> printed.</summary>
    internal static double LastRunTotalSeconds(string stderr)
    {
        const string prefix = "timing total of the stages";
        string line = stderr.Split('\n').LastOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException("process-frame --timings printed no total: " + stderr);
        return D(line[prefix.Length..].TrimStart().Split(' ')[0]);
    }

    /// <summary>Our ISR's output (electrons, not background-subtracted) as one HDU with the raw's WCS, for SExtractor.</summary>
    private static void WritePostIsr(string raw, string bias, string flat, string defects, string path, SimulationOptions options)
    {
        var rawHdus = FitsFile.Read(raw);
        var exposure = IsrTask.Run(rawHdus, FitsFile.Read(bias)[0], FitsFile.Read(flat)[0], FitsFile.Read(defects)[0], new IsrConfig());
        var header = new FitsHeader();
        TanWcs.FromHeader(rawHdus[0].Header).WriteTo(header);
        header.Set("GAIN", 1.0, "electron/ADU: the image is in electrons").Set("SATURATE", options.FullWellElectrons);
        FitsFile.Write(path, [new FitsImage(exposure.Width, exposure.Height, FitsBitpix.Float32, header, exposure.Image)]);
    }

    /// <summary>
    /// SExtractor has no photometric calibration: give it ours — the median reference flux / FLUX_AUTO over detections
    /// of S/N ≥ 10 within 1″ of a reference star — so its fluxes are compared on the same footing.
    /// </summary>
    internal static double CalibrateOnReferences(IReadOnlyList<(Detection D, double FluxErr)> detections, IReadOnlyList<ReferenceObjectLite> refs)
    {
        var ratios = new List<double>();
        foreach (var r in refs)
        {
            double cosDec = Math.Cos(r.Dec * Math.PI / 180);
            foreach (var (d, err) in detections)
            {
                if (Math.Abs(d.Dec - r.Dec) * 3600 < 1 && Math.Abs(d.Ra - r.Ra) * cosDec * 3600 < 1
                    && TanWcs.AngularSeparationDegrees(d.Ra, d.Dec, r.Ra, r.Dec) * 3600 < 1 && d.Flux > 10 * err)
                {
                    ratios.Add(r.FluxNJy / d.Flux);
                }
            }
        }
        ratios.Sort();
        return ratios.Count == 0 ? double.NaN : ratios[ratios.Count / 2];
    }

    internal readonly record struct ReferenceObjectLite(double Ra, double Dec, double FluxNJy);

    private static List<ReferenceObjectLite> ReadRefcat(string path, string band) =>
        Drp.Pipeline.Catalogs.ReferenceCatalog.ParseCsv(File.ReadAllText(path), band).Select(r => new ReferenceObjectLite(r.Ra, r.Dec, r.FluxNJy)).ToList();

    private static async Task<Run> RunSextractorAsync(string dir, string image, double threshold, IReadOnlyList<ReferenceObjectLite> refs, string name, CancellationToken ct)
    {
        string param = Path.Combine(dir, "bench.param"), conv = Path.Combine(dir, "bench.conv"), config = Path.Combine(dir, "bench.sex");
        File.WriteAllText(param, "NUMBER\nX_IMAGE\nY_IMAGE\nALPHA_J2000\nDELTA_J2000\nFLUX_AUTO\nFLUXERR_AUTO\nFLUX_APER\nFLUXERR_APER\nFLAGS\n");
        File.WriteAllText(conv, GaussianKernel(FilterSigma, 9));
        File.WriteAllText(config, "");
        string cat = Path.Combine(dir, "bench.cat");
        string t = threshold.ToString("R", CultureInfo.InvariantCulture);
        var (exit, stdout, stderr, seconds, peak) = await RunProcessAsync("source-extractor",
            [image, "-c", config, "-PARAMETERS_NAME", param, "-FILTER", "Y", "-FILTER_NAME", conv,
             "-DETECT_THRESH", t, "-ANALYSIS_THRESH", t, "-DETECT_MINAREA", "5", "-PHOT_APERTURES", "24", "-PHOT_AUTOPARAMS", "2.5,3.5",
             "-GAIN", "1.0", "-BACK_SIZE", "64", "-CATALOG_TYPE", "ASCII_HEAD", "-CATALOG_NAME", cat, "-NTHREADS", "1",
             "-VERBOSE_TYPE", "QUIET", "-MEMORY_PIXSTACK", "3000000", "-MEMORY_OBJSTACK", "30000", "-MEMORY_BUFSIZE", "4096"],
            null, ct);
        if (exit != 0)
        {
            throw new InvalidOperationException($"source-extractor exited {exit}: {stderr}{stdout}");
        }
        var raw = new List<(Detection, double)>();
        foreach (var line in File.ReadLines(cat).Where(l => !l.StartsWith('#')))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // SExtractor's pixels are one-based.
            raw.Add((new Detection(D(f[1]) - 1, D(f[2]) - 1, D(f[3]), D(f[4]), D(f[5])), D(f[6])));
        }
        double nJyPerElectron = CalibrateOnReferences(raw, refs);
        return new Run(name, raw.Select(x => x.Item1 with { Flux = x.Item1.Flux * nJyPerElectron }).ToList(), seconds, peak);
    }

    /// <summary>A normalised Gaussian filter in SExtractor's .conv format.</summary>
    internal static string GaussianKernel(double sigma, int size)
    {
        var sb = new StringBuilder("CONV NORM\n");
        int h = size / 2;
        for (int j = -h; j <= h; j++)
        {
            sb.AppendJoin(' ', Enumerable.Range(-h, size).Select(i => Math.Exp(-0.5 * (i * i + j * j) / (sigma * sigma)).ToString("F6", CultureInfo.InvariantCulture))).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Where both programs run: <c>taskset</c> pins the process and every thread it starts (the .NET runtime's JIT and
    /// GC threads, Parallel.For's workers) to one core, so "1 core" is a fact rather than a setting each program may
    /// or may not honour. Null where taskset is missing (then the processes may use more than one core: the table says so).
    /// </summary>
    internal static string? PinnedCore { get; } = File.Exists("/usr/bin/taskset")
        ? (Environment.ProcessorCount - 1).ToString(CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// Runs a program to completion, pinned to one core when <see cref="PinnedCore"/> is set: exit code, output, wall
    /// seconds and peak resident megabytes (VmHWM, polled).
    /// </summary>
    private static async Task<(int Exit, string Out, string Err, double Seconds, double PeakMegabytes)> RunProcessAsync(
        string file, IEnumerable<string> args, IDictionary<string, string>? env, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(PinnedCore is null ? file : "/usr/bin/taskset")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (PinnedCore is not null)
        {
            // taskset execs the program in the same process: the pid polled below is the program's.
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(PinnedCore);
            psi.ArgumentList.Add(file);
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        double peak = 0;
        while (!p.HasExited)
        {
            peak = Math.Max(peak, PeakResidentMegabytes(p.Id));
            await Task.Delay(20, ct);
        }
        await p.WaitForExitAsync(ct);
        double seconds = clock.Elapsed.TotalSeconds;
        return (p.ExitCode, await stdout, await stderr, seconds, peak);
    }

    private static double PeakResidentMegabytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
            // The process ended between the check and the read.
        }
        return 0;
    }

    private static List<Truth> ReadTruth(string path) =>
        File.ReadLines(path).Skip(1).Select(l => l.Split(','))
            .Select(f => new Truth(f[1], D(f[2]), D(f[3]), D(f[4]), D(f[5]), D(f[6]), D(f[7]))).ToList();

    private static double D(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>
    /// Figures of one catalog against the truth of one frame. Completeness per S/N bin twice: with the honest ideal S/N
    /// (<see cref="FrameNoise.SignalToNoise"/>) and with the earlier sky-only one (<see cref="FrameNoise.SkyOnlySignalToNoise"/>).
    /// </summary>
    internal sealed record Metrics(
        IReadOnlyList<(double Lo, double Hi, int N, int Found)> Completeness, IReadOnlyList<(double Lo, double Hi, int N, int Found)> SkyOnlyCompleteness,
        double Purity, int Detections,
        double PhotometricBias, double PhotometricScatter, int PhotometryStars, double AstrometricRmsMas, int AstrometryStars,
        double Seconds, double PeakMegabytes)
    {
        /// <summary>Seconds per frame in a long-lived process (ours only), else null.</summary>
        public double? LongLivedSeconds { get; init; }
    }

    internal static IReadOnlyList<(double Lo, double Hi)> Bins { get; } = [(3, 4.5), (4.5, 5.5), (5.5, 7), (7, 9), (9, 11), (11, 15), (15, 25), (25, 50), (50, double.PositiveInfinity)];

    /// <summary>
    /// Effective area 1 / ∫p² of a Moffat PSF (pixels²): π α² (2β − 1) / (β − 1)², with α = FWHM / (2 √(2^(1/β) − 1)).
    /// </summary>
    internal static double MoffatEffectiveArea(double fwhmPixels, double beta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fwhmPixels);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(beta, 1.0);
        double alpha = MoffatAlpha(fwhmPixels, beta);
        return Math.PI * alpha * alpha * (2 * beta - 1) / ((beta - 1) * (beta - 1));
    }

    private static double MoffatAlpha(double fwhmPixels, double beta) => fwhmPixels * 0.5 / Math.Sqrt(Math.Pow(2.0, 1.0 / beta) - 1.0);

    internal static Metrics Evaluate(Run run, List<Truth> truth, VisitInfo v, SimulationOptions options, FrameNoise noise)
    {
        double beta = options.MoffatBeta;
        double alpha = MoffatAlpha(v.SeeingFwhmArcsec / options.PixelScaleArcsec, beta);
        double SignalToNoise(Truth t) => noise.SignalToNoise(t.Electrons, t.X, t.Y);
        double peakFraction = (beta - 1) / (Math.PI * alpha * alpha);
        int w = options.DetectorWidth, h = options.DetectorHeight;
        bool Inside(Truth t) => t.X > 10 && t.Y > 10 && t.X < w - 11 && t.Y < h - 11;
        var grid = new SpatialGrid<Detection>(run.Detections, d => (d.X, d.Y), 8);
        var truthGrid = new SpatialGrid<Truth>(truth, t => (t.X, t.Y), 8);
        bool Isolated(Truth t) => !truthGrid.Near(t.X, t.Y, 10).Any(o => !o.Equals(t) && o.Electrons > 0.1 * t.Electrons);

        var stars = truth.Where(t => t.Type == "star" && Inside(t)).ToList();
        List<(double, double, int, int)> Completeness(Func<Truth, double> sn) => Bins.Select(b =>
        {
            var inBin = stars.Where(t => sn(t) >= b.Lo && sn(t) < b.Hi).ToList();
            return (b.Lo, b.Hi, inBin.Count, inBin.Count(t => grid.Nearest(t.X, t.Y, MatchRadiusPixels) is not null));
        }).ToList();
        var completeness = Completeness(SignalToNoise);
        var skyOnly = Completeness(t => noise.SkyOnlySignalToNoise(t.Electrons));
        int real = run.Detections.Count(d => truthGrid.Nearest(d.X, d.Y, MatchRadiusPixels) is not null);

        var bright = stars.Where(t => SignalToNoise(t) > 50 && Isolated(t) && t.Electrons * peakFraction < 0.5 * options.FullWellElectrons)
            .Select(t => (Truth: t, Match: grid.Nearest(t.X, t.Y, MatchRadiusPixels)))
            .Where(x => x.Match is not null).Select(x => (x.Truth, Match: x.Match!.Value)).ToList();
        var ratios = bright.Where(x => double.IsFinite(x.Match.Flux)).Select(x => x.Match.Flux / x.Truth.FluxNJy).Order().ToList();
        double median = ratios.Count > 0 ? ratios[ratios.Count / 2] : double.NaN;
        var absDev = ratios.Select(r => Math.Abs(r - median)).Order().ToList();
        double scatter = absDev.Count > 0 ? 1.4826 * absDev[absDev.Count / 2] : double.NaN;
        var offsets = bright.Select(x => TanWcs.AngularSeparationDegrees(x.Match.Ra, x.Match.Dec, x.Truth.Ra, x.Truth.Dec) * 3.6e6).ToList();
        double rms = offsets.Count > 0 ? Math.Sqrt(offsets.Average(o => o * o)) : double.NaN;
        return new Metrics(completeness, skyOnly, run.Detections.Count == 0 ? double.NaN : real / (double)run.Detections.Count, run.Detections.Count,
            median - 1, scatter, ratios.Count, rms, offsets.Count, run.Seconds, run.PeakMegabytes) { LongLivedSeconds = run.LongLivedSeconds };
    }

    private static string Table(Dictionary<string, List<Metrics>> results)
    {
        var sb = new StringBuilder();
        var names = results.Keys.ToList();
        sb.Append("| metric | ").AppendJoin(" | ", names).Append(" |\n|---|").Append(string.Concat(names.Select(_ => "---|"))).Append('\n');
        void Row(string label, Func<List<Metrics>, string> cell) =>
            sb.Append("| ").Append(label).Append(" | ").AppendJoin(" | ", names.Select(n => cell(results[n]))).Append(" |\n");
        void CompletenessRows(string prefix, Func<Metrics, IReadOnlyList<(double Lo, double Hi, int N, int Found)>> bins)
        {
            for (int b = 0; b < Bins.Count; b++)
            {
                var (lo, hi) = Bins[b];
                string label = double.IsPositiveInfinity(hi) ? $"{prefix} S/N ≥ {lo}" : $"{prefix} S/N {lo}–{hi}";
                Row(label, ms =>
                {
                    int n = ms.Sum(m => bins(m)[b].N), found = ms.Sum(m => bins(m)[b].Found);
                    return n == 0 ? "–" : F($"{found / (double)n:F3} ({n})");
                });
            }
        }
        CompletenessRows("completeness, stars", m => m.Completeness);
        CompletenessRows("completeness (old sky-only S/N), stars", m => m.SkyOnlyCompleteness);
        Row("purity (detections within 1″ of a truth source)", ms => F($"{ms.Sum(m => m.Purity * m.Detections) / ms.Sum(m => m.Detections):F3} ({ms.Sum(m => m.Detections)})"));
        Row("photometry, isolated unsaturated stars S/N > 50: median flux/true − 1", ms => Signed(ms.Average(m => m.PhotometricBias)));
        Row("photometry: robust scatter of flux/true (1.4826 MAD)", ms => F($"{ms.Average(m => m.PhotometricScatter):F4} ({ms.Sum(m => m.PhotometryStars)})"));
        Row("astrometric rms, same stars (mas)", ms => F($"{Math.Sqrt(ms.Average(m => m.AstrometricRmsMas * m.AstrometricRmsMas)):F1}"));
        Row("wall time per frame (s, 1 core)", ms => F($"{ms.Average(m => m.Seconds):F2}"));
        Row($"per frame in a long-lived process (s, 1 core; run {LongLivedRuns} of process-frame --repeat {LongLivedRuns})",
            ms => ms.All(m => m.LongLivedSeconds is not null) ? F($"{ms.Average(m => m.LongLivedSeconds!.Value):F2}") : "–");
        Row("peak resident memory (MB)", ms => F($"{ms.Max(m => m.PeakMegabytes):F0}"));
        return sb.ToString();
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Signed(double x) => (x >= 0 ? "+" : "−") + Math.Abs(x).ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>
    /// The noise a truth star sees where it lies in a simulated frame, for its ideal point-source S/N: the simulator
    /// multiplies sky and stars by the master flat (mean 1), and each amplifier adds its read noise. The S/N is the
    /// PSF-weighted (optimal) one, F f / √(A (s f + rn²)), with F the star's electrons before the flat, f the flat at
    /// the star's pixel, s the sky per pixel before the flat, rn the read noise of the amplifier whose DETSEC holds the
    /// pixel, and A the PSF's effective area (<see cref="MoffatEffectiveArea"/>). The star's own photon noise and the
    /// confusion of undetected sources are left out.
    /// </summary>
    internal sealed class FrameNoise
    {
        private readonly FitsImage _flat;
        private readonly (PixelSection Section, double ReadNoiseElectrons)[] _amplifiers;

        public FrameNoise(FitsImage flat, IEnumerable<AmplifierInfo> amplifiers, double skyElectronsPerPixel, double effectiveAreaPixels)
        {
            ArgumentNullException.ThrowIfNull(flat);
            ArgumentNullException.ThrowIfNull(amplifiers);
            ArgumentOutOfRangeException.ThrowIfNegative(skyElectronsPerPixel);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(effectiveAreaPixels);
            _flat = flat;
            _amplifiers = amplifiers.Select(a => (PixelSection.Parse(a.DetSec), a.ReadNoiseElectrons)).ToArray();
            SkyElectronsPerPixel = skyElectronsPerPixel;
            EffectiveAreaPixels = effectiveAreaPixels;
        }

        public double SkyElectronsPerPixel { get; }

        public double EffectiveAreaPixels { get; }

        /// <summary>The honest ideal S/N of a star of <paramref name="electrons"/> (before the flat) at zero-based (x, y).</summary>
        public double SignalToNoise(double electrons, double x, double y)
        {
            int px = (int)Math.Round(x), py = (int)Math.Round(y);
            if (px < 0 || py < 0 || px >= _flat.Width || py >= _flat.Height)
            {
                throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside the {_flat.Width} x {_flat.Height} frame");
            }
            return PointSourceSignalToNoise(electrons, _flat[px, py], SkyElectronsPerPixel, ReadNoiseAt(px, py), EffectiveAreaPixels);
        }

        /// <summary>The earlier definition: electrons / √(A s), sky noise alone, no flat, no read noise.</summary>
        public double SkyOnlySignalToNoise(double electrons) => electrons / Math.Sqrt(SkyElectronsPerPixel * EffectiveAreaPixels);

        /// <summary>The read noise (e⁻) of the amplifier whose DETSEC holds the zero-based pixel (x, y).</summary>
        public double ReadNoiseAt(int x, int y)
        {
            foreach (var (section, readNoise) in _amplifiers)
            {
                if (x >= section.XMin && x <= section.XMax && y >= section.YMin && y <= section.YMax)
                {
                    return readNoise;
                }
            }
            throw new ArgumentOutOfRangeException(nameof(x), $"pixel ({x}, {y}) is in no amplifier's DETSEC");
        }

        /// <summary>F f / √(A (s f + rn²)): see <see cref="FrameNoise"/>.</summary>
        internal static double PointSourceSignalToNoise(double electrons, double flat, double skyElectronsPerPixel, double readNoiseElectrons, double effectiveAreaPixels) =>
            electrons * flat / Math.Sqrt(effectiveAreaPixels * (skyElectronsPerPixel * flat + readNoiseElectrons * readNoiseElectrons));
    }

    /// <summary>A bucket grid for nearest-neighbour matching within a few pixels.</summary>
    private sealed class SpatialGrid<T>
        where T : struct
    {
        private readonly ILookup<(int, int), T> _cells;
        private readonly Func<T, (double X, double Y)> _position;
        private readonly double _cell;

        public SpatialGrid(IEnumerable<T> items, Func<T, (double X, double Y)> position, double cell)
        {
            _position = position;
            _cell = cell;
            _cells = items.ToLookup(i => Key(position(i)));
        }

        private (int, int) Key((double X, double Y) p) => ((int)Math.Floor(p.X / _cell), (int)Math.Floor(p.Y / _cell));

        public IEnumerable<T> Near(double x, double y, double radius)
        {
            int r = (int)Math.Ceiling(radius / _cell);
            var (cx, cy) = Key((x, y));
            for (int i = cx - r; i <= cx + r; i++)
            {
                for (int j = cy - r; j <= cy + r; j++)
                {
                    foreach (var item in _cells[(i, j)])
                    {
                        var p = _position(item);
                        if ((p.X - x) * (p.X - x) + (p.Y - y) * (p.Y - y) <= radius * radius)
                        {
                            yield return item;
                        }
                    }
                }
            }
        }

        public T? Nearest(double x, double y, double radius)
        {
            T? best = null;
            double bestD = double.MaxValue;
            foreach (var item in Near(x, y, radius))
            {
                var p = _position(item);
                double d = (p.X - x) * (p.X - x) + (p.Y - y) * (p.Y - y);
                if (d < bestD)
                {
                    (best, bestD) = (item, d);
                }
            }
            return best;
        }
    }
}
