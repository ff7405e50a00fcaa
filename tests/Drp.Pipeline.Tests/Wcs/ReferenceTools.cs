using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Drp.Pipeline.Tests.Tools;

namespace Drp.Pipeline.Tests.Wcs;

/// <summary>
/// The reference tools the WCS and simulation tests compare against, through <see cref="ExternalTool"/>: Debian's
/// python3 with astropy (package python3-astropy) and fitsverify (package fitsverify). A missing tool fails the
/// test and names the package.
/// </summary>
internal static class ReferenceTools
{
    /// <summary>Debian's interpreter, which has python3-astropy; the python3 on PATH may be another one without it.</summary>
    public const string Python = ExternalTool.DebianPython;

    public const string FitsVerify = "/usr/bin/fitsverify";

    /// <summary>Runs a Python script with Debian's python3 and returns its standard output; fails on a non-zero exit.</summary>
    public static async Task<string> RunPythonAsync(string script, params string[] args)
    {
        string dir = Directory.CreateTempSubdirectory("drp-py-").FullName;
        try
        {
            string scriptPath = Path.Combine(dir, "script.py");
            await File.WriteAllTextAsync(scriptPath, script);
            var result = await ExternalTool.RunAsync(Python, [scriptPath, .. args], "python3-astropy", TimeSpan.FromMinutes(2));
            if (result.StandardError.Contains("No module named 'astropy'", StringComparison.Ordinal))
            {
                Assert.Fail($"astropy is missing for {Python}: install the Debian package python3-astropy");
            }
            Assert.True(result.ExitCode == 0, result.ToString());
            return result.StandardOutput;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs fitsverify on a file and returns (errors, warnings, full report).</summary>
    public static async Task<(int Errors, int Warnings, string Report)> RunFitsVerifyAsync(string path)
    {
        var result = await ExternalTool.RunAsync(FitsVerify, [path], "fitsverify");
        string report = result.StandardOutput + result.StandardError;
        // The verdict reads "**** Verification found N warning(s) and M error(s). ****".
        var match = Regex.Match(report, @"Verification found (\d+) warning\(s\) and (\d+) error\(s\)");
        Assert.True(match.Success, $"fitsverify gave no verdict for {path}:\n{report}");
        return (int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), report);
    }

    /// <summary>Writes rows of numbers as whitespace-separated text, the format the Python scripts read with numpy.loadtxt.</summary>
    public static void WriteColumns(string path, IEnumerable<double[]> rows)
    {
        var sb = new StringBuilder();
        foreach (double[] row in rows)
        {
            sb.AppendJoin(' ', row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        }
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>Parses whitespace-separated rows of numbers.</summary>
    public static double[][] ParseColumns(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(t => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
}
