using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Drp.Infra.Tests;

/// <summary>The repository root and the Bicep CLI of the NuGet package, both recorded at build time.</summary>
public static class Repo
{
    /// <summary>Absolute path of the repository root (ends with a separator).</summary>
    public static string Root { get; } = Metadata("RepoRoot");

    /// <summary>Path of a file or folder under the repository root.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The self-contained bicep executable from Azure.Bicep.CommandLine.linux-x64 (tools/bicep).</summary>
    public static string BicepCli { get; } = Metadata("BicepCli");

    private static string Metadata(string key) =>
        typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"assembly metadata {key} is empty");
}

/// <summary>The result of a process run: exit code and both streams.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Everything the process printed, for assertion messages.</summary>
    public string Output => StdOut + StdErr;
}

/// <summary>Runs external tools (bicep, dotnet) with a timeout.</summary>
public static class Tool
{
    /// <summary>Runs bicep with the given arguments; makes the packaged binary executable first if NuGet did not.</summary>
    public static Task<ProcessResult> BicepAsync(params string[] args)
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(Repo.BicepCli);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(Repo.BicepCli, mode | UnixFileMode.UserExecute);
            }
        }
        return RunAsync(Repo.BicepCli, args, Repo.Root, TimeSpan.FromMinutes(3));
    }

    /// <summary>Runs a process to completion, capturing its output; kills it when the timeout passes.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        // Bicep: no telemetry, no update checks from CI.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish in {timeout}");
        }
        process.WaitForExit(); // drains the redirected streams
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
