using System.Diagnostics;

namespace Drp.Pipeline.Tests.Tools;

/// <summary>The outcome of an external process: exit code and everything it printed.</summary>
public sealed record ExternalToolResult(string FileName, IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>A one-paragraph account for assertion messages.</summary>
    public override string ToString() =>
        $"{FileName} {string.Join(' ', Arguments)} exited with {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Runs reference tools (fitsverify, Debian's python3 with astropy, ...) from tests. A missing tool fails the test
/// with the Debian package to install: CI installs them, so a silent skip would hide a broken environment.
/// </summary>
public static class ExternalTool
{
    /// <summary>Debian's own interpreter, which has python3-astropy; the python3 on PATH may be a pyenv without it.</summary>
    public const string DebianPython = "/usr/bin/python3";

    /// <summary>Fails (throws) unless <paramref name="path"/> exists, naming the Debian package that provides it.</summary>
    public static void Require(string path, string debianPackage)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} is missing: install the Debian package with 'apt-get install -y {debianPackage}'");
        }
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> with the arguments, waits at most <paramref name="timeout"/> (default one
    /// minute) and returns its exit code and output. Throws when the tool is missing or does not finish in time.
    /// </summary>
    public static async Task<ExternalToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string debianPackage,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        CancellationToken cancellationToken = default)
    {
        Require(fileName, debianPackage);
        var args = arguments.ToList();
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"{fileName} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout ?? TimeSpan.FromMinutes(1)}");
        }
        return new ExternalToolResult(fileName, args, process.ExitCode, await stdout, await stderr);
    }
}
