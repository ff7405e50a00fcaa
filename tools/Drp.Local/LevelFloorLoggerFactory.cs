using Microsoft.Extensions.Logging;

namespace Drp.Local;

/// <summary>
/// Passes loggers through from an inner factory, but raises the minimum level of the chatty infrastructure
/// categories (the Durable Task backend, ASP.NET Core, gRPC): at Information they log every queue message and
/// every gRPC call. The application's own categories are untouched.
/// </summary>
internal sealed class LevelFloorLoggerFactory(ILoggerFactory inner, LogLevel floor) : ILoggerFactory
{
    private static readonly string[] NoisyPrefixes =
        ["DurableTask.", "Microsoft.AspNetCore", "Grpc.", "Microsoft.Hosting", "Microsoft.Extensions.Hosting"];

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return NoisyPrefixes.Any(p => categoryName.StartsWith(p, StringComparison.Ordinal))
            ? new FlooredLogger(logger, floor)
            : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The inner factory belongs to the application.
    public void Dispose()
    {
    }

    private sealed class FlooredLogger(ILogger inner, LogLevel floor) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= floor && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
