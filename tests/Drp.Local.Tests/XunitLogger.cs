using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Drp.Local.Tests;

/// <summary>Writes log lines to the test's output (shown for failed tests and with detailed verbosity).</summary>
internal sealed class XunitLoggerProvider(ITestOutputHelper output, LogLevel minimum = LogLevel.Information)
    : ILoggerProvider
{
    // Per-item lines of the worker and client, and the host's banner, drown the engine's own lines.
    private static readonly string[] QuietPrefixes =
        ["Microsoft.DurableTask.Worker", "Microsoft.DurableTask.Client", "Microsoft.Hosting"];

    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, categoryName,
        QuietPrefixes.Any(p => categoryName.StartsWith(p, StringComparison.Ordinal)) ? LogLevel.Warning : minimum);

    public void Dispose()
    {
    }

    private sealed class XunitLogger(ITestOutputHelper output, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}" +
                                 (exception is null ? "" : Environment.NewLine + exception));
            }
            catch (InvalidOperationException)
            {
                // Logged after the test finished (background work of a stopping host).
            }
        }
    }
}
