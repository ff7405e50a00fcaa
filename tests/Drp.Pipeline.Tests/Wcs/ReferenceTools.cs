using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Drp.Pipeline.Tests.Wcs;

/// <summary>
/// Runs the reference tools the WCS and simulation tests compare against: Debian's python3 with astropy
/// (package python3-astropy) and fitsverify (package fitsverify). A missing tool fails the test and names the package.
/// </summary>
internal static class ReferenceTools
{
    /// <summary>Debian's interpreter, which has python3-astropy; the python3 on PATH may be another one without it.</summary>
    public const string Python = "/usr/bin/python3";

    public const string FitsVerify = "/usr/bin/fitsverify";

    /// <summary>Runs a Python script with Debian's python3 and returns its standard output; fails on a non-zero exit.</summary>
    public static string RunPython(string script, params string[] args)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: install the Debian packages python3 and python3-astropy");
        string dir = Directory.CreateTempSubdirectory("drp-py-").FullName;
        try
        {
            string scriptPath = Path.Combine(dir, "script.py");
            File.WriteAllText(scriptPath, script);
            var (exit, stdout, stderr) = Run(Python, [scriptPath, .. args]);
            if (stderr.Contains("No module named 'astropy'", StringComparison.Ordinal))
            {
                Assert.Fail($"astropy is missing for {Python}: install the Debian package python3-astropy");
            }
            Assert.True(exit == 0, $"python exited with {exit}: {stderr}");
            return stdout;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs fitsverify on a file and returns (errors, warnings, full report).</summary>
    public static (int Errors, int Warnings, string Report) RunFitsVerify(string path)
    {
        Assert.True(File.Exists(FitsVerify), $"{FitsVerify} is missing: install the Debian package fitsverify");
        var (_, stdout, stderr) = Run(FitsVerify, [path]);
        string report = stdout + stderr;
        // The last line reads "**** Verification found N warning(s) and M error(s). ****".
        var match = System.Text.RegularExpressions.Regex.Match(report, @"Verification found (\d+) warning\(s\) and (\d+) error\(s\)");
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

    private static (int Exit, string Stdout, string Stderr) Run(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish within 2 minutes");
        }
        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
