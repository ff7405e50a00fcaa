using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Drp.Core.Planning;
using Drp.Core.Tasks;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Fits;
using Drp.Pipeline.SingleFrame;
using Drp.Pipeline.Tasks;

namespace Drp.Cli;

/// <summary>
/// <c>drp process-frame</c>: step-1 processing of one raw with no Azure at all — the same
/// <see cref="ProcessFrameTask"/> the pipeline quantum runs — writing <c>calexp.fits</c>, <c>source.parquet</c>,
/// <c>source.csv</c> (same columns) and <c>ccdvisit.json</c> into the output folder.
/// <para>Exit codes: <see cref="ExitCodes"/>.</para>
/// </summary>
internal static class ProcessFrameCommand
{
    /// <summary>The documented exit codes of <c>drp process-frame</c>.</summary>
    internal static class ExitCodes
    {
        /// <summary>Processed: all four outputs written.</summary>
        public const int Processed = 0;

        /// <summary>An unexpected internal error (a bug): the message and stack trace are on stderr.</summary>
        public const int InternalError = 1;

        /// <summary>Usage: a missing or invalid option, or an input file that does not exist.</summary>
        public const int Usage = 2;

        /// <summary>
        /// Invalid input: a FITS file that cannot be read (truncated, malformed), a missing or invalid keyword, a section
        /// outside the image, a calibration of the wrong size or band, an unreadable reference catalog. Nothing is written.
        /// </summary>
        public const int InvalidInput = 3;

        /// <summary>
        /// Unprocessable (a typed outcome, not an error; DP0.2's "No reference objects supplied"): no reference object on
        /// the detector, or too few matches. <c>unprocessable.json</c> (reason, message) is written; no other output.
        /// </summary>
        public const int Unprocessable = 4;
    }

    public static Command Create()
    {
        var raw = new Option<FileInfo>("--raw") { Description = "Raw frame (multi-extension with DATASEC/BIASSEC/DETSEC per amplifier, or one HDU with DATASEC/BIASSEC/TRIMSEC)." };
        var bias = new Option<FileInfo>("--bias") { Description = "Master bias (assembled geometry; BUNIT adu or electron)." };
        var flat = new Option<FileInfo>("--flat") { Description = "Master flat of the raw's band (assembled geometry)." };
        var defects = new Option<FileInfo?>("--defects") { Description = "Defect mask (assembled geometry, non-zero = bad pixel)." };
        var refcat = new Option<FileInfo>("--refcat") { Description = "Reference catalog CSV: ra, dec (deg) and {band}_mag (AB) or {band}_flux (nJy)." };
        var outDir = new Option<string>("--out") { Description = "Output folder (created when missing)." };
        var visit = new Option<long?>("--visit") { Description = "Visit id (default: the raw's VISIT keyword, else 0)." };
        var detector = new Option<int?>("--detector") { Description = "Detector id (default: the raw's DETECTOR keyword, else 0)." };
        var band = new Option<string?>("--band") { Description = "Band (default: the raw's BAND keyword)." };
        var pipeline = new Option<FileInfo?>("--pipeline") { Description = "Pipeline YAML whose step-1 config runs (default: the built-in pipelines/drp.yaml)." };
        var timings = new Option<bool>("--timings") { Description = "Print the wall time, CPU time and resident memory of each stage (reading, ISR, ..., writing) to stderr." };
        var repeat = new Option<int>("--repeat")
        {
            Description = "Benchmarking: process the same inputs this many times in one process (outputs overwritten; a full garbage "
                + "collection, untimed, between runs). Runs after the first show a long-lived worker's per-frame cost: the code is "
                + "compiled and the memory is no longer fresh.",
            DefaultValueFactory = _ => 1,
        };
        var cmd = new Command("process-frame",
            "Single-frame processing (ISR, background, PSF, detection, measurement, calibration) of one raw, with no Azure. "
            + "Exit codes: 0 processed, 1 internal error, 2 usage, 3 invalid input, 4 unprocessable.")
        {
            raw, bias, flat, defects, refcat, outDir, visit, detector, band, pipeline, timings, repeat,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            // Required options are checked here rather than by the parser so that a missing one exits with Usage (2).
            foreach (var option in new Option[] { raw, bias, flat, refcat, outDir })
            {
                if (parse.GetResult(option) is null)
                {
                    await Console.Error.WriteLineAsync($"drp process-frame: {option.Name} is required");
                    return ExitCodes.Usage;
                }
            }
            var request = new Request(parse.GetValue(raw)!, parse.GetValue(bias)!, parse.GetValue(flat)!, parse.GetValue(defects),
                parse.GetValue(refcat)!, parse.GetValue(outDir)!, parse.GetValue(visit), parse.GetValue(detector), parse.GetValue(band))
            {
                Timings = parse.GetValue(timings),
                Repeat = parse.GetValue(repeat),
                Pipeline = parse.GetValue(pipeline),
            };
            if (request.Repeat < 1)
            {
                await Console.Error.WriteLineAsync($"drp process-frame: --repeat must be at least 1, not {request.Repeat}");
                return ExitCodes.Usage;
            }
            return await RunAsync(request, Console.Out, Console.Error, ct);
        });
        return cmd;
    }

    internal sealed record Request(
        FileInfo Raw, FileInfo Bias, FileInfo Flat, FileInfo? Defects, FileInfo RefCat, string OutDir,
        long? Visit, int? Detector, string? Band)
    {
        /// <summary>Print the wall time, CPU time and resident memory of each stage to stderr.</summary>
        public bool Timings { get; init; }

        /// <summary>Process the same inputs this many times in one process (benchmarking a long-lived worker).</summary>
        public int Repeat { get; init; } = 1;

        /// <summary>The pipeline whose step-1 config runs; null: the built-in one.</summary>
        public FileInfo? Pipeline { get; init; }
    }

    /// <summary>
    /// Step 1's config as the pipeline gives it: the <c>processFrame</c> group bound to <see cref="ProcessFrameTask"/>,
    /// exactly as the quantum runner binds it, so both run the same config and record the same hash.
    /// </summary>
    internal static BoundTask BindConfig(FileInfo? pipeline)
    {
        var definition = pipeline is null ? PipelineDefinitionLoader.LoadDefault() : PipelineDefinitionLoader.Load(pipeline.FullName);
        var unit = definition.Steps.SelectMany(s => s.Units).FirstOrDefault(u => u.Name == ProcessFrameTask.TaskName)
            ?? throw new PipelineDefinitionException(definition.Source, 1, "pipeline", $"no task or fused group '{ProcessFrameTask.TaskName}'");
        return TaskConfigBinder.Bind(new ProcessFrameTask(), unit);
    }

    internal static async Task<int> RunAsync(Request r, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        foreach (var (option, file) in new[] { ("--raw", r.Raw), ("--bias", r.Bias), ("--flat", r.Flat), ("--defects", r.Defects), ("--refcat", r.RefCat) })
        {
            if (file is not null && !file.Exists)
            {
                await stderr.WriteLineAsync($"drp process-frame: {option}: no such file '{file.FullName}'");
                return ExitCodes.Usage;
            }
        }
        if (r.Pipeline is { Exists: false })
        {
            await stderr.WriteLineAsync($"drp process-frame: --pipeline: no such file '{r.Pipeline.FullName}'");
            return ExitCodes.Usage;
        }
        SingleFrameConfig config;
        try
        {
            config = ((ProcessFrameConfig)BindConfig(r.Pipeline).Config).ToSingleFrame();
        }
        catch (PipelineDefinitionException e)
        {
            await stderr.WriteLineAsync($"drp process-frame: invalid pipeline: {e.Message}");
            return ExitCodes.Usage;
        }
        for (int run = 1; run <= r.Repeat; run++)
        {
            if (run > 1)
            {
                // Untimed: the previous run's planes are collected so this run reuses their memory, as a worker's
                // steady state does once the collector has run, instead of growing the heap by a frame per run.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                // Also untimed: a worker writes each quantum's outputs to new files, so this run must not pay for
                // truncating the last run's (freeing a 200 MB calexp.fits took 0.08-0.1 s inside the timed write).
                DeleteOutputs(r.OutDir);
            }
            var timings = r.Timings ? new StageTimings() : null;
            int exit = await RunOnceAsync(r, config, timings, stdout, stderr, ct);
            if (timings is not null)
            {
                if (r.Repeat > 1)
                {
                    await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"timing run {run} of {r.Repeat}"));
                }
                await WriteTimingsAsync(timings, stderr);
            }
            if (exit != ExitCodes.Processed)
            {
                return exit;
            }
        }
        return ExitCodes.Processed;
    }

    /// <summary>Reads the inputs, processes them and writes the outputs once.</summary>
    private static async Task<int> RunOnceAsync(Request r, SingleFrameConfig config, StageTimings? timings, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ProcessFrameInputs inputs;
        FitsImageReader rawFile;
        try
        {
            (inputs, rawFile) = ReadInputs(r);
            timings?.Lap("read inputs");
        }
        catch (Exception e) when (IsInvalidInput(e))
        {
            await stderr.WriteLineAsync($"drp process-frame: invalid input: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        ProcessFrameOutputs outputs;
        try
        {
            using (rawFile)
            {
                outputs = ProcessFrameTask.Run(inputs, config, timings);
            }
        }
        catch (Exception e) when (IsInvalidInput(e))
        {
            await stderr.WriteLineAsync($"drp process-frame: invalid input: {e.Message}");
            return ExitCodes.InvalidInput;
        }

        Directory.CreateDirectory(r.OutDir);
        if (outputs.Unprocessable is { } reason)
        {
            await File.WriteAllTextAsync(Path.Combine(r.OutDir, OutputFile.Unprocessable),
                JsonSerializer.Serialize(new UnprocessableReport(inputs.Visit, inputs.Detector, inputs.Band, reason), ProcessFrameJson.Default.UnprocessableReport), ct);
            await stderr.WriteLineAsync($"drp process-frame: unprocessable: {reason}");
            return ExitCodes.Unprocessable;
        }

        timings?.Skip();
        FitsFile.Write(Path.Combine(r.OutDir, OutputFile.Calexp), outputs.Calexp!);
        timings?.Lap("write calexp.fits");
        await using (var parquet = File.Create(Path.Combine(r.OutDir, OutputFile.Parquet)))
        {
            await ParquetCatalogWriter.WriteAsync(parquet, outputs.Sources!, null, ct);
        }
        timings?.Lap("write source.parquet");
        using (var csv = File.Create(Path.Combine(r.OutDir, OutputFile.Csv)))
        {
            WriteCsv(csv, outputs.Sources!);
        }
        timings?.Lap("write source.csv");
        await File.WriteAllTextAsync(Path.Combine(r.OutDir, OutputFile.CcdVisit), JsonSerializer.Serialize(outputs.Summary!, ProcessFrameJson.Default.CcdVisitSummary), ct);
        timings?.Lap("write ccdvisit.json");
        var s = outputs.Summary!;
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"visit {s.Visit} detector {s.Detector} band {s.Band}: {s.SourceCount} sources, zeroPoint {s.ZeroPoint:F4} ± {s.ZeroPointErr:F4} ({s.ReferenceMatchCount} reference matches), seeing {s.Seeing:F2}\" -> {Path.GetFullPath(r.OutDir)}"));
        return ExitCodes.Processed;
    }

    /// <summary>The files a run writes into <paramref name="outDir"/>, when present.</summary>
    internal static void DeleteOutputs(string outDir)
    {
        foreach (string name in OutputFiles)
        {
            File.Delete(Path.Combine(outDir, name));
        }
    }

    /// <summary>The names of the files a run writes into its output folder.</summary>
    internal static class OutputFile
    {
        public const string Calexp = "calexp.fits", Parquet = "source.parquet", Csv = "source.csv", CcdVisit = "ccdvisit.json",
            Unprocessable = "unprocessable.json";
    }

    private static readonly string[] OutputFiles = [OutputFile.Calexp, OutputFile.Parquet, OutputFile.Csv, OutputFile.CcdVisit, OutputFile.Unprocessable];

    /// <summary>unprocessable.json: the frame and the reason.</summary>
    internal sealed record UnprocessableReport(
        [property: JsonPropertyName("visit")] long Visit,
        [property: JsonPropertyName("detector")] int Detector,
        [property: JsonPropertyName("band")] string Band,
        [property: JsonPropertyName("reason")] string Reason);

    /// <summary>
    /// One line per stage (wall time, CPU time, resident set at its end), then the totals and the time since the
    /// process started (runtime start included).
    /// </summary>
    private static async Task WriteTimingsAsync(StageTimings timings, TextWriter stderr)
    {
        double total = 0, totalCpu = 0;
        foreach (var t in timings.Stages)
        {
            total += t.Elapsed.TotalSeconds;
            totalCpu += t.Cpu.TotalSeconds;
            await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"timing {t.Stage,-30} {t.Elapsed.TotalSeconds,7:F3} s  cpu {t.Cpu.TotalSeconds,6:F3} s  rss {t.ResidentBytes / 1048576.0,5:F0} MB  alloc {t.AllocatedBytes / 1048576.0,6:F1} MB"));
        }
        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"timing {"total of the stages",-30} {total,7:F3} s  cpu {totalCpu,6:F3} s"));
        var process = System.Diagnostics.Process.GetCurrentProcess();
        double sinceStart = (DateTime.Now - process.StartTime).TotalSeconds;
        await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"timing {"since process start",-30} {sinceStart,7:F3} s  cpu {Environment.CpuUsage.TotalTime.TotalSeconds,6:F3} s  gc committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0,5:F0} MB, {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} collections  peak rss {process.PeakWorkingSet64 / 1048576.0,5:F0} MB"));
    }

    /// <summary>Bad input, as opposed to a bug: these exceptions carry a message that names the file and the problem.</summary>
    private static bool IsInvalidInput(Exception e) =>
        e is FitsFormatException or IsrInputException or ReferenceCatalogException or IOException;

    /// <summary>
    /// The inputs, the raw's headers read and checked but its pixels left in the file: ISR reads one amplifier at a
    /// time from the reader returned with them, which the caller disposes of after processing.
    /// </summary>
    private static (ProcessFrameInputs Inputs, FitsImageReader RawFile) ReadInputs(Request r)
    {
        var rawFile = OpenFits(r.Raw, "raw");
        try
        {
            return (ReadInputs(r, RawFrame.FromReader(rawFile)), rawFile);
        }
        catch
        {
            rawFile.Dispose();
            throw;
        }
    }

    private static ProcessFrameInputs ReadInputs(Request r, RawFrame raw)
    {
        var primary = raw.PrimaryHeader;
        string band = r.Band ?? (primary["BAND"] as string)?.Trim()
            ?? throw new IsrInputException("raw HDU 0", "BAND", null, "the band is needed to pick the reference fluxes: give --band");
        long visit = r.Visit ?? IntegerKeyword(primary, "VISIT");
        int detector = r.Detector ?? (int)IntegerKeyword(primary, "DETECTOR");
        var biasImage = ProcessFrameTask.SingleImage(ReadFits(r.Bias, "bias"), "bias");
        var flatImage = ProcessFrameTask.SingleImage(ReadFits(r.Flat, "flat"), "flat");
        var defectsMap = r.Defects is null ? null : NamingTheFile(r.Defects, "defects", DefectMap.Read);
        var refs = ReferenceCatalog.ParseCsv(File.ReadAllText(r.RefCat.FullName), band);
        // The calibrations were read for this frame alone: ISR may reuse their memory for the calexp's planes.
        return new ProcessFrameInputs(raw, biasImage, flatImage, defectsMap, refs, visit, detector, band) { ConsumeCalibrations = true };
    }

    /// <summary>An integer keyword of the raw's primary header; 0 when absent (raws from elsewhere need not carry ids).</summary>
    private static long IntegerKeyword(FitsHeader header, string key) => header[key] switch
    {
        null => 0,
        long l => l,
        int i => i,
        var other => throw new IsrInputException("raw HDU 0", key, Convert.ToString(other, CultureInfo.InvariantCulture), "expected an integer"),
    };

    private static FitsImageReader OpenFits(FileInfo file, string what) => NamingTheFile(file, what, FitsFile.OpenImages);

    private static IReadOnlyList<FitsImage> ReadFits(FileInfo file, string what) => NamingTheFile(file, what, FitsFile.Read);

    /// <summary>Reads <paramref name="file"/>; a malformed one's error names the input and the file.</summary>
    private static T NamingTheFile<T>(FileInfo file, string what, Func<string, FitsReadOptions?, T> read)
    {
        try
        {
            return read(file.FullName, null);
        }
        catch (FitsFormatException e)
        {
            throw new FitsFormatException(e.Kind, $"{what} '{file.Name}': {e.Message}", e);
        }
    }

    /// <summary>
    /// The table as CSV in UTF-8: a header of column names, invariant-culture numbers (round-trip), booleans as
    /// true/false, strings quoted when they hold a comma or a quote. Each value is formatted straight into a buffer of
    /// bytes (no string per value).
    /// </summary>
    internal static void WriteCsv(Stream stream, CatalogTable table)
    {
        var buffer = new byte[1 << 16];
        int used = 0;
        void Flush()
        {
            stream.Write(buffer, 0, used);
            used = 0;
        }
        void Text(string text)
        {
            int most = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (used + most > buffer.Length)
            {
                Flush();
            }
            if (most > buffer.Length)
            {
                stream.Write(Encoding.UTF8.GetBytes(text)); // longer than the buffer: written on its own
                return;
            }
            used += Encoding.UTF8.GetBytes(text, buffer.AsSpan(used));
        }
        void Byte(byte b)
        {
            if (used == buffer.Length)
            {
                Flush();
            }
            buffer[used++] = b;
        }
        void Value(IUtf8SpanFormattable value, string? format)
        {
            int written;
            while (!value.TryFormat(buffer.AsSpan(used), out written, format, CultureInfo.InvariantCulture))
            {
                Flush();
            }
            used += written;
        }

        Text(string.Join(',', table.Columns.Select(c => c.Name)));
        Byte((byte)'\n');
        foreach (var row in table.Rows)
        {
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    Byte((byte)',');
                }
                switch (row[i])
                {
                    case null:
                        break;
                    case double x:
                        Value(x, "R");
                        break;
                    case float x:
                        Value(x, "R");
                        break;
                    case bool x:
                        Text(x ? "true" : "false");
                        break;
                    case string x:
                        Text(x.Contains(',') || x.Contains('"') ? "\"" + x.Replace("\"", "\"\"") + "\"" : x);
                        break;
                    case IUtf8SpanFormattable x:
                        Value(x, null);
                        break;
                    case IFormattable x:
                        Text(x.ToString(null, CultureInfo.InvariantCulture));
                        break;
                    case var x:
                        Text(x.ToString() ?? "");
                        break;
                }
            }
            Byte((byte)'\n');
        }
        Flush();
    }

}

/// <summary>The JSON this command writes, generated at compile time (no reflection: the native build writes it too).</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(CcdVisitSummary))]
[JsonSerializable(typeof(ProcessFrameCommand.UnprocessableReport))]
internal sealed partial class ProcessFrameJson : JsonSerializerContext;
