using System.Diagnostics;
using Xunit.Abstractions;

namespace Drp.EndToEnd.Tests;

/// <summary>
/// A real process of one of our built programs (drp.dll, Drp.Jobs.dll, copied beside the tests), its output in the
/// test log; disposed = killed with SIGKILL, as when a node dies.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private ChildProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Starts <c>dotnet {dll} {args}</c> with the environment variables given.</summary>
    public static ChildProcess Start(ITestOutputHelper output, string name, string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => Log(output, name, e.Data);
        p.ErrorDataReceived += (_, e) => Log(output, name, e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new ChildProcess(p);
    }

    /// <summary>A <c>drp worker</c> (the local host: engine, activities, arrivals and completions listeners) on a task hub.</summary>
    public static ChildProcess DrpWorker(ITestOutputHelper output, string name, string connectionString, string taskHub,
        IReadOnlyDictionary<string, string>? settings = null) =>
        Start(output, name, "drp.dll", ["worker", "--task-hub", taskHub],
            new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["Drp__Storage__ConnectionString"] = connectionString });

    private static void Log(ITestOutputHelper output, string name, string? line)
    {
        if (line is null)
        {
            return;
        }
        try
        {
            output.WriteLine($"[{name}] {line}");
        }
        catch (InvalidOperationException)
        {
            // the test has finished; the process's last words go nowhere
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_disposed && !_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _disposed = true;
        _process.Dispose();
    }

    /// <summary>Polls <paramref name="condition"/> every 250 ms until it holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        while (!await condition())
        {
            await Task.Delay(250, ct);
        }
    }
}
