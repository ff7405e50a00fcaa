using System.Diagnostics;
using Xunit.Abstractions;

namespace Drp.Local.Tests;

/// <summary>A running Drp.Local.TestWorker process: the engine with the test tasks, in a process a test can kill.</summary>
internal sealed class TestWorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestWorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public static TestWorkerProcess Start(ITestOutputHelper output, string name, string connectionString,
        string taskHub, string ledgerFolder, int maxConcurrentActivities)
    {
        var worker = Path.Combine(AppContext.BaseDirectory, "Drp.Local.TestWorker.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", worker, connectionString, taskHub, ledgerFolder, $"{maxConcurrentActivities}" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        var handle = new TestWorkerProcess(process);
        DataReceivedEventHandler forward = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.Contains("TESTWORKER READY", StringComparison.Ordinal))
            {
                handle._ready.TrySetResult();
            }

            try
            {
                output.WriteLine($"[{name}] {e.Data}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished.
            }
        };
        process.OutputDataReceived += forward;
        process.ErrorDataReceived += forward;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => handle._ready.TrySetException(
            new InvalidOperationException($"{name} exited with code {process.ExitCode} before it was ready"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return handle;
    }

    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    /// <summary>SIGKILL on Unix (TerminateProcess on Windows): no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
