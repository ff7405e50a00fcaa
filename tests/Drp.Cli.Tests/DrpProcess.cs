using System.Diagnostics;

namespace Drp.Cli.Tests;

/// <summary>Runs a program (the built <c>drp</c>, fitsverify, Debian's python3) and captures its output.</summary>
internal static class DrpProcess
{
    public static string DrpDll => Path.Combine(AppContext.BaseDirectory, "drp.dll");

    public static Task<(int Exit, string Out, string Err)> RunDrpAsync(params string[] args) =>
        RunAsync("dotnet", [DrpDll, .. args]);

    /// <summary>The built <c>drp</c> with extra environment variables (e.g. <c>Drp__Storage__ConnectionString</c>).</summary>
    public static Task<(int Exit, string Out, string Err)> RunDrpWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync("dotnet", [DrpDll, .. args], environment: environment);

    public static async Task<(int Exit, string Out, string Err)> RunAsync(string file, IEnumerable<string> args, string? missingPackage = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e) when (missingPackage is not null)
        {
            throw new InvalidOperationException($"{file} is not installed: apt-get install -y {missingPackage}", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
            await p.WaitForExitAsync(cts.Token);
            return (p.ExitCode, await stdout, await stderr);
        }
    }
}
