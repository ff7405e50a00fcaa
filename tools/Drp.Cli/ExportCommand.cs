using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.Catalogs.Partitioning;
using Drp.Storage.Catalogs;
using Parquet;

namespace Drp.Cli;

/// <summary>
/// <c>drp export</c>: Source Parquet files (as <see cref="ParquetCatalogWriter"/> writes them) to a Qserv ingest-ready
/// export partitioned on the sky (<see cref="PartitionedCatalogExport"/>): one <c>chunk_{id}.parquet</c> per chunk
/// and <c>manifest.json</c>. Exit codes: 0 exported, 1 internal error, 2 usage, 3 invalid input.
/// </summary>
internal static class ExportCommand
{
    internal static class ExitCodes
    {
        public const int Exported = 0;

        public const int InternalError = 1;

        /// <summary>A missing option, bad partitioning parameters, an input path that does not exist or holds no Parquet, an --out folder in use.</summary>
        public const int Usage = 2;

        /// <summary>An input file that is not Parquet, lacks a Source column, or has a position off the sky. Nothing is written.</summary>
        public const int InvalidInput = 3;
    }

    public static Command Create()
    {
        var input = new Option<string[]>("--input")
        {
            Description = "Source Parquet files, or folders searched recursively for *.parquet (files are read in path order).",
            AllowMultipleArgumentsPerToken = true,
        };
        var outDir = new Option<string>("--out") { Description = "Export folder: empty, new, or a previous export (its files are replaced)." };
        var defaults = new SkyPartitioningConfig();
        var stripes = new Option<int>("--stripes") { Description = "Declination stripes.", DefaultValueFactory = _ => defaults.NumStripes };
        var subStripes = new Option<int>("--substripes") { Description = "Sub-stripes per stripe.", DefaultValueFactory = _ => defaults.NumSubStripesPerStripe };
        var overlap = new Option<double>("--overlap") { Description = "Overlap radius in degrees.", DefaultValueFactory = _ => defaults.OverlapDeg };
        var cmd = new Command("export",
            "Partitions Source catalogs on the sky as Qserv does (stripes, chunks, sub-chunks, overlap) into one Parquet file "
            + "per chunk with chunkId, subChunkId and overlap columns, and a manifest of files, row counts and SHA-256. "
            + "Exit codes: 0 exported, 1 internal error, 2 usage, 3 invalid input.")
        {
            input, outDir, stripes, subStripes, overlap,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var inputs = parse.GetValue(input);
            string? output = parse.GetValue(outDir);
            if (inputs is null || inputs.Length == 0 || string.IsNullOrWhiteSpace(output))
            {
                await Console.Error.WriteLineAsync("drp export: --input and --out are required");
                return ExitCodes.Usage;
            }
            return await RunAsync(inputs, output, new SkyPartitioningConfig(parse.GetValue(stripes), parse.GetValue(subStripes), parse.GetValue(overlap)),
                Console.Out, Console.Error, ct);
        });
        return cmd;
    }

    internal static async Task<int> RunAsync(IReadOnlyList<string> inputs, string outDir, SkyPartitioningConfig config, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        SkyPartitioner partitioner;
        try
        {
            partitioner = new SkyPartitioner(config);
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"drp export: bad partitioning: {e.Message}");
            return ExitCodes.Usage;
        }
        var files = new List<string>();
        foreach (var path in inputs)
        {
            if (File.Exists(path))
            {
                files.Add(Path.GetFullPath(path));
            }
            else if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Select(Path.GetFullPath));
            }
            else
            {
                await stderr.WriteLineAsync($"drp export: --input: no such file or folder '{Path.GetFullPath(path)}'");
                return ExitCodes.Usage;
            }
        }
        files = files.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            await stderr.WriteLineAsync($"drp export: --input: no *.parquet file in {string.Join(", ", inputs)}");
            return ExitCodes.Usage;
        }
        var (refused, previousFiles) = await CheckOutputAsync(outDir, stderr, ct);
        if (refused is not null)
        {
            return refused.Value;
        }

        var export = new PartitionedCatalogExport(partitioner);
        var progress = new ConsoleProgress(stdout, files.Count);
        PartitionManifest manifest;
        try
        {
            manifest = await export.ExportAsync(ReadAllAsync(files, progress, ct), new DirectoryExportTarget(outDir), progress, ct);
        }
        catch (Exception e) when (e is CatalogExportException or InputFileException)
        {
            await stderr.WriteLineAsync($"drp export: invalid input: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        foreach (var stale in previousFiles.Except(manifest.Files.Select(f => Path.GetFullPath(Path.Combine(outDir, f.Path)))))
        {
            File.Delete(stale); // a chunk of the previous export that this one does not have
        }
        var t = manifest.Totals;
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"exported {t.InputRows} rows from {files.Count} files into {t.Files} chunks ({config.NumStripes} stripes, {config.NumSubStripesPerStripe} sub-stripes, overlap {config.OverlapDeg} deg): "
            + $"{t.OwnRows} own rows, {t.OverlapRows} overlap copies, {t.Bytes} bytes -> {Path.GetFullPath(Path.Combine(outDir, PartitionedCatalogExport.ManifestName))}"));
        return ExitCodes.Exported;
    }

    /// <summary>
    /// Refuses an --out that holds anything but a previous export; returns the previous export's chunk files, removed
    /// after a successful export when it has no such chunk (left alone when this export fails).
    /// </summary>
    private static async Task<(int? Refused, IReadOnlyList<string> PreviousFiles)> CheckOutputAsync(string outDir, TextWriter stderr, CancellationToken ct)
    {
        if (!Directory.Exists(outDir) || !Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            return (null, []);
        }
        string manifestPath = Path.GetFullPath(Path.Combine(outDir, PartitionedCatalogExport.ManifestName));
        PartitionManifest? previous = null;
        if (File.Exists(manifestPath))
        {
            try
            {
                previous = PartitionManifest.Parse(await File.ReadAllTextAsync(manifestPath, ct));
            }
            catch (JsonException)
            {
                // Not our manifest: refused below like any other content.
            }
        }
        var ours = previous?.Files.Select(f => Path.GetFullPath(Path.Combine(outDir, f.Path))).ToList();
        var present = Directory.EnumerateFileSystemEntries(outDir, "*", SearchOption.AllDirectories).Select(Path.GetFullPath);
        if (ours is null || present.Any(p => p != manifestPath && !ours.Contains(p, StringComparer.Ordinal)))
        {
            await stderr.WriteLineAsync($"drp export: --out '{Path.GetFullPath(outDir)}' is not empty and not a previous export: give an empty or new folder");
            return (ExitCodes.Usage, []);
        }
        return (null, ours.Where(File.Exists).ToList());
    }

    private static async IAsyncEnumerable<CatalogTable> ReadAllAsync(IReadOnlyList<string> files, ConsoleProgress progress, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var file in files)
        {
            CatalogTable table;
            try
            {
                await using var stream = File.OpenRead(file);
                table = await ParquetCatalogWriter.ReadAsync(stream, SourceSchema.TableName, SourceSchema.Columns, ct);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ParquetException or NotSupportedException or ArgumentException or InvalidCastException)
            {
                throw new InputFileException($"{file}: {e.Message}", e);
            }
            progress.FileRead(file, table.Rows.Count);
            yield return table;
        }
    }

    /// <summary>An input file that cannot be read as a Source catalog.</summary>
    private sealed class InputFileException(string message, Exception inner) : Exception(message, inner);

    /// <summary>Prints a line per pass and every few seconds, not per file: an export may read thousands.</summary>
    private sealed class ConsoleProgress(TextWriter stdout, int fileCount) : IProgress<PartitionExportProgress>
    {
        private readonly System.Diagnostics.Stopwatch _since = System.Diagnostics.Stopwatch.StartNew();
        private int _filesRead;
        private string? _pass;

        public void FileRead(string file, int rows) => _filesRead++;

        public void Report(PartitionExportProgress p)
        {
            bool newPass = p.Pass != _pass;
            if (newPass || _since.Elapsed > TimeSpan.FromSeconds(5) || (p.FilesTotal > 0 && p.FilesWritten == p.FilesTotal))
            {
                _pass = p.Pass;
                _since.Restart();
                stdout.WriteLine(p.Pass == "count"
                    ? string.Create(CultureInfo.InvariantCulture, $"counting: {p.RowsRead} rows read, file {_filesRead} of {fileCount}")
                    : string.Create(CultureInfo.InvariantCulture, $"writing: {p.FilesWritten} of {p.FilesTotal} chunk files written ({p.RowsRead} rows read in this pass)"));
            }
        }
    }
}
